//! The binary as an operator runs it: output cut short by a pipe (`| head`) ends quietly, and the
//! files it creates (the SQLite ledger and its -wal/-shm, exported workbooks) are its owner's only.

use std::path::Path;
use std::process::{Command, Stdio};

fn care_ledger(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_care-ledger"));
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("--database")
        .arg(dir.join("ledger.db"))
        .env_remove("CARE_LEDGER_DATABASE_URL")
        .env_remove("DATABASE_URL");
    command
}

fn run(command: &mut Command) -> String {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{:?}: {}{}",
        command,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).to_string()
}

/// A ledger with the sample candidates and one opened statement.
fn sample(dir: &Path) {
    run(care_ledger(dir).args([
        "candidates",
        "import",
        "fixtures/candidates.csv",
        "--as",
        "admin:ops",
    ]));
    run(care_ledger(dir).args([
        "statement",
        "open",
        "--candidate",
        "130004526",
        "--domain",
        "D1bis",
        "--as",
        "etablissement:daf",
    ]));
}

#[test]
fn output_cut_short_by_a_closed_pipe_ends_quietly_without_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    sample(dir.path());
    for args in [
        vec!["events", "candidates"],
        vec![
            "statement",
            "show",
            "--candidate",
            "130004526",
            "--domain",
            "D1bis",
            "--as",
            "controleur:c",
        ],
    ] {
        // The reader is gone before anything is written: the first print meets a broken pipe.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let output = care_ledger(dir.path())
            .args(&args)
            .stdout(Stdio::from(writer))
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[cfg(unix)]
#[test]
fn the_ledger_and_the_exported_workbook_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    sample(dir.path());
    let workbook = dir.path().join("etat.xlsx");
    run(care_ledger(dir.path())
        .args([
            "export",
            "--candidate",
            "130004526",
            "--domain",
            "D1bis",
            "--as",
            "controleur:c",
            "-o",
        ])
        .arg(&workbook));
    let mut checked = 0;
    for name in ["ledger.db", "ledger.db-wal", "ledger.db-shm", "etat.xlsx"] {
        let path = dir.path().join(name);
        let Ok(meta) = std::fs::metadata(&path) else {
            // -wal and -shm exist only while a connection is open or not checkpointed.
            assert!(name.contains('-'), "{name} missing");
            continue;
        };
        let mode = meta.permissions().mode() & 0o777;
        assert_eq!(mode & 0o077, 0, "{name} is {mode:o}");
        checked += 1;
    }
    assert!(checked >= 2);
}
