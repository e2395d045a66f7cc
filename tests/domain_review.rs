mod common;

use care_ledger::domain::statement::*;
use care_ledger::domain::{Candidate, DomainCatalogue, Money};
use common::*;

fn receipt(id: &str) -> StatementCommand {
    StatementCommand::DeclareReceipt(ReceiptInput {
        line_id: id.into(),
        group: "D1.O2".into(),
        provenance: "Subvention ARS".into(),
        amount: "1 000,00".into(),
    })
}

/// Private candidate, submitted: INT-1 6 613,57, EXT-1 12 000,00, REC-1 receipt 1 000,00.
fn submitted() -> (Statement, DomainCatalogue, Candidate) {
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
    run(&mut s, &etab, receipt("REC-1"));
    run(&mut s, &etab, StatementCommand::Submit);
    (s, cat, cand)
}

fn refusal(
    s: &Statement,
    cat: &DomainCatalogue,
    cand: &Candidate,
    role: Role,
    cmd: StatementCommand,
) -> Refusal {
    decide(s, &ctx(cat, cand, role), cmd).unwrap_err()
}

fn id(text: &str) -> LineId {
    LineId::parse(text).unwrap()
}

#[test]
fn an_eligible_review_retains_the_declared_amount_and_the_line_counts_as_reviewed() {
    let (mut s, cat, cand) = submitted();
    let events = run(
        &mut s,
        &ctx(&cat, &cand, Role::Controleur),
        eligible("INT-1"),
    );
    assert_eq!(
        events,
        vec![StatementEvent::LineReviewed {
            schema_version: 1,
            line_id: id("INT-1"),
            decision: ReviewDecision::Eligible,
            reason_code: None,
            comment: String::new(),
            retained_amount: Some(Money::from_cents(661_357)),
            requested: None,
            line_revision: 0,
            reviewed_on: Some(chrono::NaiveDate::from_ymd_opt(2026, 10, 5).unwrap()),
        }]
    );
    let r = compute_subsidy(&s, &cat, &cand).unwrap();
    assert_eq!(
        r.unreviewed_lines, 1,
        "EXT-1 only; the receipt is not counted"
    );
    assert_eq!(r.eligible_total, Money::from_cents(1_861_357));
}

#[test]
fn a_partial_review_retains_its_amount_and_one_cent_above_the_declared_amount_is_refused() {
    let (mut s, cat, cand) = submitted();
    let above = refusal(
        &s,
        &cat,
        &cand,
        Role::Controleur,
        partially_eligible("EXT-1", "12 000,01"),
    );
    assert_eq!(
        above,
        Refusal::RetainedAboveDeclared {
            retained: Money::from_cents(1_200_001),
            declared: Money::from_cents(1_200_000),
        }
    );
    // Amounts in the message as the establishment writes them.
    assert_eq!(
        above.to_string(),
        "champ eligible_amount : 12\u{202f}000,01\u{a0}€ supérieur au montant déclaré 12\u{202f}000,00\u{a0}€"
    );
    assert!(matches!(
        refusal(
            &s,
            &cat,
            &cand,
            Role::Controleur,
            partially_eligible("EXT-1", "0")
        ),
        Refusal::NotPositive {
            field: "eligible_amount",
            ..
        }
    ));
    assert_eq!(
        refusal(
            &s,
            &cat,
            &cand,
            Role::Controleur,
            partially_eligible("EXT-1", "")
        ),
        Refusal::MissingField {
            field: "eligible_amount"
        }
    );
    run(
        &mut s,
        &ctx(&cat, &cand, Role::Controleur),
        partially_eligible("EXT-1", "9 999,99"),
    );
    assert_eq!(
        s.lines[&id("EXT-1")].retained,
        Some(Money::from_cents(999_999))
    );
    let r = compute_subsidy(&s, &cat, &cand).unwrap();
    // 6 613,57 unreviewed at declared + 9 999,99 retained.
    assert_eq!(r.eligible_total, Money::from_cents(1_661_356));
    assert_eq!(r.declared_total, Money::from_cents(1_861_357));
}

#[test]
fn an_ineligible_review_needs_a_listed_reason_code_and_a_comment_and_retains_nothing() {
    let (mut s, cat, cand) = submitted();
    assert_eq!(
        refusal(
            &s,
            &cat,
            &cand,
            Role::Controleur,
            ineligible("EXT-1", "", "facture hors période")
        ),
        Refusal::MissingField {
            field: "reason_code"
        }
    );
    assert!(matches!(
        refusal(
            &s,
            &cat,
            &cand,
            Role::Controleur,
            ineligible("EXT-1", "PAS_AIME", "x")
        ),
        Refusal::Malformed {
            field: "reason_code",
            ..
        }
    ));
    assert_eq!(
        refusal(
            &s,
            &cat,
            &cand,
            Role::Controleur,
            ineligible("EXT-1", "DOUBLON", " ")
        ),
        Refusal::MissingField { field: "comment" }
    );
    run(
        &mut s,
        &ctx(&cat, &cand, Role::Controleur),
        ineligible("EXT-1", "hors-periode", "facture de 2024"),
    );
    let last = s.latest_review(&id("EXT-1")).unwrap();
    assert_eq!(last.reason_code, Some(IneligibilityReason::HorsPeriode));
    assert_eq!(last.retained_amount, Some(Money::ZERO));
    assert_eq!(
        IneligibilityReason::HorsPeriode.label_fr(),
        "dépense hors de la période d'éligibilité"
    );
    let r = compute_subsidy(&s, &cat, &cand).unwrap();
    assert_eq!(r.eligible_total, Money::from_cents(661_357));
}

#[test]
fn fields_that_do_not_apply_to_the_decision_are_refused() {
    let (s, cat, cand) = submitted();
    let cmd = StatementCommand::ReviewLine(ReviewInput {
        eligible_amount: "10".into(),
        ..review("EXT-1", "eligible")
    });
    assert_eq!(
        refusal(&s, &cat, &cand, Role::Controleur, cmd),
        Refusal::FieldNotApplicable {
            field: "eligible_amount",
            decision: "eligible"
        }
    );
    assert!(matches!(
        refusal(
            &s,
            &cat,
            &cand,
            Role::Controleur,
            StatementCommand::ReviewLine(review("EXT-1", "bof"))
        ),
        Refusal::Malformed {
            field: "decision",
            ..
        }
    ));
}

#[test]
fn only_a_controller_reviews_and_only_once_the_statement_was_submitted() {
    let (s, cat, cand) = submitted();
    assert_eq!(
        refusal(&s, &cat, &cand, Role::Etablissement, eligible("EXT-1")),
        Refusal::RoleNotAllowed {
            role: "etablissement",
            command: "ReviewLine"
        }
    );
    assert!(matches!(
        refusal(&s, &cat, &cand, Role::Paiement, eligible("EXT-1")),
        Refusal::RoleNotAllowed { .. }
    ));
    let mut draft = opened(&cat, &cand);
    run(
        &mut draft,
        &ctx(&cat, &cand, Role::Etablissement),
        StatementCommand::DeclareInternalCost(seed_employee("INT-1")),
    );
    assert_eq!(
        refusal(&draft, &cat, &cand, Role::Controleur, eligible("INT-1")),
        Refusal::NotSubmittedForReview
    );
}

#[test]
fn a_reopened_statement_can_still_be_reviewed() {
    let (mut s, cat, cand) = submitted();
    let ctrl = ctx(&cat, &cand, Role::Controleur);
    run(
        &mut s,
        &ctrl,
        StatementCommand::Reopen {
            reason: "pièces".into(),
        },
    );
    run(&mut s, &ctrl, eligible("EXT-1"));
    assert_eq!(
        s.lines[&id("EXT-1")].retained,
        Some(Money::from_cents(1_200_000))
    );
}

#[test]
fn unknown_withdrawn_and_receipt_lines_cannot_be_reviewed() {
    let (mut s, cat, cand) = submitted();
    assert_eq!(
        refusal(&s, &cat, &cand, Role::Controleur, eligible("EXT-9")),
        Refusal::UnknownLine {
            line_id: "EXT-9".into()
        }
    );
    assert_eq!(
        refusal(&s, &cat, &cand, Role::Controleur, eligible("REC-1")),
        Refusal::NotACostLine {
            line_id: id("REC-1")
        }
    );
    run(
        &mut s,
        &ctx(&cat, &cand, Role::Controleur),
        StatementCommand::Reopen {
            reason: "retrait".into(),
        },
    );
    run(
        &mut s,
        &ctx(&cat, &cand, Role::Etablissement),
        StatementCommand::WithdrawLine {
            line_id: "EXT-1".into(),
            reason: "doublon".into(),
        },
    );
    assert_eq!(
        refusal(&s, &cat, &cand, Role::Controleur, eligible("EXT-1")),
        Refusal::LineWithdrawn {
            line_id: id("EXT-1")
        }
    );
}

#[test]
fn a_later_review_supersedes_an_earlier_one_and_both_stay_in_history() {
    let (mut s, cat, cand) = submitted();
    let ctrl = ctx(&cat, &cand, Role::Controleur);
    run(&mut s, &ctrl, eligible("EXT-1"));
    run(&mut s, &ctrl, partially_eligible("EXT-1", "7 500,50"));
    let history = &s.reviews[&id("EXT-1")];
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].decision, ReviewDecision::Eligible);
    assert_eq!(history[1].decision, ReviewDecision::PartiallyEligible);
    assert_eq!(
        s.lines[&id("EXT-1")].retained,
        Some(Money::from_cents(750_050))
    );
}

#[test]
fn documents_requested_leave_the_line_unreviewed_until_a_later_decision() {
    let (mut s, cat, cand) = submitted();
    let ctrl = ctx(&cat, &cand, Role::Controleur);
    run(&mut s, &ctrl, eligible("EXT-1"));
    run(
        &mut s,
        &ctrl,
        documents_requested("EXT-1", "Bon de commande signé", "2026-10-31"),
    );
    assert_eq!(s.lines[&id("EXT-1")].retained, None);
    let r = compute_subsidy(&s, &cat, &cand).unwrap();
    assert_eq!(r.unreviewed_lines, 2);
    assert_eq!(r.eligible_total, Money::from_cents(1_861_357));
    assert_eq!(
        s.latest_review(&id("EXT-1")).unwrap().requested,
        Some(DocumentRequest {
            what: "Bon de commande signé".into(),
            due: date(2026, 10, 31)
        })
    );
}

#[test]
fn a_document_request_due_before_today_is_refused() {
    let (s, cat, cand) = submitted();
    assert_eq!(
        refusal(
            &s,
            &cat,
            &cand,
            Role::Controleur,
            documents_requested("EXT-1", "Facture", "04/10/2026")
        ),
        Refusal::DueDateInPast {
            due: date(2026, 10, 4),
            today: date(2026, 10, 5)
        }
    );
    assert_eq!(
        refusal(
            &s,
            &cat,
            &cand,
            Role::Controleur,
            documents_requested("EXT-1", "", "2026-10-31")
        ),
        Refusal::MissingField {
            field: "documents_requested"
        }
    );
}

#[test]
fn the_establishment_answers_a_document_request_and_corrects_that_line_after_submission() {
    let (mut s, cat, cand) = submitted();
    let ctrl = ctx(&cat, &cand, Role::Controleur);
    let etab = ctx(&cat, &cand, Role::Etablissement);
    run(&mut s, &ctrl, eligible("INT-1"));
    run(
        &mut s,
        &ctrl,
        documents_requested("EXT-1", "Facture acquittée", "2026-10-31"),
    );
    let answer_with = |sha: String| {
        StatementCommand::AnswerDocumentRequest(DocumentAnswerInput {
            line_id: "EXT-1".into(),
            comment: "Facture rectifiée jointe".into(),
            document_sha256: sha,
            correction: None,
        })
    };
    // An answer naming a document that is not attached to the statement is refused.
    assert_eq!(
        refusal(
            &s,
            &cat,
            &cand,
            Role::Etablissement,
            answer_with("AB".repeat(32))
        ),
        Refusal::DocumentNotAttached {
            sha256: "ab".repeat(32)
        }
    );
    // Attached first (documents are accepted after submission), then named in the answer.
    run(
        &mut s,
        &etab,
        StatementCommand::AttachDocument(DocumentInput {
            sha256: "AB".repeat(32),
            file_name: "Facture F-1-R.pdf".into(),
            media_type: "application/pdf".into(),
            size_bytes: 48_213,
            kind: "FACTURE".into(),
            line_id: "EXT-1".into(),
            ..DocumentInput::default()
        }),
    );
    let answer = StatementCommand::AnswerDocumentRequest(DocumentAnswerInput {
        line_id: "EXT-1".into(),
        comment: "Facture rectifiée jointe".into(),
        document_sha256: "AB".repeat(32),
        correction: Some(CorrectionInput::External(invoice(
            "",
            "Cyberscan SAS",
            "F-1-R",
            "11 500,00",
        ))),
    });
    let events = run(&mut s, &etab, answer.clone());
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].type_name(), "DocumentRequestAnswered");
    assert_eq!(events[1].type_name(), "LineCorrected");
    let line = &s.lines[&id("EXT-1")];
    assert_eq!(
        (line.declared, line.revision, line.retained),
        (Money::from_cents(1_150_000), 1, None)
    );
    let last = s.latest_review(&id("EXT-1")).unwrap();
    let answered = last.answer.as_ref().unwrap();
    assert!(answered.corrected);
    assert_eq!(
        answered.document_sha256.as_deref(),
        Some("ab".repeat(32).as_str())
    );
    assert!(!last.is_pending_request());
    // Answered: no second answer; the other line and the ordinary corrections stay locked.
    assert_eq!(
        refusal(&s, &cat, &cand, Role::Etablissement, answer),
        Refusal::NoPendingDocumentRequest {
            line_id: id("EXT-1")
        }
    );
    assert_eq!(
        refusal(
            &s,
            &cat,
            &cand,
            Role::Etablissement,
            StatementCommand::CorrectExternalCost(invoice(
                "EXT-1",
                "Cyberscan SAS",
                "F-1",
                "11 000,00"
            ))
        ),
        Refusal::Locked
    );
    // The controller reviews the corrected revision.
    let events = run(&mut s, &ctrl, eligible("EXT-1"));
    assert!(matches!(
        &events[0],
        StatementEvent::LineReviewed { line_revision: 1, retained_amount: Some(m), .. } if *m == Money::from_cents(1_150_000)
    ));
}

#[test]
fn an_answer_without_a_pending_request_or_for_another_line_is_refused() {
    let (mut s, cat, cand) = submitted();
    let answer = |line: &str, correction: Option<CorrectionInput>| {
        StatementCommand::AnswerDocumentRequest(DocumentAnswerInput {
            line_id: line.into(),
            comment: "voici".into(),
            document_sha256: String::new(),
            correction,
        })
    };
    assert_eq!(
        refusal(&s, &cat, &cand, Role::Etablissement, answer("EXT-1", None)),
        Refusal::NoPendingDocumentRequest {
            line_id: id("EXT-1")
        }
    );
    run(
        &mut s,
        &ctx(&cat, &cand, Role::Controleur),
        documents_requested("EXT-1", "Facture", "2026-10-31"),
    );
    assert_eq!(
        refusal(&s, &cat, &cand, Role::Etablissement, answer("INT-1", None)),
        Refusal::NoPendingDocumentRequest {
            line_id: id("INT-1")
        }
    );
    let other_line = Some(CorrectionInput::External(invoice("INT-1", "X", "F", "1")));
    assert!(matches!(
        refusal(
            &s,
            &cat,
            &cand,
            Role::Etablissement,
            answer("EXT-1", other_line)
        ),
        Refusal::Malformed {
            field: "line_id",
            ..
        }
    ));
    let wrong_kind = Some(CorrectionInput::Internal(seed_employee("")));
    assert!(matches!(
        refusal(
            &s,
            &cat,
            &cand,
            Role::Etablissement,
            answer("EXT-1", wrong_kind)
        ),
        Refusal::LineKindMismatch { .. }
    ));
    assert!(matches!(
        refusal(&s, &cat, &cand, Role::Controleur, answer("EXT-1", None)),
        Refusal::RoleNotAllowed { .. }
    ));
    // Answered without a correction: the line keeps its content and stays unreviewed.
    run(
        &mut s,
        &ctx(&cat, &cand, Role::Etablissement),
        answer("EXT-1", None),
    );
    assert_eq!(s.lines[&id("EXT-1")].revision, 0);
    assert!(
        !s.latest_review(&id("EXT-1"))
            .unwrap()
            .answer
            .as_ref()
            .unwrap()
            .corrected
    );
}

#[test]
fn a_correction_after_reopening_makes_a_reviewed_line_unreviewed_again() {
    let (mut s, cat, cand) = submitted();
    let ctrl = ctx(&cat, &cand, Role::Controleur);
    run(&mut s, &ctrl, partially_eligible("EXT-1", "10 000,00"));
    run(
        &mut s,
        &ctrl,
        StatementCommand::Reopen {
            reason: "correction".into(),
        },
    );
    run(
        &mut s,
        &ctx(&cat, &cand, Role::Etablissement),
        StatementCommand::CorrectExternalCost(invoice(
            "EXT-1",
            "Cyberscan SAS",
            "F-1",
            "11 000,00",
        )),
    );
    assert_eq!(s.lines[&id("EXT-1")].retained, None);
    assert_eq!(s.reviews[&id("EXT-1")].len(), 1, "history kept");
    assert_eq!(
        compute_subsidy(&s, &cat, &cand).unwrap().unreviewed_lines,
        2
    );
}

#[test]
fn review_events_read_back_from_json_and_earlier_event_kinds_still_read() {
    let (mut s, cat, cand) = submitted();
    let events = run(
        &mut s,
        &ctx(&cat, &cand, Role::Controleur),
        ineligible("EXT-1", "DOUBLON", "déjà déclarée"),
    );
    let json = serde_json::to_string(&events[0]).unwrap();
    assert!(json.contains("\"type\":\"LineReviewed\""), "{json}");
    assert!(json.contains("\"reason_code\":\"DOUBLON\""), "{json}");
    assert_eq!(
        serde_json::from_str::<StatementEvent>(&json).unwrap(),
        events[0]
    );
    let stored = r#"{"type":"StatementReopened","schema_version":1,"reason":"contrôle"}"#;
    assert_eq!(
        serde_json::from_str::<StatementEvent>(stored).unwrap(),
        StatementEvent::StatementReopened {
            schema_version: 1,
            reason: "contrôle".into()
        }
    );
}
