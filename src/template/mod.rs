//! The Excel financial template (trame de l'état financier, SPEC.md §9): export of one statement
//! (candidate × domain) as an `.xlsx`, import of a filled template back into changes.
//!
//! - [`model`]: the input model, a plain data structure the ledger's read side fills;
//! - [`export::plan_workbook`] lays it out (cells, formulas with cached results, styles), and
//!   [`render::render`] writes it with rust_xlsxwriter;
//! - [`import::import_workbook`] reads a filled template with calamine;
//! - [`proof`] signs a workbook and compares an uploaded one with the workbook the ledger regenerates;
//! - [`bench::run_bench`] compares the exporter with Python's XlsxWriter writing the same plan.
pub mod bench;
pub mod dump;
pub mod export;
pub mod import;
pub mod layout;
pub mod model;
pub mod plan;
pub mod proof;
pub mod render;
pub mod sample;
pub mod source;

pub use import::{import_workbook, CellError, LineFields, LineKind, TemplateChange};
pub use model::TemplateModel;

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("écriture du classeur impossible : {0}")]
    Write(#[from] rust_xlsxwriter::XlsxError),
}

/// The `.xlsx` of one statement, as bytes.
pub fn export_workbook(model: &TemplateModel) -> Result<Vec<u8>, TemplateError> {
    Ok(render::render(&export::plan_workbook(model))?)
}

/// The `.xlsx` of one statement, signed with the service's key when one is given (see [`proof`]).
pub fn export_signed(
    model: &TemplateModel,
    signer: Option<&crate::signing::Signer>,
) -> Result<Vec<u8>, TemplateError> {
    let mut plan = export::plan_workbook(model);
    if let Some(signer) = signer {
        proof::seal_plan(&mut plan, signer);
    }
    Ok(render::render(&plan)?)
}
