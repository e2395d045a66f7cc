//! Provable workbooks through the ledger (issue 16 §3): a workbook is made from the ledger read at one
//! global position (every input bounded by it), named in the file and bound by its signature, so
//! `verify-export` regenerates the very same workbook for the same viewer and lists every cell that
//! differs.

use super::ledger::{
    statement_stream, Access, CandidateBase, Ledger, LedgerError, CANDIDATES_STREAM,
    STATEMENT_STREAM_PREFIX,
};
use super::payroll_service::{payroll_flag_inputs_of, payroll_stream, PayrollBook};
use super::repository::Repository;
use crate::actor::{Actor, Role};
use crate::domain::statement::flags::establishment_view;
use crate::domain::statement::{FlagInputs, ForeignInvoice, LineContent, Statement};
use crate::domain::{DomainId, Finess};
use crate::signing::{PublicKey, Signer};
use crate::store::ReadBound;
use crate::template::export::viewer_label;
use crate::template::layout;
use crate::template::model::{TemplateModel, ViewerRole};
use crate::template::proof::{self, Difference, SignatureCheck};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// What `verify-export` found: what the workbook says it is, its signature, and every difference with
/// the workbook the ledger regenerates from the same position for the same viewer.
#[derive(Debug, Clone, Serialize)]
pub struct ExportVerification {
    pub finess: String,
    pub domain: String,
    /// The viewer the workbook was made for (`établissement`, `contrôleur`, `paiement`).
    pub viewer: String,
    /// `courante`, or the as-of instant (RFC 3339).
    pub as_of: String,
    pub read_position: i64,
    /// The statement's last event in the workbook, and its global hash.
    pub ledger_position: String,
    pub head_hash: String,
    pub generated_at: String,
    pub layout_version: String,
    pub signature: SignatureCheck,
    /// True when the workbook shows exactly what the ledger shows at its position (no difference)
    /// and its signature, if any, is not invalid.
    pub matches_ledger: bool,
    pub differences: Vec<Difference>,
    /// Differences beyond the ones listed.
    pub differences_not_listed: usize,
    /// The statement's version in the workbook, and today's when it has changed since.
    pub statement_version: i64,
    pub statement_version_now: Option<i64>,
    /// The verdict in one French sentence.
    pub verdict_fr: String,
}

fn invalid(message: String) -> LedgerError {
    LedgerError::InvalidFile {
        file: "classeur".into(),
        message,
    }
}

/// The viewer a workbook names, from its `Destinataire` property.
pub fn viewer_from_label(label: &str) -> Option<ViewerRole> {
    [
        ViewerRole::Establishment,
        ViewerRole::Controller,
        ViewerRole::PaymentDesk,
    ]
    .into_iter()
    .find(|v| viewer_label(*v) == label.trim())
}

fn role_of(viewer: ViewerRole) -> Role {
    match viewer {
        ViewerRole::Establishment => Role::Etablissement,
        ViewerRole::Controller => Role::Controleur,
        ViewerRole::PaymentDesk => Role::Paiement,
    }
}

/// Whether a caller may have the ledger regenerate a workbook made for `viewer`: never one showing
/// more than the caller sees (an establishment's workbook hides the controller-only flags).
fn may_verify(caller: Role, viewer: ViewerRole) -> bool {
    match caller {
        Role::Controleur | Role::Admin => true,
        Role::Paiement => matches!(viewer, ViewerRole::PaymentDesk | ViewerRole::Establishment),
        Role::Etablissement => viewer == ViewerRole::Establishment,
    }
}

/// The active invoices of other candidates' statements, in stream id then line order (the order the
/// duplicate-invoice flag lists them in).
fn invoices_of(statement: &Statement, own: &Finess) -> Vec<ForeignInvoice> {
    let Some(candidate) = statement.candidate.as_ref().filter(|c| *c != own) else {
        return Vec::new();
    };
    statement
        .active_lines()
        .filter_map(|line| match &line.content {
            LineContent::External(invoice) => Some(ForeignInvoice {
                candidate: candidate.clone(),
                line_id: line.id.clone(),
                supplier: invoice.supplier.clone(),
                invoice_number: invoice.invoice_number.clone(),
            }),
            _ => None,
        })
        .collect()
}

impl Ledger {
    /// The workbook model of a statement with every input read at global position `read_position`:
    /// the statement (also bounded by `as_of`), the candidate base, the candidate's payroll book and
    /// the other statements' invoices. The same position, viewer and instant always give the same
    /// workbook.
    pub async fn template_model_at(
        &self,
        access: &Access,
        finess: &Finess,
        domain: DomainId,
        as_of: Option<DateTime<Utc>>,
        read_position: i64,
        generated_at: DateTime<Utc>,
    ) -> Result<TemplateModel, LedgerError> {
        let not_found_candidate = || LedgerError::NotFound(format!("candidat {finess}"));
        let not_found_statement =
            || LedgerError::NotFound(format!("état financier {finess} {domain}"));
        if !access.may_see(finess) {
            return Err(not_found_candidate());
        }
        let heads: BTreeMap<String, i64> = self
            .store()
            .stream_heads(read_position)
            .await?
            .into_iter()
            .map(|(stream, version, _)| (stream, version))
            .collect();
        let version_at = |stream: &str| heads.get(stream).copied().unwrap_or(0);

        let candidates_version = version_at(CANDIDATES_STREAM);
        if candidates_version == 0 {
            return Err(not_found_candidate());
        }
        let (_, base) = Repository::<CandidateBase>::new(self.store().clone())
            .load_as_of(
                CANDIDATES_STREAM,
                ReadBound::up_to_version(candidates_version),
            )
            .await?;
        let candidate = base
            .candidates
            .get(finess)
            .cloned()
            .ok_or_else(not_found_candidate)?;

        let stream = statement_stream(finess, domain);
        let statement_version = version_at(&stream);
        if statement_version == 0 {
            return Err(not_found_statement());
        }
        let (version, state) = self
            .statements
            .load_as_of(
                &stream,
                ReadBound {
                    up_to_version: Some(statement_version),
                    as_of,
                },
            )
            .await?;
        if version == 0 {
            return Err(not_found_statement());
        }

        let payroll = payroll_stream(finess);
        let payroll_version = version_at(&payroll);
        let book = if payroll_version == 0 {
            PayrollBook::default()
        } else {
            self.payroll
                .load_as_of(&payroll, ReadBound::up_to_version(payroll_version))
                .await?
                .1
        };
        let (payroll_recaps, anonymisation_key) = payroll_flag_inputs_of(&book);

        // Other candidates' invoices only raise controller-only flags: an establishment never needs
        // them.
        let mut other_invoices = Vec::new();
        if access.actor.role != Role::Etablissement {
            for (other, other_version) in heads
                .iter()
                .filter(|(s, _)| s.starts_with(STATEMENT_STREAM_PREFIX) && **s != stream)
            {
                let (_, other_state) = self
                    .statements
                    .load_as_of(other, ReadBound::up_to_version(*other_version))
                    .await?;
                other_invoices.extend(invoices_of(&other_state, finess));
            }
        }

        let inputs = FlagInputs {
            declaration_date: state.declaration_date,
            payroll_recaps,
            anonymisation_key,
            other_invoices,
        };
        let mut view = self.view_of(
            &candidate,
            domain,
            stream.clone(),
            version,
            as_of,
            state,
            inputs,
        );
        if access.actor.role == Role::Etablissement {
            view.flags = establishment_view(view.flags);
        }
        let last = self
            .store()
            .read_stream(&stream, ReadBound::up_to_version(version))
            .await?
            .pop()
            .ok_or_else(not_found_statement)?;
        Ok(super::template_map::template_model(
            &view,
            self.catalogue().domain(domain),
            access.actor.role,
            last.position,
            &last.global_hash,
            read_position,
            generated_at,
        ))
    }

    /// The statement's workbook read at the ledger's current head, signed with `signer` when given.
    pub async fn export_template_signed(
        &self,
        access: &Access,
        finess: &Finess,
        domain: DomainId,
        as_of: Option<DateTime<Utc>>,
        signer: Option<&Signer>,
    ) -> Result<(Vec<u8>, TemplateModel), LedgerError> {
        let read_position = self.store().head().await?.map(|h| h.position).unwrap_or(0);
        let generated_at = self.store().clock().now();
        let model = self
            .template_model_at(access, finess, domain, as_of, read_position, generated_at)
            .await?;
        let bytes = crate::template::export_signed(&model, signer)
            .map_err(|e| LedgerError::Export(e.to_string()))?;
        Ok((bytes, model))
    }

    /// Verifies an exported workbook (`verify-export`): reads it within bounds (at most `max_bytes`),
    /// checks its signature with the trusted public keys, regenerates the workbook at its position for
    /// its viewer, and lists every cell that differs. The caller reaches only what it may see: its own
    /// candidate for an establishment, and never a workbook made for a viewer who sees more.
    pub async fn verify_export(
        &self,
        access: &Access,
        bytes: &[u8],
        max_bytes: usize,
        keys: &[PublicKey],
    ) -> Result<ExportVerification, LedgerError> {
        let file = proof::read_workbook(bytes, max_bytes).map_err(|e| invalid(e.to_string()))?;
        let property = |name: &str| -> Result<String, LedgerError> {
            file.property(name).map(str::to_string).ok_or_else(|| {
                invalid(format!(
                    "propriété « {name} » absente : ce n'est pas une trame exportée par le service"
                ))
            })
        };
        let bad = |name: &str, value: &str| {
            invalid(format!("propriété « {name} » illisible : « {value} »"))
        };
        let layout_version = property(layout::PROPERTY_LAYOUT_VERSION)?;
        let finess_text = property(layout::PROPERTY_FINESS)?;
        let finess =
            Finess::parse(&finess_text).map_err(|_| bad(layout::PROPERTY_FINESS, &finess_text))?;
        let domain_text = property(layout::PROPERTY_DOMAIN)?;
        let domain = DomainId::parse(&domain_text)
            .map_err(|_| bad(layout::PROPERTY_DOMAIN, &domain_text))?;
        // Nothing about a candidate the caller may not see, not even whether the workbook is right.
        if !access.may_see(&finess) {
            return Err(LedgerError::NotFound(format!("candidat {finess}")));
        }
        let viewer_text = property(layout::PROPERTY_VIEWER)?;
        let viewer = viewer_from_label(&viewer_text)
            .ok_or_else(|| bad(layout::PROPERTY_VIEWER, &viewer_text))?;
        if !may_verify(access.actor.role, viewer) {
            return Err(LedgerError::Forbidden {
                role: access.actor.role,
                action: "vérifier un classeur établi pour un rôle qui en voit davantage",
            });
        }
        let as_of_text = property(layout::PROPERTY_AS_OF)?;
        let as_of = if as_of_text == layout::AS_OF_CURRENT {
            None
        } else {
            Some(
                DateTime::parse_from_rfc3339(&as_of_text)
                    .map_err(|_| bad(layout::PROPERTY_AS_OF, &as_of_text))?
                    .with_timezone(&Utc),
            )
        };
        let generated_text = property(layout::PROPERTY_GENERATED_AT)?;
        let generated_at = DateTime::parse_from_rfc3339(&generated_text)
            .map_err(|_| bad(layout::PROPERTY_GENERATED_AT, &generated_text))?
            .with_timezone(&Utc);
        let read_text = property(layout::PROPERTY_READ_POSITION)?;
        let read_position: i64 = read_text
            .parse()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| bad(layout::PROPERTY_READ_POSITION, &read_text))?;
        let head = self.store().head().await?.map(|h| h.position).unwrap_or(0);
        if read_position > head {
            return Err(invalid(format!(
                "position de lecture {read_position} inconnue du registre (dernière position \
                 {head}) : ce classeur ne vient pas de ce registre"
            )));
        }
        if layout_version != layout::LAYOUT_VERSION {
            return Err(invalid(format!(
                "trame de version {layout_version} : ce service régénère la version {} et ne peut \
                 pas comparer celle-ci",
                layout::LAYOUT_VERSION
            )));
        }
        let ledger_position = property(layout::PROPERTY_POSITION)?;
        let head_hash = property(layout::PROPERTY_HEAD_HASH)?;

        let signature = file.check_signature(keys);
        let regenerate_as = Access::new(
            Actor {
                role: role_of(viewer),
                id: access.actor.id.clone(),
            },
            // The caller may see this candidate (checked above): an establishment's workbook is
            // regenerated as that establishment sees it.
            Some(finess.clone()),
        );
        let model = self
            .template_model_at(
                &regenerate_as,
                &finess,
                domain,
                as_of,
                read_position,
                generated_at,
            )
            .await?;
        let plan = crate::template::export::plan_workbook(&model);
        let (mut differences, mut not_listed) =
            proof::compare(&proof::cells_of_plan(&plan), &file.sheets);
        for (name, value) in [
            (layout::PROPERTY_POSITION, &ledger_position),
            (layout::PROPERTY_HEAD_HASH, &head_hash),
        ] {
            let expected = plan
                .properties
                .custom
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            if &expected != value {
                let d = Difference {
                    sheet: "propriétés du classeur".into(),
                    cell: Some(name.to_string()),
                    ledger: Some(expected.clone()),
                    file: Some(value.clone()),
                    message_fr: format!(
                        "propriété « {name} » : « {value} » dans le fichier, « {expected} » au \
                         registre"
                    ),
                };
                if differences.len() < proof::MAX_DIFFERENCES {
                    differences.push(d);
                } else {
                    not_listed += 1;
                }
            }
        }

        let stream = statement_stream(&finess, domain);
        let statement_version = self
            .store()
            .stream_heads(read_position)
            .await?
            .into_iter()
            .find(|(s, _, _)| *s == stream)
            .map(|(_, v, _)| v)
            .unwrap_or(0);
        let now = self.store().stream_version(&stream).await?;
        let statement_version_now = (now != statement_version).then_some(now);

        let total = differences.len() + not_listed;
        let matches_ledger = total == 0 && !matches!(signature, SignatureCheck::Invalid { .. });
        let at = format!(
            "registre à la position {read_position}, classeur établi pour le rôle {viewer_text}{}",
            match as_of {
                Some(t) => format!(", situation au {}", crate::template::export::paris_time(t)),
                None => String::new(),
            }
        );
        let mut verdict_fr = if total == 0 {
            format!(
                "Conforme : le classeur montre exactement les chiffres du {at} ; {}.",
                signature.text_fr()
            )
        } else {
            format!(
                "NON CONFORME : {total} différence(s) avec le {at} ; {}.",
                signature.text_fr()
            )
        };
        if total == 0 && !matches_ledger {
            verdict_fr = format!(
                "NON CONFORME : les cellules sont celles du {at}, mais {}.",
                signature.text_fr()
            );
        }
        if let Some(now) = statement_version_now {
            verdict_fr.push_str(&format!(
                " L'état financier a changé depuis (version {now} aujourd'hui, {statement_version} \
                 dans le classeur) : ce classeur n'en est plus la situation courante."
            ));
        }
        Ok(ExportVerification {
            finess: finess.to_string(),
            domain: domain.to_string(),
            viewer: viewer_text,
            as_of: as_of_text,
            read_position,
            ledger_position,
            head_hash,
            generated_at: generated_text,
            layout_version,
            signature,
            matches_ledger,
            differences,
            differences_not_listed: not_listed,
            statement_version,
            statement_version_now,
            verdict_fr,
        })
    }
}
