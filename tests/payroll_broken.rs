//! Broken and hostile files: clear errors naming the cell or the limit, never a partial import.

use care_ledger::payroll::{import_bytes, import_file, Limits, PayrollError, RubriqueRules};
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/payroll")
        .join(name)
}

fn error_of(name: &str) -> PayrollError {
    import_file(
        &fixture(name),
        &RubriqueRules::load_default(),
        &Limits::default(),
    )
    .expect_err(name)
}

fn error_of_bytes(name: &str, bytes: &[u8], limits: &Limits) -> PayrollError {
    import_bytes(name, bytes, &RubriqueRules::load_default(), limits).expect_err(name)
}

#[test]
fn an_ambiguous_amount_is_an_error_naming_the_csv_line_and_column() {
    let err = error_of("broken/ambiguous_amount.csv");
    assert_eq!(
        err.to_string(),
        "ambiguous_amount.csv ligne 6 colonne 3 (C) : montant ambigu \"1.234\" \
         (séparateur de milliers ou décimal ? écrire 1 234,00 ou 1,234)"
    );
}

#[test]
fn an_ambiguous_amount_in_a_workbook_names_the_sheet_and_cell() {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet().set_name("Feuil1").unwrap();
    let rows: [&[&str]; 6] = [
        &["Période du 01/01/2024 au 31/12/2024"],
        &["Salarié(s) de 44A567"],
        &[
            "RUBRIQUES",
            "NB SALARIE",
            "REMUNERATION",
            "BASE",
            "TX SAL.",
            "SALARIAL",
            "TX PAT.",
            "PATRONAL",
        ],
        &["0005 Salaires Mensuel", "1", "1 000,00"],
        &["Total Brut", "", "1 000,00"],
        &[
            "2030 Vieillesse",
            "1",
            "",
            "1 000,00",
            "",
            "",
            "8,55000",
            "1,234",
        ],
    ];
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            if !v.is_empty() {
                ws.write_string(r as u32, c as u16, *v).unwrap();
            }
        }
    }
    let bytes = wb.save_to_buffer().unwrap();
    let err = error_of_bytes("recap.xlsx", &bytes, &Limits::default());
    assert!(
        err.to_string()
            .starts_with("Feuil1!H6 : montant ambigu \"1,234\""),
        "{err}"
    );
}

#[test]
fn an_amount_with_three_decimals_is_refused_naming_the_cell() {
    let err = error_of("broken/three_decimals_amount.csv");
    assert_eq!(
        err.to_string(),
        "three_decimals_amount.csv ligne 6 colonne 3 (C) : montant \"30 000,125\" : plus de 2 décimales"
    );
}

#[test]
fn the_same_employee_twice_in_one_year_is_refused() {
    let err = error_of("broken/duplicate_employee_year.csv");
    assert!(
        matches!(&err, PayrollError::DuplicateRecap { matricule, year: 2024, .. } if matricule == "C3001"),
        "{err}"
    );
}

#[test]
fn a_recap_without_its_employer_total_is_refused() {
    let err = error_of("broken/missing_employer_total.csv");
    assert!(
        matches!(err, PayrollError::MissingEmployerTotal { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("C3001"));
}

#[test]
fn a_truncated_xlsx_is_reported_as_corrupt() {
    let err = error_of("broken/truncated.xlsx");
    assert!(matches!(err, PayrollError::Corrupt { .. }), "{err}");
}

#[test]
fn a_text_file_named_xlsx_is_reported_as_corrupt() {
    let err = error_of("broken/not_a_workbook.xlsx");
    assert!(
        matches!(err, PayrollError::Corrupt { ref format, .. } if format == "xlsx"),
        "{err}"
    );
}

#[test]
fn a_decompression_bomb_is_refused_before_calamine_opens_it() {
    let err = error_of("broken/zip_bomb.xlsx");
    assert!(
        matches!(err, PayrollError::DecompressionBomb { .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("xl/worksheets/sheet1.xml"),
        "{err}"
    );
}

#[test]
fn an_archive_above_the_uncompressed_limit_is_refused() {
    let bytes = std::fs::read(fixture("seed_003_recap.xlsx")).unwrap();
    let limits = Limits {
        max_uncompressed_bytes: 1_000,
        ..Limits::default()
    };
    let err = error_of_bytes("seed.xlsx", &bytes, &limits);
    assert!(
        matches!(err, PayrollError::DecompressionBomb { .. }),
        "{err}"
    );
}

#[test]
fn a_file_above_the_size_limit_is_refused_with_both_sizes() {
    let bytes = std::fs::read(fixture("seed_003_recap.csv")).unwrap();
    let limits = Limits {
        max_file_bytes: 100,
        ..Limits::default()
    };
    let err = error_of_bytes("seed.csv", &bytes, &limits);
    assert_eq!(
        err.to_string(),
        format!(
            "fichier trop volumineux : {} octets (maximum 100 octets)",
            bytes.len()
        )
    );
}

#[test]
fn a_file_above_the_row_limit_is_refused() {
    let bytes = std::fs::read(fixture("seed_003_recap.xlsx")).unwrap();
    let limits = Limits {
        max_rows: 10,
        ..Limits::default()
    };
    let err = error_of_bytes("seed.xlsx", &bytes, &limits);
    assert!(
        matches!(err, PayrollError::TooManyRows { max_rows: 10, .. }),
        "{err}"
    );
    let csv = std::fs::read(fixture("seed_003_recap.csv")).unwrap();
    let err = error_of_bytes("seed.csv", &csv, &limits);
    assert!(matches!(err, PayrollError::TooManyRows { .. }), "{err}");
}

#[test]
fn a_password_protected_workbook_gives_a_clear_error() {
    // An encrypted OOXML file is an OLE compound file holding an "EncryptedPackage" stream. This one is
    // built by hand (a minimal compound file), since no encryption tool is available here.
    let bytes = minimal_cfb_with_encrypted_package();
    let err = error_of_bytes("protégé.xlsx", &bytes, &Limits::default());
    assert!(matches!(err, PayrollError::PasswordProtected), "{err}");
    assert_eq!(
        err.to_string(),
        "fichier protégé par mot de passe : enregistrez-le sans mot de passe avant l'import"
    );
}

#[test]
fn a_binary_file_named_csv_is_refused() {
    let err = error_of_bytes("recap.csv", b"\x00\x01\x02binary", &Limits::default());
    assert!(matches!(err, PayrollError::Corrupt { .. }), "{err}");
}

#[test]
fn a_file_without_any_recap_table_says_which_headers_are_expected() {
    let err = error_of_bytes("vide.csv", b"a;b;c\n1;2;3\n", &Limits::default());
    assert!(err.to_string().contains("RUBRIQUES, REMUNERATION"), "{err}");
}

#[test]
fn an_aggregate_recap_of_all_employees_is_refused() {
    let text = "Période du 01/01/2024 au 31/12/2024\nSalarié(s) <<Tous>>\n\
        RUBRIQUES;NB SALARIE;REMUNERATION;BASE;PATRONAL\n0005 Salaire;3;90 000,00;;\n";
    let err = error_of_bytes("collectif.csv", text.as_bytes(), &Limits::default());
    assert!(err.to_string().contains("récapitulatif collectif"), "{err}");
    let text = "Période du 01/01/2024 au 31/12/2024\nSalarié(s) de 44A567 à 44A999\n\
        RUBRIQUES;NB SALARIE;REMUNERATION;BASE;PATRONAL\n0005 Salaire;3;90 000,00;;\n";
    let err = error_of_bytes("plage.csv", text.as_bytes(), &Limits::default());
    assert!(
        err.to_string().contains("plage.csv ligne 2 colonne 1 (A)"),
        "{err}"
    );
}

#[test]
fn a_period_over_two_years_is_refused() {
    let text = "Période du 01/07/2024 au 30/06/2025\nSalarié(s) de 44A567\n\
        RUBRIQUES;NB SALARIE;REMUNERATION;BASE;PATRONAL\n";
    let err = error_of_bytes("p.csv", text.as_bytes(), &Limits::default());
    assert!(err.to_string().contains("deux années"), "{err}");
}

/// A 3-sector compound file (512-byte sectors): header, FAT, directory with the root entry and an
/// empty "EncryptedPackage" stream.
fn minimal_cfb_with_encrypted_package() -> Vec<u8> {
    let mut header = vec![0u8; 512];
    header[..8].copy_from_slice(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]);
    header[24..26].copy_from_slice(&0x003Eu16.to_le_bytes()); // minor version
    header[26..28].copy_from_slice(&3u16.to_le_bytes()); // major version 3
    header[28..30].copy_from_slice(&0xFFFEu16.to_le_bytes()); // little endian
    header[30..32].copy_from_slice(&9u16.to_le_bytes()); // sector size 512
    header[32..34].copy_from_slice(&6u16.to_le_bytes()); // mini sector size 64
    header[44..48].copy_from_slice(&1u32.to_le_bytes()); // one FAT sector
    header[48..52].copy_from_slice(&1u32.to_le_bytes()); // directory starts at sector 1
    header[56..60].copy_from_slice(&4096u32.to_le_bytes()); // mini stream cutoff
    header[60..64].copy_from_slice(&0xFFFF_FFFEu32.to_le_bytes()); // no mini FAT
    header[68..72].copy_from_slice(&0xFFFF_FFFEu32.to_le_bytes()); // no DIFAT sector
    header[76..80].copy_from_slice(&0u32.to_le_bytes()); // FAT at sector 0
    for i in 1..109 {
        header[76 + i * 4..80 + i * 4].copy_from_slice(&0xFFFF_FFFFu32.to_le_bytes());
    }
    let mut fat = vec![0xFFu8; 512];
    fat[0..4].copy_from_slice(&0xFFFF_FFFDu32.to_le_bytes()); // sector 0: FAT
    fat[4..8].copy_from_slice(&0xFFFF_FFFEu32.to_le_bytes()); // sector 1: directory, end of chain
    let mut dir = vec![0u8; 512];
    let entry = |dir: &mut Vec<u8>, index: usize, name: &str, kind: u8, child: u32| {
        let base = index * 128;
        let utf16: Vec<u16> = name.encode_utf16().collect();
        for (i, u) in utf16.iter().enumerate() {
            dir[base + i * 2..base + i * 2 + 2].copy_from_slice(&u.to_le_bytes());
        }
        dir[base + 64..base + 66].copy_from_slice(&(((utf16.len() + 1) * 2) as u16).to_le_bytes());
        dir[base + 66] = kind;
        dir[base + 67] = 1; // black
        dir[base + 68..base + 72].copy_from_slice(&0xFFFF_FFFFu32.to_le_bytes());
        dir[base + 72..base + 76].copy_from_slice(&0xFFFF_FFFFu32.to_le_bytes());
        dir[base + 76..base + 80].copy_from_slice(&child.to_le_bytes());
        dir[base + 116..base + 120].copy_from_slice(&0xFFFF_FFFEu32.to_le_bytes());
    };
    entry(&mut dir, 0, "Root Entry", 5, 1);
    entry(&mut dir, 1, "EncryptedPackage", 2, 0xFFFF_FFFF);
    let mut out = header;
    out.extend(fat);
    out.extend(dir);
    out
}

/// The seed recap with the `<dimension ref>` of its sheet rewritten (what a hand-edited or a
/// hostile file may declare).
fn seed_with_dimension(dimension: &str) -> Vec<u8> {
    use std::io::{Read, Write};
    let original = std::fs::read(fixture("seed_003_recap.xlsx")).unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(&original)).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        let name = entry.name().to_string();
        let mut content = Vec::new();
        entry.read_to_end(&mut content).unwrap();
        if name == "xl/worksheets/sheet1.xml" {
            let text = String::from_utf8(content).unwrap();
            assert!(text.contains("<dimension ref=\"A1:H45\"/>"));
            content = text
                .replace(
                    "<dimension ref=\"A1:H45\"/>",
                    &format!("<dimension ref=\"{dimension}\"/>"),
                )
                .into_bytes();
        }
        out.start_file(
            name,
            zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated),
        )
        .unwrap();
        out.write_all(&content).unwrap();
    }
    out.finish().unwrap().into_inner()
}

#[test]
fn a_sheet_declaring_more_rows_than_the_limit_is_refused_before_it_is_read() {
    let bytes = seed_with_dimension("A1:H2000000");
    let err = error_of_bytes("recap.xlsx", &bytes, &Limits::default());
    assert!(
        matches!(
            &err,
            PayrollError::TooManyRows {
                rows: 2_000_000,
                ..
            }
        ),
        "{err:?}"
    );
    let bytes = seed_with_dimension("A1:XFD45");
    let err = error_of_bytes("recap.xlsx", &bytes, &Limits::default());
    assert!(
        matches!(&err, PayrollError::TooManyColumns { .. }),
        "{err:?}"
    );
}

#[test]
fn a_sheet_whose_cells_stray_outside_its_declared_dimension_is_still_read_in_full() {
    let rules = RubriqueRules::load_default();
    let limits = Limits::default();
    let expected = import_bytes(
        "recap.xlsx",
        &std::fs::read(fixture("seed_003_recap.xlsx")).unwrap(),
        &rules,
        &limits,
    )
    .unwrap();
    for dimension in ["A1:B2", "C3:H45", "A1"] {
        let got = import_bytes(
            "recap.xlsx",
            &seed_with_dimension(dimension),
            &rules,
            &limits,
        )
        .unwrap();
        assert_eq!(got.recaps, expected.recaps, "{dimension}");
        assert_eq!(got.warnings, expected.warnings, "{dimension}");
    }
}
