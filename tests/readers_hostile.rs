//! Every workbook reader (payroll recaps, the financial template and its identity peek, the candidate
//! base) survives the far-cell and bomb files: a clear French error naming the sheet, refused before
//! anything is allocated for the far cell's extent (without the bound, each of these files makes the
//! reader ask for 16 GB to 550 GB and the process abort).

mod hostile;

use care_ledger::import::read_candidates_xlsx;
use care_ledger::payroll::{import_bytes, Limits, PayrollError, RubriqueRules};
use care_ledger::sheet::{Format, SheetError, Workbook};
use care_ledger::template::import::{import_workbook, peek_identity};
use hostile::{far_cell_ods, far_cell_spreadsheetml, far_cell_xlsx, pos, xls};

fn payroll(name: &str, bytes: &[u8]) -> PayrollError {
    import_bytes(
        name,
        bytes,
        &RubriqueRules::load_default(),
        &Limits::default(),
    )
    .expect_err(name)
}

fn template_model() -> care_ledger::template::model::TemplateModel {
    care_ledger::template::model::TemplateModel::sample()
}

/// The three far cells of the security review: A1 with XFD1048576 (16 384 columns), BXX1048576 (2 000
/// columns, under the column limit: refused by its extent) and, for payroll, SS1000000.
const FAR: [&str; 3] = ["XFD1048576", "BXX1048576", "SS1000000"];

#[test]
fn the_far_cell_files_are_about_one_and_a_half_kilobytes() {
    for far in FAR {
        let bytes = far_cell_xlsx("Feuil1", "x", far);
        assert!(bytes.len() < 2_000, "{far}: {} bytes", bytes.len());
    }
    assert_eq!(pos("BXX1048576"), (1_048_575, 1_999));
}

#[test]
fn a_payroll_recap_with_a_far_cell_is_refused_naming_its_sheet() {
    for far in FAR {
        let bytes = far_cell_xlsx("Feuil1", "Période du 01/01/2024 au 31/12/2024", far);
        let err = payroll("recap.xlsx", &bytes);
        assert!(
            matches!(
                &err,
                PayrollError::TooManyColumns { sheet, .. } if sheet == "Feuil1"
            ) || matches!(&err, PayrollError::TooManyCells(e) if e.sheet() == Some("Feuil1")),
            "{far}: {err}"
        );
        assert!(err.to_string().starts_with("feuille « Feuil1 »"), "{err}");
    }
    let err = payroll("recap.xlsx", &far_cell_xlsx("Feuil1", "x", "SS1000000"));
    assert_eq!(
        err.to_string(),
        "feuille « Feuil1 » : 513000000 cellules (de sa première à sa dernière cellule remplie, \
         1000000 lignes × 513 colonnes), au-delà du maximum de 12000000 ; effacez les cellules \
         éloignées du tableau ou scindez le fichier"
    );
}

#[test]
fn a_far_cell_behind_a_small_declared_dimension_is_refused_too() {
    // The sheet declares A1:B2 and holds a cell at BXX1048576: the real extent is what counts.
    let bytes = hostile::xlsx(&[(
        "Feuil1",
        vec![
            ("A1", hostile::V::S("x")),
            ("BXX1048576", hostile::V::N(1.0)),
        ],
        Some("A1:B2"),
    )]);
    let err = payroll("recap.xlsx", &bytes);
    assert!(matches!(&err, PayrollError::TooManyCells(_)), "{err}");
    // A huge declared dimension is refused before the cells are read.
    let bytes = hostile::xlsx(&[(
        "Feuil1",
        vec![("A1", hostile::V::S("x"))],
        Some("A1:BXX1048576"),
    )]);
    let err = payroll("recap.xlsx", &bytes);
    assert!(matches!(&err, PayrollError::TooManyCells(_)), "{err}");
}

#[test]
fn the_same_cell_written_again_and_again_is_bounded_by_the_cell_limit() {
    let cells: Vec<(&str, hostile::V<'_>)> = (0..50).map(|_| ("B2", hostile::V::N(1.0))).collect();
    let bytes = hostile::xlsx(&[("Feuil1", cells, Some("A1"))]);
    let limits = Limits {
        max_cells: 20,
        ..Limits::default()
    };
    let err = Workbook::open("x.xlsx", &bytes, &limits, &[Format::Xlsx])
        .and_then(|wb| wb.read_all())
        .unwrap_err();
    assert!(matches!(err, SheetError::TooManyCells { .. }), "{err}");
}

#[test]
fn a_template_with_a_far_cell_is_refused_by_the_identity_peek_and_the_import() {
    for far in ["XFD1048576", "BXX1048576"] {
        let bytes = far_cell_xlsx("Synthèse", "x", far);
        let err = peek_identity(&bytes).unwrap_err();
        assert_eq!(err.sheet, "Synthèse", "{far}: {err}");
        assert!(err.message_fr.starts_with("feuille « Synthèse »"), "{err}");
        let errors = import_workbook(&bytes, &template_model()).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].sheet, "Synthèse", "{far}");
        assert!(errors[0].message_fr.contains("lignes"), "{:?}", errors[0]);
        let bytes = far_cell_xlsx("Coûts externes", "x", far);
        let errors = import_workbook(&bytes, &template_model()).unwrap_err();
        assert_eq!(errors[0].sheet, "Coûts externes", "{far}");
    }
}

#[test]
fn a_candidate_base_with_a_far_cell_is_refused_naming_its_sheet() {
    for far in ["XFD1048576", "BXX1048576", "SS1000000"] {
        let bytes = far_cell_xlsx("Candidats", "candidate_finess", far);
        let err = read_candidates_xlsx("base.xlsx", &bytes).unwrap_err();
        assert!(
            err.to_string().contains("feuille « Candidats »"),
            "{far}: {err}"
        );
    }
}

#[test]
fn an_ods_with_a_far_cell_is_refused_before_calamine_expands_its_repeats() {
    let err = payroll("recap.ods", &far_cell_ods("Feuil1", 1_048_575, 16_383));
    assert!(err.to_string().contains("feuille « Feuil1 »"), "{err}");
    let err = payroll("recap.ods", &far_cell_ods("Feuil1", 1_000_000, 1_000));
    assert!(err.to_string().contains("feuille « Feuil1 »"), "{err}");
    // A near cell reads as usual (the scan refuses only what is beyond the limits).
    let limits = Limits::default();
    let sheets = Workbook::open(
        "ok.ods",
        &far_cell_ods("Feuil1", 3, 2),
        &limits,
        &[Format::Ods],
    )
    .and_then(|wb| wb.read_all())
    .unwrap();
    assert_eq!(sheets[0].get_abs(3, 2), &calamine::Data::Float(1.0));
}

#[test]
fn an_xls_with_a_far_cell_or_a_lying_dimension_is_refused_before_calamine_reads_it() {
    let far = xls(
        "Feuil1",
        &[(0, 0, 1.0), (65_535, 255, 2.0)],
        (0, 65_536, 0, 256),
    );
    let err = payroll("recap.xls", &far);
    assert!(err.to_string().contains("feuille « Feuil1 »"), "{err}");
    // A dimension calamine would reserve room for (4 billion rows) without any cell there.
    let lying = xls("Feuil1", &[(0, 0, 1.0)], (0, 4_000_000_000, 0, 200));
    let err = payroll("recap.xls", &lying);
    assert!(err.to_string().contains("feuille « Feuil1 »"), "{err}");
    // A dimension whose end precedes its start (calamine would underflow).
    let reversed = xls("Feuil1", &[(0, 0, 1.0)], (10, 5, 0, 1));
    let err = payroll("recap.xls", &reversed);
    assert!(matches!(err, PayrollError::Corrupt { .. }), "{err}");
    // A small xls reads through the same path.
    let small = xls("Feuil1", &[(0, 0, 1.0), (2, 3, 4.5)], (0, 3, 0, 4));
    let sheets = Workbook::open("ok.xls", &small, &Limits::default(), &[Format::Xls])
        .and_then(|wb| wb.read_all())
        .unwrap();
    assert_eq!(sheets[0].name, "Feuil1");
    assert_eq!(sheets[0].get_abs(2, 3), &calamine::Data::Float(4.5));
}

#[test]
fn a_spreadsheetml_file_with_a_far_cell_is_refused() {
    let err = payroll(
        "recap.xml",
        &far_cell_spreadsheetml("Feuil1", 1_048_575, 16_383),
    );
    assert!(err.to_string().contains("feuille « Feuil1 »"), "{err}");
}

#[test]
fn a_bomb_of_many_small_entries_is_refused_by_every_reader() {
    // 900 entries of 1 MB of XML, each under the size below which one entry's ratio is not checked:
    // about 2.3 MB holding 900 MB.
    let bomb = hostile::bomb_xlsx(900, 1_000_000);
    assert!(bomb.len() < 3_000_000, "{} bytes", bomb.len());
    let err = payroll("bombe.xlsx", &bomb);
    assert!(
        matches!(err, PayrollError::DecompressionBomb { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("rapport"), "{err}");
    let err = peek_identity(&bomb).unwrap_err();
    assert!(err.message_fr.contains("bombe de décompression"), "{err}");
    let errors = import_workbook(&bomb, &template_model()).unwrap_err();
    assert!(errors[0].message_fr.contains("bombe de décompression"));
    let err = read_candidates_xlsx("base.xlsx", &bomb).unwrap_err();
    assert!(err.to_string().contains("bombe de décompression"), "{err}");
}

/// Sets FAT entry `sector` of a compound file to `next`.
fn set_fat(bytes: &mut [u8], sector: u32, next: u32) {
    let shift = u16::from_le_bytes([bytes[30], bytes[31]]);
    let size = 1usize << shift;
    let header = size.max(512);
    let fat0 = u32::from_le_bytes([bytes[76], bytes[77], bytes[78], bytes[79]]) as usize;
    let at = header + fat0 * size + sector as usize * 4;
    bytes[at..at + 4].copy_from_slice(&next.to_le_bytes());
}

#[test]
fn regression_an_xls_whose_sector_chain_loops_is_refused_before_calamine_walks_it() {
    // Found by `the_ods_and_xls_scans_survive_mutated_hostile_files`: a mutated xls made calamine's
    // compound-file reader follow a chain forever (8 GiB asked, the process aborted).
    let mut bytes = xls("Feuil1", &[(0, 0, 1.0)], (0, 1, 0, 1));
    let dir_start = u32::from_le_bytes([bytes[48], bytes[49], bytes[50], bytes[51]]);
    set_fat(&mut bytes, dir_start, dir_start);
    let err = payroll("boucle.xls", &bytes);
    assert!(
        matches!(&err, PayrollError::Corrupt { detail, .. } if detail.contains("boucle")),
        "{err}"
    );
    // A stream declaring more bytes than its chain holds.
    let mut bytes = xls("Feuil1", &[(0, 0, 1.0)], (0, 1, 0, 1));
    let shift = u16::from_le_bytes([bytes[30], bytes[31]]);
    let header = (1usize << shift).max(512);
    let dir = header + dir_start as usize * (1usize << shift);
    for entry in 1..4 {
        let base = dir + entry * 128;
        if bytes[base + 66] == 2 {
            bytes[base + 120..base + 124].copy_from_slice(&u32::MAX.to_le_bytes());
        }
    }
    let err = payroll("long.xls", &bytes);
    assert!(matches!(&err, PayrollError::Corrupt { .. }), "{err}");
}

#[test]
fn an_entry_holding_more_than_it_declares_is_refused_as_a_bomb() {
    // The seed recap with its sheet's declared uncompressed size rewritten to 100 bytes in the central
    // directory (and the local header): the reader inflates at most one byte beyond it.
    let mut bytes = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/payroll/seed_003_recap.xlsx"),
    )
    .unwrap();
    let name = b"xl/worksheets/sheet1.xml";
    let mut patched = 0;
    for at in 0..bytes.len().saturating_sub(46 + name.len()) {
        if bytes[at..at + 4] == *b"PK\x01\x02" && bytes[at + 46..at + 46 + name.len()] == *name {
            bytes[at + 24..at + 28].copy_from_slice(&100u32.to_le_bytes());
            patched += 1;
        }
        if bytes[at..at + 4] == *b"PK\x03\x04" && bytes[at + 30..at + 30 + name.len()] == *name {
            bytes[at + 22..at + 26].copy_from_slice(&100u32.to_le_bytes());
            patched += 1;
        }
    }
    assert_eq!(patched, 2);
    let err = payroll("menteur.xlsx", &bytes);
    assert!(
        matches!(&err, PayrollError::DecompressionBomb { detail } if detail.contains("annonce 100 octets")),
        "{err}"
    );
}
