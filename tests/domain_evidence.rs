//! D1 bis attainment computed on the statement from the controller's audit evidence (SPEC.md §7, seed
//! 003). Pure domain tests: given a statement, when RecordEvidence / ComputeAttainment, then these events,
//! this state, these refusals.

mod common;

use care_ledger::domain::attainment::{
    AdsAudit, Directory, Evidence, ExposureTier, Status as Computed,
};
use care_ledger::domain::statement::*;
use care_ledger::domain::{Candidate, DomainCatalogue, Finess, ObjectiveCode, Percent};
use chrono::{Days, NaiveDate};
use common::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

const CAS_1: [(u8, u8); 5] = [(3, 2), (1, 1), (2, 2), (2, 3), (1, 2)];
const CAS_2: [(u8, u8); 5] = [(2, 3), (1, 1), (1, 2), (1, 1), (2, 1)];

/// The declaration date of `submitted` (the fixtures' `ctx` instant).
fn submission() -> NaiveDate {
    date(2026, 10, 5)
}

fn code(text: &str) -> ObjectiveCode {
    ObjectiveCode::parse(text).unwrap()
}

fn pct(v: Decimal) -> Percent {
    Percent::new(v)
}

/// One AD per unit ("AD1" serving the first, …) and, per AD, the seed's (penultimate, last) ADS scores
/// 40 and 10 days before the submission.
fn seed_evidence(units: &[Finess], scores: &[(u8, u8)]) -> Evidence {
    let before = |days: u64| submission().checked_sub_days(Days::new(days)).unwrap();
    let mut evidence = Evidence::default();
    for (i, (unit, (penultimate, last))) in units.iter().zip(scores).enumerate() {
        let id = format!("AD{}", i + 1);
        evidence.directories.push(Directory {
            id: id.clone(),
            name: format!("Annuaire {}", i + 1),
            serves: vec![unit.clone()],
        });
        for (days, score) in [(40, *penultimate), (10, *last)] {
            evidence.ads_audits.push(AdsAudit {
                directory_id: id.clone(),
                launch: before(days),
                end: before(days - 2),
                score,
            });
        }
    }
    evidence
}

/// The private candidate's five EG (shares 60, 15, 10, 5, 10), in file order.
fn private_egs(candidate: &Candidate) -> Vec<Finess> {
    candidate
        .establishments
        .iter()
        .filter(|e| e.level == care_ledger::domain::candidate::Level::Eg)
        .map(|e| e.finess.clone())
        .collect()
}

fn submitted(cat: &DomainCatalogue, cand: &Candidate) -> Statement {
    let mut s = opened(cat, cand);
    run(
        &mut s,
        &ctx(cat, cand, Role::Etablissement),
        StatementCommand::Submit,
    );
    s
}

fn record(evidence: Evidence) -> StatementCommand {
    StatementCommand::RecordEvidence { evidence }
}

fn compute() -> StatementCommand {
    StatementCommand::ComputeAttainment {
        reason: "contrôle sur pièces".into(),
    }
}

/// Records the evidence and computes, as a controller; returns the events of the computation.
fn computed(
    s: &mut Statement,
    cat: &DomainCatalogue,
    cand: &Candidate,
    e: Evidence,
) -> Vec<StatementEvent> {
    let ctrl = ctx(cat, cand, Role::Controleur);
    run(s, &ctrl, record(e));
    run(s, &ctrl, compute())
}

fn recorded<'a>(
    events: &'a [StatementEvent],
    objective: &str,
) -> (&'a AttainmentStatus, &'a Option<Percent>, &'a String) {
    events
        .iter()
        .find_map(|e| match e {
            StatementEvent::AttainmentRecorded {
                objective: o,
                status,
                coverage,
                reason,
                ..
            } if o.as_str() == objective => Some((status, coverage, reason)),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no AttainmentRecorded for {objective}"))
}

#[test]
fn seed_case_1_on_the_private_candidate_attains_d1_o1_b_at_75_percent() {
    let (cat, cand) = (d1bis(), private());
    let mut s = submitted(&cat, &cand);
    let events = computed(
        &mut s,
        &cat,
        &cand,
        seed_evidence(&private_egs(&cand), &CAS_1),
    );

    let v = &s.computed[&code("D1.O1.B")];
    assert_eq!(v.status, Computed::Attained, "{:?}", v.explanation_fr);
    assert_eq!(v.coverage, Some(pct(dec!(75))));
    assert!(v.explanation_fr.iter().any(|l| l.contains("75")));
    assert_eq!(v.reason, "contrôle sur pièces");
    assert_eq!(v.detail["kind"], "Level");

    let (status, coverage, reason) = recorded(&events, "D1.O1.B");
    assert_eq!(*status, AttainmentStatus::Attained);
    assert_eq!(*coverage, Some(pct(dec!(75))));
    assert!(reason.starts_with("calculé : "), "{reason}");
    assert_eq!(s.attainment(&code("D1.O1.B")), AttainmentStatus::Attained);
    // Each computed verdict is followed by its record.
    let computed_then_recorded = events.chunks(2).all(|pair| {
        matches!(
            pair,
            [
                StatementEvent::AttainmentComputed { objective: a, .. },
                StatementEvent::AttainmentRecorded { objective: b, .. }
            ] if a == b
        )
    });
    assert!(computed_then_recorded);
}

#[test]
fn seed_case_2_is_not_attained_at_60_percent_and_d1_o1_b_costs_the_whole_subsidy() {
    let (cat, cand) = (d1bis(), private());
    let mut s = submitted(&cat, &cand);
    let events = computed(
        &mut s,
        &cat,
        &cand,
        seed_evidence(&private_egs(&cand), &CAS_2),
    );

    let (status, coverage, _) = recorded(&events, "D1.O1.B");
    assert_eq!(*status, AttainmentStatus::NotAttained);
    assert_eq!(*coverage, Some(pct(dec!(60))));
    let report = compute_subsidy(&s, &cat, &cand).unwrap();
    let d1o1b = report
        .decote_detail
        .iter()
        .find(|c| c.item == code("D1.O1.B"))
        .expect("D1.O1.B in the décote");
    assert_eq!(d1o1b.percent, Percent::HUNDRED);
    assert_eq!(report.decote, Percent::HUNDRED);
    assert!(report.subsidy.is_zero());
}

#[test]
fn a_ght_is_counted_per_ej_with_its_support_establishment() {
    let (cat, cand) = (d1bis(), ght());
    let mut s = submitted(&cat, &cand);
    let actx = attainment_context(&cand, &cat, submission()).unwrap();
    let units: Vec<(&str, bool)> = actx
        .coverage_units
        .iter()
        .map(|u| (u.finess.as_str(), u.is_support))
        .collect();
    assert_eq!(
        units,
        [
            ("690003116", true),
            ("690003249", false),
            ("690003371", false)
        ]
    );
    // Support (55 %) and the local hospital (15 %) at target, the other EJ (30 %) not: 70 %.
    let ejs: Vec<Finess> = actx
        .coverage_units
        .iter()
        .map(|u| u.finess.clone())
        .collect();
    let events = computed(
        &mut s,
        &cat,
        &cand,
        seed_evidence(&ejs, &[(2, 3), (1, 1), (2, 2)]),
    );
    let (status, coverage, _) = recorded(&events, "D1.O1.B");
    assert_eq!(*coverage, Some(pct(dec!(70))));
    assert_eq!(*status, AttainmentStatus::Attained);
    // D1.O6 applies to a GHT: computed (unknown without documents), not skipped.
    assert!(s.computed.contains_key(&code("D1.O6.A")));
}

#[test]
fn d1_o6_is_skipped_for_a_candidate_that_is_not_a_ght() {
    let (cat, cand) = (d1bis(), private());
    let mut s = submitted(&cat, &cand);
    let events = computed(
        &mut s,
        &cat,
        &cand,
        seed_evidence(&private_egs(&cand), &CAS_1),
    );
    assert_eq!(events.len(), 2 * 7);
    assert!(!s.computed.contains_key(&code("D1.O6.A")));
    assert!(!s.attainments.contains_key(&code("D1.O6.B")));
}

#[test]
fn evidence_and_computation_are_refused_on_d2() {
    let (cat, cand) = (d2(), ght());
    let mut s = submitted(&cat, &cand);
    let ctrl = ctx(&cat, &cand, Role::Controleur);
    let refused = decide(&s, &ctrl, compute()).unwrap_err();
    assert!(matches!(
        refused,
        Refusal::AttainmentNotComputable { domain: "D2" }
    ));
    assert!(refused.to_string().contains("D1 bis"), "{refused}");
    let refused = decide(&s, &ctrl, record(Evidence::default())).unwrap_err();
    assert!(matches!(refused, Refusal::AttainmentNotComputable { .. }));
    // D2 attainment is still recorded by hand.
    run(&mut s, &ctrl, attainment("D2.O1.A", "attained", ""));
}

#[test]
fn computing_before_the_submission_is_refused() {
    let (cat, cand) = (d1bis(), private());
    let mut s = opened(&cat, &cand);
    let ctrl = ctx(&cat, &cand, Role::Controleur);
    run(
        &mut s,
        &ctrl,
        record(seed_evidence(&private_egs(&cand), &CAS_1)),
    );
    let refused = decide(&s, &ctrl, compute()).unwrap_err();
    assert_eq!(refused, Refusal::NotSubmittedForAttainment);
}

#[test]
fn computing_without_evidence_is_refused() {
    let (cat, cand) = (d1bis(), private());
    let s = submitted(&cat, &cand);
    let refused = decide(&s, &ctx(&cat, &cand, Role::Controleur), compute()).unwrap_err();
    assert_eq!(refused, Refusal::NoEvidence);
}

#[test]
fn an_ads_score_of_7_is_refused_naming_the_field() {
    let (cat, cand) = (d1bis(), private());
    let s = submitted(&cat, &cand);
    let mut e = seed_evidence(&private_egs(&cand), &CAS_1);
    e.ads_audits[3].score = 7;
    let refused = decide(&s, &ctx(&cat, &cand, Role::Controleur), record(e)).unwrap_err();
    assert!(
        matches!(
            refused,
            Refusal::InvalidEvidence {
                field: "evidence.ads_audits.score",
                ..
            }
        ),
        "{refused:?}"
    );
    let message = refused.to_string();
    assert!(
        message.starts_with("champ evidence.ads_audits.score"),
        "{message}"
    );
    assert!(message.contains("score 7"), "{message}");
}

#[test]
fn only_a_controller_records_evidence_and_computes() {
    let (cat, cand) = (d1bis(), private());
    let s = submitted(&cat, &cand);
    for role in [Role::Etablissement, Role::Paiement] {
        let refused = decide(&s, &ctx(&cat, &cand, role), compute()).unwrap_err();
        assert!(matches!(refused, Refusal::RoleNotAllowed { .. }));
        let refused = decide(&s, &ctx(&cat, &cand, role), record(Evidence::default())).unwrap_err();
        assert!(matches!(refused, Refusal::RoleNotAllowed { .. }));
    }
}

#[test]
fn a_later_evidence_supersedes_the_earlier_one() {
    let (cat, cand) = (d1bis(), private());
    let mut s = submitted(&cat, &cand);
    computed(
        &mut s,
        &cat,
        &cand,
        seed_evidence(&private_egs(&cand), &CAS_1),
    );
    computed(
        &mut s,
        &cat,
        &cand,
        seed_evidence(&private_egs(&cand), &CAS_2),
    );
    assert_eq!(s.evidence, Some(seed_evidence(&private_egs(&cand), &CAS_2)));
    assert_eq!(s.computed[&code("D1.O1.B")].coverage, Some(pct(dec!(60))));
    assert_eq!(
        s.attainment(&code("D1.O1.B")),
        AttainmentStatus::NotAttained
    );
}

#[test]
fn a_manual_override_keeps_the_computed_verdict_visible() {
    let (cat, cand) = (d1bis(), private());
    let mut s = submitted(&cat, &cand);
    computed(
        &mut s,
        &cat,
        &cand,
        seed_evidence(&private_egs(&cand), &CAS_1),
    );
    run(
        &mut s,
        &ctx(&cat, &cand, Role::Controleur),
        StatementCommand::RecordAttainment(AttainmentInput {
            objective: "D1.O1.B".into(),
            status: "not_attained".into(),
            coverage: "60".into(),
            reason: "audit ADS de l'EG 3 non probant (rapport incomplet)".into(),
        }),
    );
    assert_eq!(
        s.attainment(&code("D1.O1.B")),
        AttainmentStatus::NotAttained
    );
    let computed = &s.computed[&code("D1.O1.B")];
    assert_eq!(computed.status, Computed::Attained);
    assert_eq!(computed.coverage, Some(pct(dec!(75))));
}

#[test]
fn the_clinique_sample_evidence_gives_the_recorded_figures() {
    let (cat, cand) = (d1bis(), private());
    assert_eq!(cand.finess.as_str(), "130004526");
    let evidence: Evidence =
        serde_json::from_str(include_str!("../fixtures/evidence/clinique-parc-cas1.json")).unwrap();
    let mut s = opened(&cat, &cand);
    run(
        &mut s,
        // The demo's declaration date for the Clinique (its declarations run after Montfavet's, whose
        // last step is on 25 April 2027).
        &ctx_at(&cat, &cand, Role::Etablissement, noon(2027, 4, 25)),
        StatementCommand::Submit,
    );
    let events = computed(&mut s, &cat, &cand, evidence);
    let (status, coverage, _) = recorded(&events, "D1.O1.B");
    assert_eq!(
        (*status, *coverage),
        (AttainmentStatus::Attained, Some(pct(dec!(75)))),
        "{:?}",
        s.computed[&code("D1.O1.B")].explanation_fr
    );
    let o2b = &s.computed[&code("D1.O2.B")];
    assert_eq!(
        o2b.tier,
        Some(ExposureTier::Tier15),
        "{:?}",
        o2b.explanation_fr
    );
    assert_eq!(o2b.coverage, Some(pct(dec!(75))));
    for objective in ["D1.O1.A", "D1.O2.A", "D1.O3", "D1.O4", "D1.O5"] {
        assert_eq!(
            s.attainment(&code(objective)),
            AttainmentStatus::Attained,
            "{objective}: {:?}",
            s.computed[&code(objective)].explanation_fr
        );
    }
    // D1.O2.B's 15 % tier is the whole décote.
    let report = compute_subsidy(&s, &cat, &cand).unwrap();
    assert_eq!(report.decote, pct(dec!(15)));
}

#[test]
fn evidence_events_read_back_from_json() {
    let (cat, cand) = (d1bis(), private());
    let mut s = submitted(&cat, &cand);
    let ctrl = ctx(&cat, &cand, Role::Controleur);
    let mut events = run(
        &mut s,
        &ctrl,
        record(seed_evidence(&private_egs(&cand), &CAS_1)),
    );
    events.extend(run(&mut s, &ctrl, compute()));
    for e in &events {
        let json = serde_json::to_string(e).unwrap();
        let back: StatementEvent = serde_json::from_str(&json).unwrap();
        assert_eq!(&back, e);
        assert_eq!(back.schema_version(), 1);
    }
    assert_eq!(events[0].type_name(), "EvidenceRecorded");
    assert_eq!(events[1].type_name(), "AttainmentComputed");
    // The state folds back identically, with the computed verdicts and the evidence.
    let replayed = fold(
        &[
            StatementEvent::StatementOpened {
                schema_version: 1,
                candidate: cand.finess.clone(),
                domain: care_ledger::domain::DomainId::D1bis,
            },
            StatementEvent::StatementSubmitted {
                schema_version: 1,
                submitted_at: noon(2026, 10, 5),
                declaration_date: submission(),
            },
        ]
        .into_iter()
        .chain(events)
        .collect::<Vec<_>>(),
    );
    assert_eq!(replayed.computed, s.computed);
    assert_eq!(replayed.evidence, s.evidence);
}
