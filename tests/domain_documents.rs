//! Supporting documents (SPEC.md §7; seed 003 « contrôle sur pièces », « Pièces justificatives » per
//! objective; seed 003 on internal costs: the payroll recap per employee and year, the anonymisation key).
mod common;

use care_ledger::domain::statement::documents::{DocumentFileError, MAX_DOCUMENT_BYTES};
use care_ledger::domain::statement::*;
use care_ledger::domain::{Candidate, DomainCatalogue, Matricule, Money};
use common::*;
use std::collections::BTreeMap;

fn sha(c: char) -> String {
    c.to_string().repeat(64)
}

fn doc(kind: &str, line: &str, objective: &str, content: char) -> DocumentInput {
    DocumentInput {
        sha256: sha(content),
        file_name: format!("{kind}.pdf"),
        media_type: "application/pdf".into(),
        size_bytes: 52_480,
        kind: kind.into(),
        line_id: line.into(),
        objective: objective.into(),
        ..DocumentInput::default()
    }
}

fn attach(input: DocumentInput) -> StatementCommand {
    StatementCommand::AttachDocument(input)
}

/// Private candidate (5 EG), D1 bis: INT-1 (seed employee), EXT-1 (invoice), not submitted.
fn declared() -> (Statement, DomainCatalogue, Candidate) {
    let cat = d1bis();
    let cand = private();
    let mut s = opened(&cat, &cand);
    let etab = ctx(&cat, &cand, Role::Etablissement);
    run(
        &mut s,
        &etab,
        StatementCommand::DeclareInternalCost(seed_employee("INT-1")),
    );
    run(
        &mut s,
        &etab,
        StatementCommand::DeclareExternalCost(invoice(
            "EXT-1",
            "Cyberscan SAS",
            "F-1",
            "12 000,00",
        )),
    );
    (s, cat, cand)
}

fn refused(
    s: &Statement,
    cat: &DomainCatalogue,
    cand: &Candidate,
    role: Role,
    cmd: StatementCommand,
) -> Refusal {
    decide(s, &ctx(cat, cand, role), cmd).unwrap_err()
}

#[test]
fn an_invoice_attached_to_its_line_is_recorded_with_its_content_hash_and_date() {
    let (mut s, cat, cand) = declared();
    let events = run(
        &mut s,
        &ctx(&cat, &cand, Role::Etablissement),
        attach(doc("FACTURE", "EXT-1", "", 'a')),
    );
    let StatementEvent::DocumentAttached { document, .. } = &events[0] else {
        panic!("{events:?}");
    };
    assert_eq!(document.id.as_str(), "DOC-0001");
    assert_eq!(document.sha256, sha('a'));
    assert_eq!(document.kind, "FACTURE");
    assert_eq!(
        document.target,
        DocumentTarget::Line {
            line_id: LineId::parse("EXT-1").unwrap()
        }
    );
    assert_eq!(document.attached_on, date(2026, 10, 5));
    assert_eq!(document.attached_by_role, Role::Etablissement);
    assert_eq!(document.media_type, "application/pdf");
    assert_eq!(s.documents.len(), 1);
    // No amount moves with a document.
    let r = compute_subsidy(&s, &cat, &cand).unwrap();
    assert_eq!(r.declared_total, Money::from_cents(661_357 + 1_200_000));
}

#[test]
fn a_kind_that_does_not_document_the_target_is_refused_naming_the_field() {
    let (s, cat, cand) = declared();
    let etab = Role::Etablissement;
    assert_eq!(
        refused(
            &s,
            &cat,
            &cand,
            etab,
            attach(doc("RECAP_PAIE", "EXT-1", "", 'a'))
        ),
        Refusal::DocumentKindNotForTarget {
            field: "line_id",
            kind: "RECAP_PAIE".into(),
            target: "une ligne « coût externe »".into()
        }
    );
    assert_eq!(
        refused(
            &s,
            &cat,
            &cand,
            etab,
            attach(doc("D1O3_RAPPORT_EXERCICE", "", "D1.O1.A", 'a'))
        ),
        Refusal::DocumentKindNotForTarget {
            field: "objective",
            kind: "D1O3_RAPPORT_EXERCICE".into(),
            target: "l'objectif D1.O1.A".into()
        }
    );
    assert_eq!(
        refused(
            &s,
            &cat,
            &cand,
            etab,
            attach(doc("FACTURETTE", "EXT-1", "", 'a'))
        ),
        Refusal::UnknownDocumentKind {
            code: "FACTURETTE".into()
        }
    );
    // « Autre pièce » goes anywhere; the objective may be written with a digit zero (seed 003's D1.01).
    let mut s2 = s.clone();
    run(
        &mut s2,
        &ctx(&cat, &cand, etab),
        attach(doc("AUTRE", "", "D1.01.A", 'b')),
    );
    assert_eq!(s2.documents.len(), 1);
}

#[test]
fn a_document_names_exactly_one_target() {
    let (s, cat, cand) = declared();
    let etab = Role::Etablissement;
    assert_eq!(
        refused(&s, &cat, &cand, etab, attach(doc("FACTURE", "", "", 'a'))),
        Refusal::MissingField { field: "line_id" }
    );
    assert_eq!(
        refused(
            &s,
            &cat,
            &cand,
            etab,
            attach(doc("AUTRE", "EXT-1", "D1.O3", 'a'))
        ),
        Refusal::DocumentTargetAmbiguous
    );
    assert_eq!(
        refused(
            &s,
            &cat,
            &cand,
            etab,
            attach(doc("FACTURE", "EXT-9", "", 'a'))
        ),
        Refusal::UnknownLine {
            line_id: "EXT-9".into()
        }
    );
}

#[test]
fn a_ght_only_objective_cannot_be_documented_by_a_private_candidate() {
    let (s, cat, cand) = declared();
    assert_eq!(
        refused(
            &s,
            &cat,
            &cand,
            Role::Etablissement,
            attach(doc("D1O6A_EQUIPE_PROJET", "", "D1.O6.A", 'a'))
        ),
        Refusal::GhtOnlyObjective {
            field: "objective",
            code: care_ledger::domain::ObjectiveCode::parse("D1.O6.A").unwrap()
        }
    );
}

#[test]
fn a_withdrawn_line_takes_no_more_documents() {
    let (mut s, cat, cand) = declared();
    run(
        &mut s,
        &ctx(&cat, &cand, Role::Etablissement),
        StatementCommand::WithdrawLine {
            line_id: "EXT-1".into(),
            reason: "doublon".into(),
        },
    );
    assert_eq!(
        refused(
            &s,
            &cat,
            &cand,
            Role::Etablissement,
            attach(doc("FACTURE", "EXT-1", "", 'a'))
        ),
        Refusal::LineWithdrawn {
            line_id: LineId::parse("EXT-1").unwrap()
        }
    );
}

#[test]
fn the_establishment_and_the_controller_attach_the_payment_desk_and_the_admin_do_not() {
    let (mut s, cat, cand) = declared();
    for role in [Role::Paiement, Role::Admin] {
        assert!(matches!(
            refused(
                &s,
                &cat,
                &cand,
                role,
                attach(doc("FACTURE", "EXT-1", "", 'a'))
            ),
            Refusal::RoleNotAllowed {
                command: "AttachDocument",
                ..
            }
        ));
    }
    let events = run(
        &mut s,
        &ctx(&cat, &cand, Role::Controleur),
        attach(doc("D1O1A_RAPPORTS_ADS", "", "D1.O1.A", 'c')),
    );
    assert!(matches!(
        &events[0],
        StatementEvent::DocumentAttached { document, .. } if document.attached_by_role == Role::Controleur
    ));
}

#[test]
fn documents_are_accepted_after_submission_since_they_change_no_amount() {
    let (mut s, cat, cand) = declared();
    let etab = ctx(&cat, &cand, Role::Etablissement);
    run(&mut s, &etab, StatementCommand::Submit);
    assert_eq!(s.status, StatementStatus::Submitted);
    run(&mut s, &etab, attach(doc("FACTURE", "EXT-1", "", 'a')));
    assert_eq!(s.documents.len(), 1);
    // Lines stay locked.
    assert_eq!(
        refused(
            &s,
            &cat,
            &cand,
            Role::Etablissement,
            StatementCommand::DeclareExternalCost(invoice("", "X", "F-2", "10,00"))
        ),
        Refusal::Locked
    );
}

#[test]
fn a_replacement_supersedes_the_earlier_document_which_stays_on_file() {
    let (mut s, cat, cand) = declared();
    let etab = ctx(&cat, &cand, Role::Etablissement);
    run(&mut s, &etab, attach(doc("FACTURE", "EXT-1", "", 'a')));
    let mut replacement = doc("FACTURE", "EXT-1", "", 'b');
    replacement.replaces = "doc-0001".into();
    replacement.comment = "facture acquittée".into();
    run(&mut s, &etab, attach(replacement.clone()));
    let old = &s.documents[&DocumentId::parse("DOC-0001").unwrap()];
    let new = &s.documents[&DocumentId::parse("DOC-0002").unwrap()];
    assert_eq!(old.superseded_by, new.id.clone().into());
    assert_eq!(new.replaces, Some(old.id.clone()));
    assert!(!old.is_current() && new.is_current());
    // The same one cannot be replaced twice; an unknown one, or one of another target, not at all.
    assert_eq!(
        refused(&s, &cat, &cand, Role::Etablissement, attach(replacement)),
        Refusal::DocumentAlreadySuperseded {
            document_id: DocumentId::parse("DOC-0001").unwrap(),
            by: DocumentId::parse("DOC-0002").unwrap()
        }
    );
    let mut unknown = doc("FACTURE", "EXT-1", "", 'c');
    unknown.replaces = "DOC-0042".into();
    assert_eq!(
        refused(&s, &cat, &cand, Role::Etablissement, attach(unknown)),
        Refusal::UnknownDocument {
            document_id: "DOC-0042".into()
        }
    );
    let mut elsewhere = doc("AUTRE", "INT-1", "", 'c');
    elsewhere.replaces = "DOC-0002".into();
    assert_eq!(
        refused(&s, &cat, &cand, Role::Etablissement, attach(elsewhere)),
        Refusal::ReplacementTargetDiffers {
            document_id: DocumentId::parse("DOC-0002").unwrap(),
            target: "ligne EXT-1".into()
        }
    );
    // The checklist counts the current one only.
    let checklist = document_checklist(&s, &cat, &cand, &FlagInputs::default());
    let ext = checklist
        .lines
        .iter()
        .find(|e| e.label.starts_with("EXT-1"))
        .unwrap();
    assert_eq!(ext.items[0].kind, "FACTURE");
    assert_eq!(
        ext.items[0].provided,
        vec![DocumentId::parse("DOC-0002").unwrap()]
    );
}

#[test]
fn malformed_file_facts_are_refused_naming_the_field() {
    let (s, cat, cand) = declared();
    let etab = Role::Etablissement;
    let with = |f: &dyn Fn(&mut DocumentInput)| {
        let mut d = doc("FACTURE", "EXT-1", "", 'a');
        f(&mut d);
        refused(&s, &cat, &cand, etab, attach(d))
    };
    assert_eq!(
        with(&|d| d.sha256 = "xyz".into()),
        Refusal::Malformed {
            field: "sha256",
            value: "xyz".into(),
            expected: "SHA-256 en 64 caractères hexadécimaux"
        }
    );
    assert_eq!(
        with(&|d| d.sha256 = String::new()),
        Refusal::MissingField { field: "sha256" }
    );
    assert!(matches!(
        with(&|d| d.media_type = "application/x-msdownload".into()),
        Refusal::Malformed {
            field: "media_type",
            ..
        }
    ));
    assert_eq!(
        with(&|d| d.size_bytes = 0),
        Refusal::InvalidDocumentFile {
            field: "size_bytes",
            source: DocumentFileError::Empty
        }
    );
    assert_eq!(
        with(&|d| d.size_bytes = MAX_DOCUMENT_BYTES + 1),
        Refusal::InvalidDocumentFile {
            field: "size_bytes",
            source: DocumentFileError::TooLarge {
                size: MAX_DOCUMENT_BYTES + 1,
                limit: MAX_DOCUMENT_BYTES
            }
        }
    );
    assert_eq!(
        with(&|d| d.file_name = "   ".into()),
        Refusal::MissingField { field: "file_name" }
    );
    assert_eq!(
        with(&|d| d.document_id = "EXT-1".into()),
        Refusal::Malformed {
            field: "document_id",
            value: "EXT-1".into(),
            expected: "DOC- suivi de chiffres"
        }
    );
}

#[test]
fn the_checklist_lists_each_applicable_objective_and_line_with_what_is_missing() {
    let (mut s, cat, cand) = declared();
    let empty = document_checklist(&s, &cat, &cand, &FlagInputs::default());
    // A private candidate: D1.O1.A … D1.O5, no D1.O6.
    let codes: Vec<String> = empty
        .objectives
        .iter()
        .map(|e| e.label.split(' ').next().unwrap().to_string())
        .collect();
    assert_eq!(
        codes,
        ["D1.O1.A", "D1.O1.B", "D1.O2.A", "D1.O2.B", "D1.O3", "D1.O4", "D1.O5"]
    );
    // Required per objective (seed 003): 2 + 1 + 3 + 1 + 1 + 0 (oSIS capture optional) + 0; per line: a
    // recap for INT-1, an invoice for EXT-1.
    assert_eq!(empty.missing_required, 8 + 2);
    let d1o5 = empty
        .objectives
        .iter()
        .find(|e| e.label.starts_with("D1.O5"))
        .unwrap();
    assert!(d1o5.items.is_empty() && d1o5.complete);
    let d1o4 = empty
        .objectives
        .iter()
        .find(|e| e.label.starts_with("D1.O4"))
        .unwrap();
    assert!(!d1o4.items[0].required && !d1o4.items[0].missing && d1o4.complete);

    // An imported recap for 44A567 in 2026 stands for the recap document of INT-1.
    let payroll = FlagInputs {
        payroll_recaps: vec![PayrollRecapSummary {
            matricule: Matricule::parse("44A567").unwrap(),
            period_start: date(2026, 1, 1),
            period_end: date(2026, 12, 31),
            gross_total: Money::from_cents(5_563_125),
            entry_date: None,
            exit_date: None,
            source_sha256: Some(sha('f')),
        }],
        ..FlagInputs::default()
    };
    run(
        &mut s,
        &ctx(&cat, &cand, Role::Etablissement),
        attach(doc("FACTURE", "EXT-1", "", 'a')),
    );
    run(
        &mut s,
        &ctx(&cat, &cand, Role::Etablissement),
        attach(doc("D1O3_RAPPORT_EXERCICE", "", "D1.O3", 'd')),
    );
    let c = document_checklist(&s, &cat, &cand, &payroll);
    assert_eq!(c.missing_required, 7);
    let int = c
        .lines
        .iter()
        .find(|e| e.label.starts_with("INT-1"))
        .unwrap();
    let recap = int.items.iter().find(|i| i.kind == "RECAP_PAIE").unwrap();
    assert_eq!(recap.payroll_recap_sha256, Some(sha('f')));
    assert!(!recap.missing && int.complete);
    let d1o3 = c
        .objectives
        .iter()
        .find(|e| e.label.starts_with("D1.O3"))
        .unwrap();
    assert!(d1o3.complete);
    assert_eq!(d1o3.items[0].provided.len(), 1);

    // A recap of another year does not stand for the 2026 line; through the key a pseudonym resolves.
    let mut other_year = payroll.clone();
    other_year.payroll_recaps[0].period_start = date(2025, 1, 1);
    other_year.payroll_recaps[0].period_end = date(2025, 12, 31);
    let c = document_checklist(&s, &cat, &cand, &other_year);
    assert_eq!(c.missing_required, 8);
    let mut keyed = payroll.clone();
    keyed.payroll_recaps[0].matricule = Matricule::parse("REAL-1").unwrap();
    keyed.anonymisation_key = Some(BTreeMap::from([(
        Matricule::parse("44A567").unwrap(),
        Matricule::parse("REAL-1").unwrap(),
    )]));
    let c = document_checklist(&s, &cat, &cand, &keyed);
    assert_eq!(c.missing_required, 7);
}

#[test]
fn a_ght_checklist_includes_the_convergence_objectives() {
    let cat = d1bis();
    let cand = ght();
    let s = opened(&cat, &cand);
    let c = document_checklist(&s, &cat, &cand, &FlagInputs::default());
    let labels: Vec<&str> = c.objectives.iter().map(|e| e.label.as_str()).collect();
    assert!(labels.iter().any(|l| l.starts_with("D1.O6.A")));
    assert!(labels.iter().any(|l| l.starts_with("D1.O6.B")));
    assert_eq!(c.missing_required, 8 + 3);
}

#[test]
fn a_document_cannot_be_attached_to_a_statement_not_opened() {
    let cat = d1bis();
    let cand = private();
    let s = Statement::new();
    assert_eq!(
        refused(
            &s,
            &cat,
            &cand,
            Role::Etablissement,
            attach(doc("D1O3_RAPPORT_EXERCICE", "", "D1.O3", 'a'))
        ),
        Refusal::NotOpened
    );
}

#[test]
fn every_d2_objective_has_its_expected_documents_from_seed_000() {
    let cat = d2();
    for objective in &cat.objectives {
        let required = cat
            .documents
            .iter()
            .filter(|k| k.required && !k.any_target && k.documents_objective(&objective.code))
            .count();
        assert!(required >= 1, "{} has no required document", objective.code);
    }
}
