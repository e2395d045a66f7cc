mod common;

use care_ledger::domain::money::MoneyError;
use care_ledger::domain::statement::flags::{codes, establishment_view};
use care_ledger::domain::statement::*;
use care_ledger::domain::{Matricule, Money, ObjectiveCode};
use common::*;
use rust_decimal_macros::dec;

#[test]
fn the_seed_recap_employee_gives_6613_57_imputable_on_d1_o1_a() {
    let cat = d1bis();
    let cand = private();
    let mut s = opened(&cat, &cand);
    run(
        &mut s,
        &ctx(&cat, &cand, Role::Etablissement),
        StatementCommand::DeclareInternalCost(seed_employee("INT-1")),
    );
    let line = &s.lines[&LineId::parse("INT-1").unwrap()];
    let LineContent::Internal(internal) = &line.content else {
        panic!("internal line expected")
    };
    let rows = internal.rows();
    assert_eq!(rows.non_eligible_charges, Money::ZERO);
    assert_eq!(rows.subtotal, Money::from_cents(8_856_673));
    assert_eq!(rows.hourly_rate.round_dp(6), dec!(55.113086));
    assert!(rows.hourly_rate.to_string().starts_with("55.11308649657"));
    assert_eq!(rows.imputable, Money::from_cents(661_357));
    assert_eq!(line.declared, Money::from_cents(661_357));
    assert_eq!(line.retained, None);
}

#[test]
fn non_eligible_gross_takes_its_share_of_charges_unrounded() {
    let cat = d1bis();
    let cand = private();
    let mut s = opened(&cat, &cand);
    let mut input = seed_employee("INT-2");
    input.non_eligible_gross = "5 563,13".into();
    run(
        &mut s,
        &ctx(&cat, &cand, Role::Etablissement),
        StatementCommand::DeclareInternalCost(input),
    );
    let LineContent::Internal(l) = &s.lines[&LineId::parse("INT-2").unwrap()].content else {
        panic!()
    };
    let rows = l.rows();
    // 32 935,48 × 5 563,13 ÷ 55 631,25 = 3 293,55096015998...: kept unrounded.
    assert_eq!(
        rows.non_eligible_charges.value().round_dp(8),
        dec!(3293.55096016)
    );
    assert!(rows.non_eligible_charges.value().scale() > 2);
    assert_eq!(rows.gross_eligible, Money::from_cents(5_006_812));
    // (50 068,12 + 29 641,929039...) = 79 710,049039... ÷ 1 607 × 120 = 5 952,2127... → 5 952,21.
    assert_eq!(rows.subtotal.value().round_dp(6), dec!(79710.049040));
    assert_eq!(rows.imputable, Money::from_cents(595_221));
}

#[test]
fn a_correction_supersedes_the_line_and_a_withdrawal_keeps_it_out_of_totals() {
    let cat = d1bis();
    let cand = private();
    let c = ctx(&cat, &cand, Role::Etablissement);
    let mut s = opened(&cat, &cand);
    run(
        &mut s,
        &c,
        StatementCommand::DeclareInternalCost(seed_employee("INT-1")),
    );
    let mut corrected = seed_employee("INT-1");
    corrected.hours_on_action = "60".into();
    let events = run(&mut s, &c, StatementCommand::CorrectInternalCost(corrected));
    assert_eq!(events[0].type_name(), "LineCorrected");
    let line = &s.lines[&LineId::parse("INT-1").unwrap()];
    assert_eq!(line.revision, 1);
    // 88 566,73 ÷ 1 607 × 60 = 3 306,785... → 3 306,79.
    assert_eq!(line.declared, Money::from_cents(330_679));
    run(
        &mut s,
        &c,
        StatementCommand::WithdrawLine {
            line_id: "INT-1".into(),
            reason: "doublon".into(),
        },
    );
    assert_eq!(s.active_lines().count(), 0);
    assert_eq!(s.lines.len(), 1);
    let refused = decide(
        &s,
        &c,
        StatementCommand::WithdrawLine {
            line_id: "INT-1".into(),
            reason: "x".into(),
        },
    );
    assert!(matches!(refused, Err(Refusal::LineWithdrawn { .. })));
}

fn refusal(cmd: StatementCommand) -> Refusal {
    let cat = d1bis();
    let cand = private();
    let s = opened(&cat, &cand);
    decide(&s, &ctx(&cat, &cand, Role::Etablissement), cmd).unwrap_err()
}

fn internal_with(f: impl FnOnce(&mut InternalCostInput)) -> StatementCommand {
    let mut input = seed_employee("INT-9");
    f(&mut input);
    StatementCommand::DeclareInternalCost(input)
}

fn invoice_with(f: impl FnOnce(&mut ExternalCostInput)) -> StatementCommand {
    let mut input = invoice("EXT-9", "Cyberscan SAS", "F-1", "12 000,00");
    f(&mut input);
    StatementCommand::DeclareExternalCost(input)
}

#[test]
fn a_missing_mandatory_field_is_refused_with_its_name() {
    assert_eq!(
        refusal(internal_with(|i| i.matricule.clear())),
        Refusal::MissingField { field: "matricule" }
    );
    assert_eq!(
        refusal(invoice_with(|i| i.invoice_number = "  ".into())),
        Refusal::MissingField {
            field: "invoice_number"
        }
    );
    assert_eq!(
        refusal(invoice_with(|i| i.amount.clear())),
        Refusal::MissingField { field: "amount" }
    );
    assert_eq!(
        refusal(invoice_with(|i| i.contribution.clear())),
        Refusal::MissingField {
            field: "contribution"
        }
    );
}

#[test]
fn malformed_amounts_three_decimals_and_negatives_are_refused() {
    assert_eq!(
        refusal(invoice_with(|i| i.amount = "12 000,005".into())),
        Refusal::InvalidAmount {
            field: "amount",
            source: MoneyError::TooManyDecimals("12 000,005".into())
        }
    );
    assert_eq!(
        refusal(invoice_with(|i| i.amount = "-50".into())),
        Refusal::InvalidAmount {
            field: "amount",
            source: MoneyError::Negative("-50".into())
        }
    );
    assert_eq!(
        refusal(internal_with(|i| i.employer_charges = "32.935,48".into())),
        Refusal::InvalidAmount {
            field: "employer_charges",
            source: MoneyError::Malformed("32.935,48".into())
        }
    );
    let message = refusal(invoice_with(|i| i.amount = "12,345".into())).to_string();
    assert_eq!(
        message,
        "champ amount : montant \"12,345\" : plus de 2 décimales"
    );
}

#[test]
fn unknown_and_ght_only_objectives_are_refused_for_a_private_candidate() {
    assert_eq!(
        refusal(invoice_with(|i| i.objective = "D1.O7".into())),
        Refusal::UnknownObjective {
            field: "objective",
            code: "D1.O7".into()
        }
    );
    assert_eq!(
        refusal(invoice_with(|i| i.objective = "D2.O1.A".into())),
        Refusal::UnknownObjective {
            field: "objective",
            code: "D2.O1.A".into()
        }
    );
    assert_eq!(
        refusal(invoice_with(|i| i.objective = "D1.06.B".into())),
        Refusal::GhtOnlyObjective {
            field: "objective",
            code: ObjectiveCode::parse("D1.O6.B").unwrap()
        }
    );
}

#[test]
fn a_ght_may_declare_on_d1_o6_and_the_digit_zero_spelling_is_stored_with_a_letter_o() {
    let cat = d1bis();
    let cand = ght();
    let mut s = opened(&cat, &cand);
    let mut input = invoice("EXT-1", "Conseil AD", "F-9", "8 400,00");
    input.objective = "D1.06.B".into();
    input.nature = "STRATEGIE_CONVERGENCE_AD".into();
    run(
        &mut s,
        &ctx(&cat, &cand, Role::Etablissement),
        StatementCommand::DeclareExternalCost(input),
    );
    assert_eq!(
        s.lines
            .values()
            .next()
            .unwrap()
            .content
            .objective()
            .as_str(),
        "D1.O6.B"
    );
}

#[test]
fn hours_are_checked_against_productive_hours() {
    assert_eq!(
        refusal(internal_with(|i| i.hours_productive = "0".into())),
        Refusal::NotPositive {
            field: "hours_productive",
            value: "0".into()
        }
    );
    assert_eq!(
        refusal(internal_with(|i| i.hours_on_action = "1607,5".into())),
        Refusal::HoursOnActionOutOfRange {
            hours: dec!(1607.5),
            productive: dec!(1607)
        }
    );
    assert_eq!(
        refusal(internal_with(|i| i.hours_on_action = "0".into())),
        Refusal::HoursOnActionOutOfRange {
            hours: dec!(0),
            productive: dec!(1607)
        }
    );
    assert!(decide(
        &opened(&d1bis(), &private()),
        &ctx(&d1bis(), &private(), Role::Etablissement),
        internal_with(|i| i.hours_on_action = "1607".into())
    )
    .is_ok());
}

#[test]
fn a_year_outside_the_template_and_an_implausible_date_are_refused() {
    assert_eq!(
        refusal(internal_with(|i| i.year = "2025".into())),
        Refusal::YearNotInTemplate {
            year: 2025,
            years: "2026, 2027".into()
        }
    );
    assert_eq!(
        refusal(invoice_with(|i| i.invoice_date = "2036-01-01".into())),
        Refusal::DateOutOfRange {
            field: "invoice_date",
            date: date(2036, 1, 1)
        }
    );
    assert!(matches!(
        refusal(invoice_with(|i| i.order_date = "31/02/2026".into())),
        Refusal::Malformed {
            field: "order_date",
            ..
        }
    ));
    assert_eq!(
        refusal(invoice_with(|i| i.nature = "CAFE".into())),
        Refusal::UnknownNature {
            field: "nature",
            code: "CAFE".into()
        }
    );
}

#[test]
fn after_submission_the_establishment_cannot_change_lines_until_a_controller_reopens() {
    let cat = d1bis();
    let cand = private();
    let etab = ctx(&cat, &cand, Role::Etablissement);
    let ctrl = ctx(&cat, &cand, Role::Controleur);
    let mut s = opened(&cat, &cand);
    run(
        &mut s,
        &etab,
        StatementCommand::DeclareInternalCost(seed_employee("INT-1")),
    );
    let events = run(&mut s, &etab, StatementCommand::Submit);
    assert_eq!(
        events,
        vec![StatementEvent::StatementSubmitted {
            schema_version: 1,
            submitted_at: noon(2026, 10, 5),
            declaration_date: date(2026, 10, 5)
        }]
    );
    assert_eq!(
        decide(
            &s,
            &etab,
            StatementCommand::DeclareExternalCost(invoice("EXT-1", "A", "1", "10"))
        ),
        Err(Refusal::Locked)
    );
    assert_eq!(
        decide(&s, &etab, StatementCommand::Reopen { reason: "x".into() }),
        Err(Refusal::RoleNotAllowed {
            role: "etablissement",
            command: "Reopen"
        })
    );
    assert_eq!(
        decide(&s, &etab, attainment("D1.O1.A", "attained", "")),
        Err(Refusal::RoleNotAllowed {
            role: "etablissement",
            command: "RecordAttainment"
        })
    );
    assert_eq!(
        decide(&s, &ctrl, StatementCommand::Reopen { reason: " ".into() }),
        Err(Refusal::MissingField { field: "reason" })
    );
    run(
        &mut s,
        &ctrl,
        StatementCommand::Reopen {
            reason: "pièce manquante".into(),
        },
    );
    assert_eq!(s.status, StatementStatus::Reopened);
    run(
        &mut s,
        &etab,
        StatementCommand::DeclareExternalCost(invoice("EXT-1", "A", "1", "10")),
    );
    assert_eq!(
        decide(
            &s,
            &ctrl,
            StatementCommand::DeclareExternalCost(invoice("EXT-2", "A", "2", "10"))
        ),
        Err(Refusal::RoleNotAllowed {
            role: "controleur",
            command: "DeclareExternalCost"
        })
    );
    assert_eq!(
        decide(
            &s,
            &ctx(&cat, &cand, Role::Paiement),
            StatementCommand::Submit
        ),
        Err(Refusal::RoleNotAllowed {
            role: "paiement",
            command: "Submit"
        })
    );
}

#[test]
fn decide_is_deterministic_and_refuses_duplicate_line_ids() {
    let cat = d1bis();
    let cand = private();
    let c = ctx(&cat, &cand, Role::Etablissement);
    let mut s = opened(&cat, &cand);
    let cmd = StatementCommand::DeclareExternalCost(invoice("EXT-1", "A", "1", "10"));
    assert_eq!(decide(&s, &c, cmd.clone()), decide(&s, &c, cmd.clone()));
    run(&mut s, &c, cmd.clone());
    assert_eq!(
        decide(&s, &c, cmd),
        Err(Refusal::DuplicateLineId {
            line_id: LineId::parse("EXT-1").unwrap()
        })
    );
    assert_eq!(
        decide(&Statement::new(), &c, StatementCommand::Submit),
        Err(Refusal::NotOpened)
    );
}

#[test]
fn a_tiered_coverage_must_agree_with_the_recorded_status() {
    let cat = d1bis();
    let cand = private();
    let s = opened(&cat, &cand);
    let ctrl = ctx(&cat, &cand, Role::Controleur);
    assert!(matches!(
        decide(&s, &ctrl, attainment("D1.O2.B", "attained", "75")),
        Err(Refusal::CoverageContradictsStatus { .. })
    ));
    assert!(decide(&s, &ctrl, attainment("D1.O2.B", "not_attained", "75")).is_ok());
    assert!(decide(&s, &ctrl, attainment("D1.O2.B", "atteint", "92,5")).is_ok());
    assert!(matches!(
        decide(&s, &ctrl, attainment("D1.O6.A", "attained", "")),
        Err(Refusal::GhtOnlyObjective { .. })
    ));
}

#[test]
fn events_carry_schema_version_1_and_round_trip_through_json() {
    let cat = d1bis();
    let cand = private();
    let mut s = opened(&cat, &cand);
    let events = run(
        &mut s,
        &ctx(&cat, &cand, Role::Etablissement),
        StatementCommand::DeclareInternalCost(seed_employee("INT-1")),
    );
    let json = serde_json::to_value(&events[0]).unwrap();
    assert_eq!(json["type"], "InternalCostDeclared");
    assert_eq!(json["schema_version"], 1);
    assert_eq!(json["line"]["gross_annualised"], "55631.25");
    let back: StatementEvent = serde_json::from_value(json).unwrap();
    assert_eq!(back, events[0]);
}

// ----- flags -----

fn flagged(s: &Statement, inputs: &FlagInputs) -> Vec<Flag> {
    flags(s, &d1bis(), &private(), inputs)
}

#[test]
fn an_invoice_dated_on_the_decree_day_is_not_flagged_and_the_day_before_is() {
    let cat = d1bis();
    let cand = private();
    let c = ctx(&cat, &cand, Role::Etablissement);
    let mut s = opened(&cat, &cand);
    let mut on_day = invoice("EXT-1", "A", "1", "10");
    on_day.order_date = "2026-01-30".into();
    on_day.invoice_date = "2026-01-30".into();
    run(&mut s, &c, StatementCommand::DeclareExternalCost(on_day));
    assert!(flagged(&s, &FlagInputs::default())
        .iter()
        .all(|f| f.code != "DATE_HORS_PERIODE"));
    let mut before = invoice("EXT-2", "B", "2", "10");
    before.order_date = "2026-01-29".into();
    run(&mut s, &c, StatementCommand::DeclareExternalCost(before));
    let f = flagged(&s, &FlagInputs::default());
    let dates: Vec<&Flag> = f.iter().filter(|f| f.code == "DATE_HORS_PERIODE").collect();
    assert_eq!(dates.len(), 1);
    assert_eq!(dates[0].line_id, LineId::parse("EXT-2"));
    assert_eq!(dates[0].values["date"], "2026-01-29");
    assert_eq!(
        dates[0].message_fr,
        "date de commande 29/01/2026 hors de la période d'éligibilité (30/01/2026 → 31/03/2027)"
    );
}

#[test]
fn an_invoice_after_the_declaration_date_and_before_its_order_is_flagged() {
    let cat = d1bis();
    let cand = private();
    let mut s = opened(&cat, &cand);
    let mut late = invoice("EXT-1", "A", "1", "10");
    late.order_date = "2026-10-06".into();
    late.invoice_date = "2026-10-01".into();
    run(
        &mut s,
        &ctx(&cat, &cand, Role::Etablissement),
        StatementCommand::DeclareExternalCost(late),
    );
    let inputs = FlagInputs {
        declaration_date: Some(date(2026, 10, 5)),
        ..FlagInputs::default()
    };
    let f = flagged(&s, &inputs);
    assert_eq!(
        codes(&f).into_iter().collect::<Vec<_>>(),
        vec!["DATE_HORS_PERIODE", "FACTURE_AVANT_COMMANDE"]
    );
    assert_eq!(
        f.iter().filter(|f| f.code == "DATE_HORS_PERIODE").count(),
        1
    );
}

#[test]
fn non_eligible_natures_and_duplicates_within_and_across_candidates_are_flagged() {
    let cat = d1bis();
    let cand = private();
    let c = ctx(&cat, &cand, Role::Etablissement);
    let mut s = opened(&cat, &cand);
    let mut travel = invoice("EXT-1", "Taxi Phocéen", "T-77", "84,00");
    travel.nature = "FRAIS_DEPLACEMENT".into();
    run(&mut s, &c, StatementCommand::DeclareExternalCost(travel));
    run(
        &mut s,
        &c,
        StatementCommand::DeclareExternalCost(invoice(
            "EXT-2",
            "Cyberscan SAS",
            "FA-2026-0042",
            "12 000,00",
        )),
    );
    run(
        &mut s,
        &c,
        StatementCommand::DeclareExternalCost(invoice(
            "EXT-3",
            "CYBERSCAN s.a.s.",
            "fa 2026 0042",
            "12 000,00",
        )),
    );
    let inputs = FlagInputs {
        other_invoices: vec![ForeignInvoice {
            candidate: ght().finess,
            line_id: LineId::parse("G-EXT-5").unwrap(),
            supplier: "Cyberscan".into(),
            invoice_number: "FA-2026-0042".into(),
        }],
        ..FlagInputs::default()
    };
    let _ = &inputs;
    let f = flagged(&s, &inputs);
    let nature: Vec<&Flag> = f
        .iter()
        .filter(|f| f.code == "NATURE_NON_ELIGIBLE")
        .collect();
    assert_eq!(nature.len(), 1);
    assert_eq!(nature[0].line_id, LineId::parse("EXT-1"));
    let dup: Vec<&Flag> = f.iter().filter(|f| f.code == "FACTURE_EN_DOUBLE").collect();
    assert_eq!(dup.len(), 2);
    assert_eq!(dup[0].values["autres_lignes"], "EXT-3");
    // "Cyberscan" is "Cyberscan SAS" without its legal form (issue 13: the legal form dodged the
    // check): both lines match the other candidate's invoice, and the flag says how.
    let cross: Vec<&Flag> = f
        .iter()
        .filter(|f| f.code == "FACTURE_EN_DOUBLE_AUTRE_CANDIDAT")
        .collect();
    assert_eq!(cross.len(), 2);
    assert_eq!(cross[0].values["normalisation"], "forme juridique");
    assert_eq!(
        dup[0].values["normalisation"],
        "identiques (hors casse, accents, espaces et ponctuation)"
    );
    let inputs = FlagInputs {
        other_invoices: vec![ForeignInvoice {
            candidate: ght().finess,
            line_id: LineId::parse("G-EXT-5").unwrap(),
            supplier: "Cyberscan Conseil".into(),
            invoice_number: "FA-2026-0042".into(),
        }],
        ..FlagInputs::default()
    };
    assert!(flagged(&s, &inputs)
        .iter()
        .all(|f| f.code != "FACTURE_EN_DOUBLE_AUTRE_CANDIDAT"));
    let inputs = FlagInputs {
        other_invoices: vec![ForeignInvoice {
            candidate: ght().finess,
            line_id: LineId::parse("G-EXT-5").unwrap(),
            supplier: "Cyberscan SAS".into(),
            invoice_number: "FA-2026-0042".into(),
        }],
        ..FlagInputs::default()
    };
    let f = flagged(&s, &inputs);
    let cross: Vec<&Flag> = f
        .iter()
        .filter(|f| f.code == "FACTURE_EN_DOUBLE_AUTRE_CANDIDAT")
        .collect();
    assert_eq!(cross.len(), 2);
    assert!(cross.iter().all(|f| f.controller_only));
    assert!(establishment_view(f)
        .iter()
        .all(|f| f.code != "FACTURE_EN_DOUBLE_AUTRE_CANDIDAT"));
}

fn recap(
    matricule: &str,
    start: (i32, u32, u32),
    end: (i32, u32, u32),
    gross: i64,
) -> PayrollRecapSummary {
    PayrollRecapSummary {
        matricule: Matricule::parse(matricule).unwrap(),
        period_start: date(start.0, start.1, start.2),
        period_end: date(end.0, end.1, end.2),
        gross_total: Money::from_cents(gross),
        entry_date: None,
        exit_date: None,
        source_sha256: None,
    }
}

#[test]
fn internal_costs_are_checked_against_payroll_recaps_and_the_anonymisation_key() {
    let cat = d1bis();
    let cand = private();
    let mut s = opened(&cat, &cand);
    run(
        &mut s,
        &ctx(&cat, &cand, Role::Etablissement),
        StatementCommand::DeclareInternalCost(seed_employee("INT-1")),
    );
    let only = |inputs: FlagInputs| -> Vec<&'static str> {
        flagged(&s, &inputs).iter().map(|f| f.code).collect()
    };
    assert_eq!(only(FlagInputs::default()), vec!["RECAP_PAIE_ABSENT"]);
    // The seed's recap is for 2024, the line for 2026.
    let seed_recap = recap("44A567", (2024, 1, 1), (2024, 12, 31), 5_563_125);
    assert_eq!(
        only(FlagInputs {
            payroll_recaps: vec![seed_recap],
            ..FlagInputs::default()
        }),
        vec!["RECAP_PAIE_PERIODE_DIFFERENTE"]
    );
    let matching = recap("44A567", (2026, 1, 1), (2026, 12, 31), 5_563_125);
    assert!(only(FlagInputs {
        payroll_recaps: vec![matching.clone()],
        ..FlagInputs::default()
    })
    .is_empty());
    let different = recap("44A567", (2026, 1, 1), (2026, 12, 31), 5_400_000);
    let f = flagged(
        &s,
        &FlagInputs {
            payroll_recaps: vec![different],
            ..FlagInputs::default()
        },
    );
    assert_eq!(f[0].code, "RECAP_PAIE_BRUT_DIFFERENT");
    assert_eq!(f[0].values["brut_recapitulatif"], "54000.00");
    assert_eq!(f[0].values["brut_declare"], "55631.25");
    // Anonymised documents: 44A567 is a pseudonym the key must resolve.
    let real = recap("R-0001", (2026, 1, 1), (2026, 12, 31), 5_563_125);
    let key = [(
        Matricule::parse("44A567").unwrap(),
        Matricule::parse("R-0001").unwrap(),
    )]
    .into_iter()
    .collect();
    assert!(only(FlagInputs {
        payroll_recaps: vec![real.clone()],
        anonymisation_key: Some(key),
        ..FlagInputs::default()
    })
    .is_empty());
    assert_eq!(
        only(FlagInputs {
            payroll_recaps: vec![real],
            anonymisation_key: Some(Default::default()),
            ..FlagInputs::default()
        }),
        vec!["PSEUDONYME_NON_RESOLU"]
    );
}

#[test]
fn receipts_above_their_group_costs_and_a_crisis_exercise_before_the_decree_are_flagged() {
    let cat = d1bis();
    let cand = private();
    let c = ctx(&cat, &cand, Role::Etablissement);
    let mut s = opened(&cat, &cand);
    run(
        &mut s,
        &c,
        StatementCommand::DeclareInternalCost(seed_employee("INT-1")),
    );
    run(
        &mut s,
        &c,
        StatementCommand::DeclareReceipt(ReceiptInput {
            line_id: "REC-1".into(),
            group: "D1.01".into(),
            provenance: "Subvention régionale".into(),
            amount: "7 000,00".into(),
        }),
    );
    let mut exercise = invoice("EXT-1", "Crisalis", "C-12", "4 800,00");
    exercise.objective = "D1.O3".into();
    exercise.order_date = "2025-11-03".into();
    exercise.invoice_date = "2025-12-12".into();
    run(&mut s, &c, StatementCommand::DeclareExternalCost(exercise));
    let f = flagged(&s, &FlagInputs::default());
    let receipts: Vec<&Flag> = f
        .iter()
        .filter(|f| f.code == "RECETTES_SUPERIEURES_AUX_COUTS")
        .collect();
    assert_eq!(receipts.len(), 1);
    assert_eq!(receipts[0].values["couts"], "6613.57");
    assert_eq!(receipts[0].values["recettes"], "7000.00");
    assert!(receipts[0]
        .message_fr
        .starts_with("recettes du groupe D1.01"));
    let crisis: Vec<&Flag> = f
        .iter()
        .filter(|f| f.code == "EXERCICE_CRISE_NON_FINANCE")
        .collect();
    assert_eq!(crisis.len(), 1);
    assert_eq!(crisis[0].values["date"], "2025-11-03");
}
