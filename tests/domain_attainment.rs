//! D1 bis objective attainment from audit evidence (SPEC.md §7, seed 003 section 2). Pure domain tests:
//! given a context and evidence, when evaluated, then these verdicts.

use care_ledger::domain::attainment::{
    decote_relevant_status, evaluate, AdsAudit, AttainmentContext, AttainmentParams,
    AttainmentReport, CandidateKind, CoverageUnit, CrisisExercise, Detail, DigitalBudget,
    Directory, Evidence, ExposureAudit, ExposurePlatform, ExposureTier, FrequencyFailure, GapBasis,
    GhtDocuments, LevelOutcome, MilestoneLimit, OsisForm, OsisQuestionnaire, SileneDeadline,
    SileneUse, Status, Trajectory, UnitReason, Verdict,
};
use care_ledger::domain::{Finess, Percent};
use chrono::{Days, NaiveDate};
use proptest::prelude::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

// ---------- builders ----------

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn plus(date: NaiveDate, days: u64) -> NaiveDate {
    date.checked_add_days(Days::new(days)).unwrap()
}

fn minus(date: NaiveDate, days: u64) -> NaiveDate {
    date.checked_sub_days(Days::new(days)).unwrap()
}

fn finess(n: u32) -> Finess {
    Finess::with_check_digit(&format!("130000{n:02}")).unwrap()
}

fn pct(v: Decimal) -> Percent {
    Percent::new(v)
}

const PHASE_START: (i32, u32, u32) = (2026, 3, 2);
const SUBMISSION: (i32, u32, u32) = (2027, 3, 31);

fn phase_start() -> NaiveDate {
    d(PHASE_START.0, PHASE_START.1, PHASE_START.2)
}

fn submission() -> NaiveDate {
    d(SUBMISSION.0, SUBMISSION.1, SUBMISSION.2)
}

/// Coverage units "EG 1" … with the given shares; FINESS 13000001…
fn units(shares: &[Decimal]) -> Vec<CoverageUnit> {
    shares
        .iter()
        .enumerate()
        .map(|(i, s)| CoverageUnit {
            finess: finess(i as u32 + 1),
            label: format!("EG {}", i + 1),
            activity_share: pct(*s),
            is_support: false,
        })
        .collect()
}

fn ctx(kind: CandidateKind, shares: &[Decimal]) -> AttainmentContext {
    let units = units(shares);
    AttainmentContext {
        kind,
        pmsi_establishments: units.iter().map(|u| u.finess.clone()).collect(),
        coverage_units: units,
        phase_start: phase_start(),
        submission_date: submission(),
        params: AttainmentParams::default(),
    }
}

/// Seed 003's five EG with our shares: 60, 15, 10, 5, 10 (SPEC.md §7, our choice).
fn seed_shares() -> Vec<Decimal> {
    vec![dec!(60), dec!(15), dec!(10), dec!(5), dec!(10)]
}

fn directory(id: &str, serves: &[Finess]) -> Directory {
    Directory {
        id: id.to_string(),
        name: format!("Annuaire {id}"),
        serves: serves.to_vec(),
    }
}

/// An ADS audit lasting three days.
fn ads(dir: &str, launch: NaiveDate, score: u8) -> AdsAudit {
    AdsAudit {
        directory_id: dir.to_string(),
        launch,
        end: plus(launch, 3),
        score,
    }
}

fn exposure(
    id: &str,
    launch: NaiveDate,
    platform: ExposurePlatform,
    critical: u32,
    covers: &[Finess],
) -> ExposureAudit {
    ExposureAudit {
        id: id.to_string(),
        launch,
        end: plus(launch, 2),
        platform,
        critical_vulns: critical,
        covers: covers.to_vec(),
    }
}

/// One AD per EG, "AD1" serving EG 1 and so on.
fn one_directory_per_unit(n: usize) -> Vec<Directory> {
    (1..=n)
        .map(|i| directory(&format!("AD{i}"), &[finess(i as u32)]))
        .collect()
}

/// Launch dates from `start` separated by `gaps` days.
fn dates_with_gaps(start: NaiveDate, gaps: &[u64]) -> Vec<NaiveDate> {
    let mut out = vec![start];
    for g in gaps {
        let last = *out.last().unwrap();
        out.push(plus(last, *g));
    }
    out
}

fn verdict<'a>(report: &'a AttainmentReport, code: &str) -> &'a Verdict {
    report.verdict(code).unwrap()
}

fn explains(v: &Verdict, fragment: &str) -> bool {
    v.explanation_fr.iter().any(|l| l.contains(fragment))
}

fn explanation(v: &Verdict) -> String {
    v.explanation_fr.join("\n")
}

/// D1.O1.A on one directory audited at the given launch dates.
fn ads_frequency(params: AttainmentParams, launches: &[NaiveDate]) -> Verdict {
    let mut c = ctx(CandidateKind::PublicEj, &[dec!(100)]);
    c.params = params;
    let evidence = Evidence {
        directories: one_directory_per_unit(1),
        ads_audits: launches.iter().map(|l| ads("AD1", *l, 3)).collect(),
        ..Evidence::default()
    };
    evaluate(&c, &evidence).verdict("D1.O1.A").unwrap().clone()
}

/// D1.O1.B for a single EG at 100 % with (date, score) audits.
fn ads_level(audits: &[(NaiveDate, u8)]) -> Verdict {
    let c = ctx(CandidateKind::PublicEj, &[dec!(100)]);
    let evidence = Evidence {
        directories: one_directory_per_unit(1),
        ads_audits: audits.iter().map(|(l, s)| ads("AD1", *l, *s)).collect(),
        ..Evidence::default()
    };
    evaluate(&c, &evidence).verdict("D1.O1.B").unwrap().clone()
}

/// Seed 003's table: per EG (penultimate, last) ADS scores; audits 40 and 10 days before submission.
fn seed_case(scores: &[(u8, u8)]) -> (AttainmentContext, Evidence) {
    let c = ctx(CandidateKind::PublicEj, &seed_shares());
    let mut audits = Vec::new();
    for (i, (penultimate, last)) in scores.iter().enumerate() {
        let dir = format!("AD{}", i + 1);
        audits.push(ads(&dir, minus(submission(), 40), *penultimate));
        audits.push(ads(&dir, minus(submission(), 10), *last));
    }
    let evidence = Evidence {
        directories: one_directory_per_unit(scores.len()),
        ads_audits: audits,
        ..Evidence::default()
    };
    (c, evidence)
}

const CAS_1: [(u8, u8); 5] = [(3, 2), (1, 1), (2, 2), (2, 3), (1, 2)];
const CAS_2: [(u8, u8); 5] = [(2, 3), (1, 1), (1, 2), (1, 1), (2, 1)];

// ---------- seed 003 worked cases ----------

#[test]
fn seed_case_1_covers_75_percent_and_d1_o1_b_is_attained() {
    let (c, e) = seed_case(&CAS_1);
    let report = evaluate(&c, &e);
    let v = verdict(&report, "D1.O1.B");
    assert_eq!(v.coverage, Some(pct(dec!(75))), "{}", explanation(v));
    assert_eq!(v.status, Status::Attained);
    let Detail::Level(detail) = &v.detail else {
        panic!("level detail expected")
    };
    let passed: Vec<&str> = detail
        .units
        .iter()
        .filter(|u| u.passed)
        .map(|u| u.label.as_str())
        .collect();
    assert_eq!(passed, ["EG 1", "EG 3", "EG 4"]);
    assert!(explains(v, "Activité combinée à la cible : 75"));
    assert!(explains(
        v,
        "EG 1 60\u{a0}% + EG 3 10\u{a0}% + EG 4 5\u{a0}%"
    ));
    // EG 5: penultimate 1 missed and the seed shows no antepenultimate, so it cannot be rescued.
    let eg5 = &detail.subjects[4].check;
    assert_eq!(
        eg5.outcome,
        LevelOutcome::PenultimateMissedNoAntepenultimate
    );
}

#[test]
fn seed_case_2_covers_60_percent_and_d1_o1_b_is_not_attained() {
    let (c, e) = seed_case(&CAS_2);
    let report = evaluate(&c, &e);
    let v = verdict(&report, "D1.O1.B");
    assert_eq!(v.coverage, Some(pct(dec!(60))), "{}", explanation(v));
    assert_eq!(v.status, Status::NotAttained);
    // EG 1 passes on 2 then 3: a score equal to 2 is at target (≥ 2).
    assert!(
        explains(v, "EG 1 (60\u{a0}%) : avant-dernier audit 2"),
        "{}",
        explanation(v)
    );
    assert!(explains(v, "dernier 3"));
    let line = v
        .explanation_fr
        .iter()
        .find(|l| l.starts_with("EG 2 "))
        .unwrap();
    assert!(line.contains("avant-dernier audit 1"), "{line}");
    assert!(line.contains("dernier 1"), "{line}");
    assert!(line.contains("— pas à la cible"), "{line}");
    assert!(explains(v, "60\u{a0}% < 66\u{a0}% : objectif non atteint."));
}

#[test]
fn seed_case_1_with_an_antepenultimate_at_target_rescues_eg5_to_85_percent() {
    let (c, mut e) = seed_case(&CAS_1);
    e.ads_audits.push(ads("AD5", minus(submission(), 60), 2));
    let report = evaluate(&c, &e);
    let v = verdict(&report, "D1.O1.B");
    assert_eq!(v.coverage, Some(pct(dec!(85))), "{}", explanation(v));
    assert!(explains(
        v,
        "antépénultième réalisé 50 jours avant le dernier"
    ));
}

// ---------- frequency (D1.O1.A, D1.O2.A) ----------

#[test]
fn mean_gap_of_exactly_60_days_is_respected() {
    let launches = dates_with_gaps(phase_start(), &[40, 80]);
    let v = ads_frequency(AttainmentParams::default(), &launches);
    assert_eq!(v.status, Status::Attained, "{}", explanation(&v));
    assert!(explains(&v, "écart moyen entre audits : 60 jours (≤ 60)"));
}

#[test]
fn mean_gap_of_61_days_is_not_respected() {
    let launches = dates_with_gaps(phase_start(), &[41, 81]);
    let v = ads_frequency(AttainmentParams::default(), &launches);
    assert_eq!(v.status, Status::NotAttained);
    let Detail::Frequency(f) = &v.detail else {
        panic!()
    };
    assert!(matches!(
        f.subjects[0].check.failures[..],
        [FrequencyFailure::MeanGapTooLong { .. }]
    ));
    assert!(explains(&v, "écart moyen entre audits : 61 jours (> 60)"));
}

#[test]
fn mean_gap_is_shown_with_a_decimal_comma() {
    let launches = dates_with_gaps(phase_start(), &[57, 60]);
    let v = ads_frequency(AttainmentParams::default(), &launches);
    assert!(
        explains(&v, "écart moyen entre audits : 58,5 jours (≤ 60)"),
        "{}",
        explanation(&v)
    );
}

#[test]
fn a_gap_of_exactly_100_days_is_allowed() {
    let launches = dates_with_gaps(phase_start(), &[100, 20]);
    let v = ads_frequency(AttainmentParams::default(), &launches);
    assert_eq!(v.status, Status::Attained, "{}", explanation(&v));
}

#[test]
fn a_gap_of_101_days_fails_even_with_a_mean_of_60() {
    let launches = dates_with_gaps(phase_start(), &[101, 19]);
    let v = ads_frequency(AttainmentParams::default(), &launches);
    assert_eq!(v.status, Status::NotAttained);
    assert!(
        explains(&v, "101 jours entre les audits"),
        "{}",
        explanation(&v)
    );
    assert!(explains(&v, "écart maximal : 101 jours (> 100)"));
}

#[test]
fn a_single_audit_in_the_phase_shows_no_gap_and_frequency_is_not_attained() {
    let v = ads_frequency(AttainmentParams::default(), &[phase_start()]);
    assert_eq!(v.status, Status::NotAttained);
    assert!(explains(&v, "aucun écart mesurable"));
}

#[test]
fn audits_before_the_phase_start_are_not_counted_for_frequency() {
    let mut launches = vec![minus(phase_start(), 30)];
    launches.extend(dates_with_gaps(phase_start(), &[60]));
    let v = ads_frequency(AttainmentParams::default(), &launches);
    assert_eq!(v.status, Status::Attained);
    assert!(
        explains(&v, "1 hors phase non compté"),
        "{}",
        explanation(&v)
    );
}

#[test]
fn first_audit_on_7_july_2026_is_in_time() {
    let launches = dates_with_gaps(d(2026, 7, 7), &[60, 60]);
    let v = ads_frequency(AttainmentParams::default(), &launches);
    assert_eq!(v.status, Status::Attained, "{}", explanation(&v));
}

#[test]
fn first_audit_after_7_july_2026_is_late() {
    let launches = dates_with_gaps(d(2026, 7, 8), &[60, 60]);
    let v = ads_frequency(AttainmentParams::default(), &launches);
    assert_eq!(v.status, Status::NotAttained);
    assert!(explains(
        &v,
        "premier audit le 08/07/2026, après la date butoir du 07/07/2026"
    ));
}

#[test]
fn launch_and_end_dates_can_give_different_frequency_verdicts() {
    // Launches 60 days apart; the last audit lasts 10 days longer, so end gaps are 60 and 70.
    let start = phase_start();
    let audits = vec![
        AdsAudit {
            directory_id: "AD1".into(),
            launch: start,
            end: start,
            score: 3,
        },
        AdsAudit {
            directory_id: "AD1".into(),
            launch: plus(start, 60),
            end: plus(start, 60),
            score: 3,
        },
        AdsAudit {
            directory_id: "AD1".into(),
            launch: plus(start, 120),
            end: plus(start, 130),
            score: 3,
        },
    ];
    let evidence = Evidence {
        directories: one_directory_per_unit(1),
        ads_audits: audits,
        ..Evidence::default()
    };
    let mut c = ctx(CandidateKind::PublicEj, &[dec!(100)]);
    c.params.gap_basis = GapBasis::Launch;
    let on_launch = evaluate(&c, &evidence);
    c.params.gap_basis = GapBasis::End;
    let on_end = evaluate(&c, &evidence);
    assert_eq!(verdict(&on_launch, "D1.O1.A").status, Status::Attained);
    let v = verdict(&on_end, "D1.O1.A");
    assert_eq!(v.status, Status::NotAttained);
    assert!(explains(v, "(dates de fin)"));
    assert!(explains(v, "écart moyen entre audits : 65 jours (> 60)"));
}

#[test]
fn every_directory_must_be_audited_regularly_for_d1_o1_a() {
    let mut c = ctx(CandidateKind::PublicEj, &[dec!(50), dec!(50)]);
    c.params = AttainmentParams::default();
    let launches = dates_with_gaps(phase_start(), &[60, 60]);
    let evidence = Evidence {
        directories: one_directory_per_unit(2),
        ads_audits: launches.iter().map(|l| ads("AD1", *l, 3)).collect(),
        ..Evidence::default()
    };
    let v = evaluate(&c, &evidence);
    let v = verdict(&v, "D1.O1.A");
    assert_eq!(v.status, Status::NotAttained);
    assert!(explains(
        v,
        "Annuaire AD2 (Annuaire AD2) : aucun audit dans la phase"
    ));
}

#[test]
fn silene_with_club_rssi_registration_on_7_july_2026_respects_exposure_frequency() {
    let c = ctx(CandidateKind::PublicEj, &[dec!(100)]);
    let evidence = Evidence {
        silene: Some(SileneUse {
            club_rssi_registration: d(2026, 7, 7),
        }),
        ..Evidence::default()
    };
    let r = evaluate(&c, &evidence);
    let v = verdict(&r, "D1.O2.A");
    assert_eq!(v.status, Status::Attained, "{}", explanation(v));
    assert!(explains(v, "considérée respectée"));
}

#[test]
fn silene_with_club_rssi_registration_on_8_july_2026_does_not_by_itself() {
    let c = ctx(CandidateKind::PublicEj, &[dec!(100)]);
    let evidence = Evidence {
        silene: Some(SileneUse {
            club_rssi_registration: d(2026, 7, 8),
        }),
        ..Evidence::default()
    };
    let r = evaluate(&c, &evidence);
    let v = verdict(&r, "D1.O2.A");
    assert_eq!(v.status, Status::NotAttained);
    assert!(explains(v, "après la date limite du 07/07/2026"));
}

#[test]
fn silene_deadline_can_be_100_days_after_the_phase_start() {
    let mut c = ctx(CandidateKind::PublicEj, &[dec!(100)]);
    c.params.silene_registration_deadline = SileneDeadline::DaysAfterPhaseStart(100);
    let on = |date| Evidence {
        silene: Some(SileneUse {
            club_rssi_registration: date,
        }),
        ..Evidence::default()
    };
    let limit = plus(phase_start(), 100);
    assert_eq!(
        verdict(&evaluate(&c, &on(limit)), "D1.O2.A").status,
        Status::Attained
    );
    assert_eq!(
        verdict(&evaluate(&c, &on(plus(limit, 1))), "D1.O2.A").status,
        Status::NotAttained
    );
}

#[test]
fn silene_audits_count_for_exposure_frequency() {
    let c = ctx(CandidateKind::PublicEj, &[dec!(100)]);
    let launches = dates_with_gaps(phase_start(), &[60, 60, 60]);
    let evidence = Evidence {
        exposure_audits: launches
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let platform = if i < 2 {
                    ExposurePlatform::Silene
                } else {
                    ExposurePlatform::Industrial
                };
                exposure(&format!("X{i}"), *l, platform, 0, &[finess(1)])
            })
            .collect(),
        ..Evidence::default()
    };
    let r = evaluate(&c, &evidence);
    assert_eq!(verdict(&r, "D1.O2.A").status, Status::Attained);
}

#[test]
fn every_unit_exposure_must_be_audited_regularly_for_d1_o2_a() {
    let c = ctx(CandidateKind::Ght, &[dec!(70), dec!(30)]);
    let launches = dates_with_gaps(phase_start(), &[60, 60]);
    let evidence = Evidence {
        exposure_audits: launches
            .iter()
            .enumerate()
            .map(|(i, l)| {
                exposure(
                    &format!("X{i}"),
                    *l,
                    ExposurePlatform::Industrial,
                    0,
                    &[finess(1)],
                )
            })
            .collect(),
        ..Evidence::default()
    };
    let r = evaluate(&c, &evidence);
    let v = verdict(&r, "D1.O2.A");
    assert_eq!(v.status, Status::NotAttained);
    assert!(explains(
        v,
        "Exposition de EG 2 : aucun audit dans la phase"
    ));
}

// ---------- level (D1.O1.B, D1.O2.B) ----------

#[test]
fn antepenultimate_59_days_before_the_last_rescues_a_missed_penultimate() {
    let last = minus(submission(), 5);
    let v = ads_level(&[(minus(last, 59), 2), (minus(last, 30), 1), (last, 2)]);
    assert_eq!(v.status, Status::Attained, "{}", explanation(&v));
    assert_eq!(v.coverage, Some(pct(dec!(100))));
}

#[test]
fn antepenultimate_60_days_before_the_last_is_too_early() {
    let last = minus(submission(), 5);
    let v = ads_level(&[(minus(last, 60), 2), (minus(last, 30), 1), (last, 2)]);
    assert_eq!(v.status, Status::NotAttained);
    assert_eq!(v.coverage, Some(pct(dec!(0))));
    assert!(explains(
        &v,
        "antépénultième réalisé 60 jours avant le dernier, il en faut moins de 60"
    ));
}

#[test]
fn antepenultimate_not_at_target_does_not_rescue() {
    let last = minus(submission(), 5);
    let v = ads_level(&[(minus(last, 50), 1), (minus(last, 30), 1), (last, 2)]);
    assert_eq!(v.status, Status::NotAttained);
}

#[test]
fn last_audit_60_days_before_submission_still_counts() {
    let last = minus(submission(), 60);
    let v = ads_level(&[(minus(last, 40), 2), (last, 2)]);
    assert_eq!(v.status, Status::Attained, "{}", explanation(&v));
}

#[test]
fn last_audit_61_days_before_submission_is_too_old() {
    let last = minus(submission(), 61);
    let v = ads_level(&[(minus(last, 40), 2), (last, 2)]);
    assert_eq!(v.status, Status::NotAttained);
    assert!(explains(
        &v,
        "dernier audit réalisé 61 jours avant le dépôt, > 60"
    ));
}

#[test]
fn audits_after_the_submission_are_ignored_for_the_level() {
    let v = ads_level(&[
        (minus(submission(), 40), 2),
        (minus(submission(), 10), 2),
        (plus(submission(), 1), 0),
    ]);
    assert_eq!(v.status, Status::Attained);
}

#[test]
fn a_single_ads_audit_cannot_show_the_level() {
    let v = ads_level(&[(minus(submission(), 10), 4)]);
    assert_eq!(v.status, Status::NotAttained);
    assert!(explains(&v, "un seul audit"));
}

#[test]
fn a_unit_served_by_two_directories_passes_only_if_both_pass() {
    let c = ctx(CandidateKind::Private, &[dec!(80), dec!(20)]);
    let s = submission();
    let evidence = Evidence {
        directories: vec![
            directory("ADa", &[finess(1)]),
            directory("ADb", &[finess(1)]),
        ],
        ads_audits: vec![
            ads("ADa", minus(s, 40), 3),
            ads("ADa", minus(s, 10), 3),
            ads("ADb", minus(s, 40), 1),
            ads("ADb", minus(s, 10), 3),
        ],
        ..Evidence::default()
    };
    let r = evaluate(&c, &evidence);
    let v = verdict(&r, "D1.O1.B");
    assert_eq!(v.coverage, Some(pct(dec!(0))));
    let Detail::Level(detail) = &v.detail else {
        panic!()
    };
    assert_eq!(
        detail.units[0].reason,
        UnitReason::NotAtTarget(vec!["ADb".into()])
    );
    assert_eq!(detail.units[1].reason, UnitReason::NoSubject);
    assert!(explains(
        v,
        "EG 2 (20\u{a0}%) : aucun annuaire rattaché — pas à la cible."
    ));
    assert!(explains(v, "pas tous à la cible"));
}

#[test]
fn d1_o1_b_at_exactly_66_percent_is_attained() {
    let c = ctx(CandidateKind::PublicEj, &[dec!(66), dec!(34)]);
    let s = submission();
    let evidence = Evidence {
        directories: one_directory_per_unit(2),
        ads_audits: vec![ads("AD1", minus(s, 40), 2), ads("AD1", minus(s, 10), 2)],
        ..Evidence::default()
    };
    let r = evaluate(&c, &evidence);
    assert_eq!(verdict(&r, "D1.O1.B").status, Status::Attained);
}

/// D1.O2.B with two units: the first (share `passing`) has two clean industrial audits, the second has
/// a critical vulnerability on its last.
fn exposure_coverage(passing: Decimal) -> Verdict {
    let c = ctx(CandidateKind::Ght, &[passing, dec!(100) - passing]);
    let s = submission();
    let evidence = Evidence {
        exposure_audits: vec![
            exposure(
                "A1",
                minus(s, 40),
                ExposurePlatform::Industrial,
                0,
                &[finess(1)],
            ),
            exposure(
                "A2",
                minus(s, 10),
                ExposurePlatform::Industrial,
                0,
                &[finess(1)],
            ),
            exposure(
                "B1",
                minus(s, 40),
                ExposurePlatform::Industrial,
                0,
                &[finess(2)],
            ),
            exposure(
                "B2",
                minus(s, 10),
                ExposurePlatform::Industrial,
                2,
                &[finess(2)],
            ),
        ],
        ..Evidence::default()
    };
    evaluate(&c, &evidence).verdict("D1.O2.B").unwrap().clone()
}

#[test]
fn exposure_coverage_of_90_percent_attains_d1_o2_b() {
    let v = exposure_coverage(dec!(90));
    assert_eq!(v.status, Status::Attained, "{}", explanation(&v));
    assert_eq!(v.tier, Some(ExposureTier::Attained));
    assert_eq!(v.coverage, Some(pct(dec!(90))));
}

#[test]
fn exposure_coverage_of_89_percent_is_the_15_percent_tier() {
    let v = exposure_coverage(dec!(89));
    assert_eq!(v.status, Status::NotAttained);
    assert_eq!(v.tier, Some(ExposureTier::Tier15));
    assert!(explains(&v, "décote de 15"));
    assert!(explains(
        &v,
        "EG 2 (11\u{a0}%) : avant-dernier audit 0 vulnérabilité critique"
    ));
    assert!(explains(&v, "dernier 2 vulnérabilités critiques"));
}

#[test]
fn exposure_coverage_of_66_percent_is_still_the_15_percent_tier() {
    assert_eq!(exposure_coverage(dec!(66)).tier, Some(ExposureTier::Tier15));
}

#[test]
fn exposure_coverage_of_65_percent_is_not_attained() {
    let v = exposure_coverage(dec!(65));
    assert_eq!(v.status, Status::NotAttained);
    assert_eq!(v.tier, Some(ExposureTier::NotAttained));
}

#[test]
fn silene_audits_never_count_for_d1_o2_b() {
    let c = ctx(CandidateKind::PublicEj, &[dec!(100)]);
    let s = submission();
    let evidence = Evidence {
        exposure_audits: vec![
            exposure(
                "I1",
                minus(s, 90),
                ExposurePlatform::Industrial,
                0,
                &[finess(1)],
            ),
            exposure(
                "I2",
                minus(s, 70),
                ExposurePlatform::Industrial,
                0,
                &[finess(1)],
            ),
            exposure(
                "S1",
                minus(s, 40),
                ExposurePlatform::Silene,
                0,
                &[finess(1)],
            ),
            exposure(
                "S2",
                minus(s, 10),
                ExposurePlatform::Silene,
                0,
                &[finess(1)],
            ),
        ],
        ..Evidence::default()
    };
    let r = evaluate(&c, &evidence);
    let v = verdict(&r, "D1.O2.B");
    // Only the industrial audits count, and the last of them is 70 days before submission.
    assert_eq!(v.status, Status::NotAttained, "{}", explanation(v));
    assert_eq!(v.coverage, Some(pct(dec!(0))));
    let Detail::Level(detail) = &v.detail else {
        panic!()
    };
    assert_eq!(detail.silene_audits_excluded, vec![2, 3]);
    assert!(explains(v, "2 audit(s) SILENE non pris en compte"));
}

#[test]
fn only_silene_audits_leave_d1_o2_b_not_attained_rather_than_unknown() {
    let c = ctx(CandidateKind::PublicEj, &[dec!(100)]);
    let s = submission();
    let evidence = Evidence {
        exposure_audits: vec![
            exposure(
                "S1",
                minus(s, 40),
                ExposurePlatform::Silene,
                0,
                &[finess(1)],
            ),
            exposure(
                "S2",
                minus(s, 10),
                ExposurePlatform::Silene,
                0,
                &[finess(1)],
            ),
        ],
        ..Evidence::default()
    };
    let r = evaluate(&c, &evidence);
    let v = verdict(&r, "D1.O2.B");
    assert_eq!(v.status, Status::NotAttained);
    assert!(explains(v, "aucun audit sur plateforme industrielle"));
}

#[test]
fn one_perimeter_covering_every_unit_counts_for_each() {
    let c = ctx(CandidateKind::PublicEj, &seed_shares());
    let s = submission();
    let all: Vec<Finess> = (1..=5).map(finess).collect();
    let evidence = Evidence {
        exposure_audits: vec![
            exposure("G1", minus(s, 40), ExposurePlatform::Industrial, 0, &all),
            exposure("G2", minus(s, 10), ExposurePlatform::Industrial, 0, &all),
        ],
        ..Evidence::default()
    };
    let r = evaluate(&c, &evidence);
    assert_eq!(verdict(&r, "D1.O2.B").coverage, Some(pct(dec!(100))));
}

// ---------- D1.O3, D1.O4, D1.O5 ----------

#[test]
fn a_private_candidate_needs_an_exercise_in_every_eg_for_d1_o3() {
    // Private: FINESS PMSI = EG. An exercise recorded at the EJ (13000099) validates no EG.
    let c = ctx(CandidateKind::Private, &[dec!(50), dec!(50)]);
    assert_eq!(
        CandidateKind::Private.pmsi_level(),
        care_ledger::domain::attainment::EstablishmentLevel::Eg
    );
    let evidence = Evidence {
        crisis_exercises: vec![
            CrisisExercise {
                finess: finess(99),
                date: d(2026, 5, 1),
                also_covers: vec![],
            },
            CrisisExercise {
                finess: finess(1),
                date: d(2026, 5, 1),
                also_covers: vec![],
            },
        ],
        ..Evidence::default()
    };
    let r = evaluate(&c, &evidence);
    let v = verdict(&r, "D1.O3");
    assert_eq!(v.status, Status::NotAttained);
    assert!(explains(
        v,
        &format!("FINESS {} : aucun exercice.", finess(2))
    ));
    assert!(explains(
        v,
        "n'est pas un établissement FINESS PMSI du candidat"
    ));
}

#[test]
fn a_public_candidate_needs_one_exercise_per_ej_for_d1_o3() {
    // Public EJ: FINESS PMSI = the EJ itself, whatever its EG.
    let mut c = ctx(CandidateKind::PublicEj, &[dec!(50), dec!(50)]);
    c.pmsi_establishments = vec![finess(99)];
    let evidence = Evidence {
        crisis_exercises: vec![CrisisExercise {
            finess: finess(99),
            date: d(2026, 5, 1),
            also_covers: vec![],
        }],
        ..Evidence::default()
    };
    let r = evaluate(&c, &evidence);
    assert_eq!(verdict(&r, "D1.O3").status, Status::Attained);
}

#[test]
fn a_shared_exercise_validates_the_establishments_it_also_covers() {
    let c = ctx(CandidateKind::Ght, &[dec!(50), dec!(50)]);
    let evidence = Evidence {
        crisis_exercises: vec![CrisisExercise {
            finess: finess(1),
            date: d(2026, 5, 1),
            also_covers: vec![finess(2)],
        }],
        ..Evidence::default()
    };
    let r = evaluate(&c, &evidence);
    assert_eq!(verdict(&r, "D1.O3").status, Status::Attained);
}

#[test]
fn a_crisis_exercise_on_1_january_2025_counts_but_not_on_31_december_2024() {
    let c = ctx(CandidateKind::PublicEj, &[dec!(100)]);
    let with = |date| Evidence {
        crisis_exercises: vec![CrisisExercise {
            finess: finess(1),
            date,
            also_covers: vec![],
        }],
        ..Evidence::default()
    };
    let r = evaluate(&c, &with(d(2025, 1, 1)));
    let v = verdict(&r, "D1.O3");
    assert_eq!(v.status, Status::Attained);
    assert!(explains(v, "son coût n'est pas financé"));
    let r = evaluate(&c, &with(d(2024, 12, 31)));
    let v = verdict(&r, "D1.O3");
    assert_eq!(v.status, Status::NotAttained);
    assert!(explains(v, "hors période (31/12/2024)"));
}

fn osis_both(cpt: Decimal, mpr: Decimal) -> Evidence {
    Evidence {
        osis: vec![
            OsisQuestionnaire {
                finess: finess(1),
                questionnaire: OsisForm::Cpt,
                priority_fields_pct: cpt,
            },
            OsisQuestionnaire {
                finess: finess(1),
                questionnaire: OsisForm::Mpr,
                priority_fields_pct: mpr,
            },
        ],
        ..Evidence::default()
    }
}

#[test]
fn osis_at_90_percent_in_both_questionnaires_attains_d1_o4() {
    let c = ctx(CandidateKind::PublicEj, &[dec!(100)]);
    let r = evaluate(&c, &osis_both(dec!(90), dec!(90)));
    assert_eq!(verdict(&r, "D1.O4").status, Status::Attained);
}

#[test]
fn osis_at_89_9_percent_in_one_questionnaire_does_not() {
    let c = ctx(CandidateKind::PublicEj, &[dec!(100)]);
    let r = evaluate(&c, &osis_both(dec!(100), dec!(89.9)));
    let v = verdict(&r, "D1.O4");
    assert_eq!(v.status, Status::NotAttained);
    assert!(
        explains(v, "QR_MATURINH-SSI-MPR-V1 : 89,9 % (< 90 %)"),
        "{}",
        explanation(v)
    );
}

#[test]
fn a_missing_osis_questionnaire_fails_d1_o4() {
    let c = ctx(CandidateKind::PublicEj, &[dec!(100)]);
    let mut e = osis_both(dec!(100), dec!(100));
    e.osis.pop();
    let r = evaluate(&c, &e);
    let v = verdict(&r, "D1.O4");
    assert_eq!(v.status, Status::NotAttained);
    assert!(explains(v, "QR_MATURINH-SSI-MPR-V1 : non renseigné"));
}

#[test]
fn d1_o5_needs_both_the_digital_share_and_the_ssi_fte() {
    let c = ctx(CandidateKind::PublicEj, &[dec!(100)]);
    let with = |share: Option<Decimal>, fte: Option<Decimal>| Evidence {
        budget: Some(DigitalBudget {
            digital_share_pct: share.map(Percent::new),
            ssi_fte: fte,
        }),
        ..Evidence::default()
    };
    let r = evaluate(&c, &with(Some(dec!(1.7)), Some(dec!(2.5))));
    assert_eq!(verdict(&r, "D1.O5").status, Status::Attained);
    let r = evaluate(&c, &with(Some(dec!(1.7)), None));
    assert_eq!(verdict(&r, "D1.O5").status, Status::NotAttained);
}

// ---------- D1.O6, candidate kinds ----------

fn ght_documents(first_milestone: NaiveDate, covers: Vec<Finess>) -> GhtDocuments {
    GhtDocuments {
        project_team: true,
        governance: true,
        trajectory: Some(Trajectory {
            covers,
            planning: true,
            first_milestone: Some(first_milestone),
            organisation: true,
            budget: true,
        }),
    }
}

#[test]
fn d1_o6_is_not_applicable_to_an_ej_candidate() {
    let c = ctx(CandidateKind::PublicEj, &[dec!(100)]);
    let e = Evidence {
        ght: Some(ght_documents(d(2027, 1, 1), vec![finess(1)])),
        ..Evidence::default()
    };
    let r = evaluate(&c, &e);
    assert_eq!(verdict(&r, "D1.O6.A").status, Status::NotApplicable);
    assert_eq!(verdict(&r, "D1.O6.B").status, Status::NotApplicable);
}

#[test]
fn a_ght_with_team_governance_and_a_full_trajectory_attains_d1_o6() {
    let c = ctx(CandidateKind::Ght, &[dec!(70), dec!(30)]);
    let e = Evidence {
        ght: Some(ght_documents(d(2027, 7, 30), vec![finess(1), finess(2)])),
        ..Evidence::default()
    };
    let r = evaluate(&c, &e);
    assert_eq!(verdict(&r, "D1.O6.A").status, Status::Attained);
    let v = verdict(&r, "D1.O6.B");
    assert_eq!(v.status, Status::Attained, "{}", explanation(v));
}

#[test]
fn a_first_milestone_after_18_months_from_the_call_fails_d1_o6_b() {
    let c = ctx(CandidateKind::Ght, &[dec!(100)]);
    let e = Evidence {
        ght: Some(ght_documents(d(2027, 7, 31), vec![finess(1)])),
        ..Evidence::default()
    };
    let r = evaluate(&c, &e);
    let v = verdict(&r, "D1.O6.B");
    assert_eq!(v.status, Status::NotAttained);
    assert!(explains(v, "après la limite du 30/07/2027"));
}

#[test]
fn the_milestone_limit_can_run_from_the_submission_instead() {
    let mut c = ctx(CandidateKind::Ght, &[dec!(100)]);
    c.params.milestone_limit = MilestoneLimit::AfterSubmission { months: 18 };
    let e = Evidence {
        ght: Some(ght_documents(d(2028, 9, 30), vec![finess(1)])),
        ..Evidence::default()
    };
    let r = evaluate(&c, &e);
    assert_eq!(verdict(&r, "D1.O6.B").status, Status::Attained);
}

#[test]
fn a_trajectory_missing_one_establishment_of_the_ght_fails_d1_o6_b() {
    let mut c = ctx(CandidateKind::Ght, &[dec!(70), dec!(30)]);
    c.coverage_units[0].is_support = true;
    let e = Evidence {
        ght: Some(ght_documents(d(2027, 1, 1), vec![finess(1)])),
        ..Evidence::default()
    };
    let r = evaluate(&c, &e);
    let v = verdict(&r, "D1.O6.B");
    assert_eq!(v.status, Status::NotAttained);
    assert!(explains(v, "La trajectoire n'adresse pas : EG 2"));
}

#[test]
fn a_ght_without_governance_fails_d1_o6_a() {
    let c = ctx(CandidateKind::Ght, &[dec!(100)]);
    let mut docs = ght_documents(d(2027, 1, 1), vec![finess(1)]);
    docs.governance = false;
    let e = Evidence {
        ght: Some(docs),
        ..Evidence::default()
    };
    let r = evaluate(&c, &e);
    assert_eq!(verdict(&r, "D1.O6.A").status, Status::NotAttained);
}

// ---------- report as a whole ----------

#[test]
fn with_no_evidence_every_objective_is_unknown_and_d1_o6_not_applicable_for_an_ej() {
    let c = ctx(CandidateKind::PublicEj, &[dec!(100)]);
    let r = evaluate(&c, &Evidence::default());
    let statuses: Vec<(String, Status)> = decote_relevant_status(&r)
        .into_iter()
        .map(|rec| (rec.objective.to_string(), rec.status))
        .collect();
    let expected: Vec<(String, Status)> = [
        ("D1.O1.A", Status::Unknown),
        ("D1.O1.B", Status::Unknown),
        ("D1.O2.A", Status::Unknown),
        ("D1.O2.B", Status::Unknown),
        ("D1.O3", Status::Unknown),
        ("D1.O4", Status::Unknown),
        ("D1.O5", Status::Unknown),
        ("D1.O6.A", Status::NotApplicable),
        ("D1.O6.B", Status::NotApplicable),
    ]
    .into_iter()
    .map(|(c, s)| (c.to_string(), s))
    .collect();
    assert_eq!(statuses, expected);
}

#[test]
fn with_no_evidence_a_ght_has_d1_o6_unknown() {
    let c = ctx(CandidateKind::Ght, &[dec!(100)]);
    let r = evaluate(&c, &Evidence::default());
    assert_eq!(verdict(&r, "D1.O6.A").status, Status::Unknown);
    assert_eq!(verdict(&r, "D1.O6.B").status, Status::Unknown);
}

#[test]
fn decote_records_carry_coverage_and_tier_of_the_level_objectives() {
    let (c, e) = seed_case(&CAS_1);
    let records = decote_relevant_status(&evaluate(&c, &e));
    let o1b = records
        .iter()
        .find(|r| r.objective.as_str() == "D1.O1.B")
        .unwrap();
    assert_eq!(o1b.coverage, Some(pct(dec!(75))));
    assert_eq!(o1b.tier, None);
}

#[test]
fn evidence_and_report_round_trip_through_json() {
    let (c, mut e) = seed_case(&CAS_2);
    e.exposure_audits.push(exposure(
        "X1",
        d(2026, 4, 1),
        ExposurePlatform::Silene,
        0,
        &[finess(1)],
    ));
    e.silene = Some(SileneUse {
        club_rssi_registration: d(2026, 6, 1),
    });
    let json = serde_json::to_string(&e).unwrap();
    let back: Evidence = serde_json::from_str(&json).unwrap();
    assert_eq!(back, e);
    let report = evaluate(&c, &e);
    let json = serde_json::to_string(&report).unwrap();
    let back: AttainmentReport = serde_json::from_str(&json).unwrap();
    assert_eq!(back, report);
    let ctx_json = serde_json::to_string(&c).unwrap();
    let ctx_back: AttainmentContext = serde_json::from_str(&ctx_json).unwrap();
    assert_eq!(ctx_back, c);
}

#[test]
fn evidence_validation_refuses_a_score_above_5_and_an_unknown_directory() {
    let mut e = Evidence {
        directories: one_directory_per_unit(1),
        ads_audits: vec![ads("AD1", d(2026, 4, 1), 6)],
        ..Evidence::default()
    };
    assert!(e.validate().is_err());
    e.ads_audits = vec![ads("AD9", d(2026, 4, 1), 2)];
    assert!(e.validate().is_err());
    e.ads_audits = vec![ads("AD1", d(2026, 4, 1), 2)];
    assert!(e.validate().is_ok());
}

proptest! {
    /// Whatever the scores and dates, coverage is the sum of the shares of the units that passed, never
    /// more than the total, and a unit passes only if its last audit is at target.
    #[test]
    fn coverage_is_the_sum_of_passing_shares(
        series in proptest::collection::vec(
            proptest::collection::vec((0u64..400, 0u8..=5), 0..5), 5)
    ) {
        let c = ctx(CandidateKind::PublicEj, &seed_shares());
        let mut audits = Vec::new();
        for (i, s) in series.iter().enumerate() {
            for (offset, score) in s {
                audits.push(ads(&format!("AD{}", i + 1), minus(submission(), *offset), *score));
            }
        }
        let e = Evidence { directories: one_directory_per_unit(5), ads_audits: audits, ..Evidence::default() };
        let r = evaluate(&c, &e);
        let v = verdict(&r, "D1.O1.B");
        let Detail::Level(detail) = &v.detail else { panic!() };
        let sum: Decimal = detail.units.iter().filter(|u| u.passed).map(|u| u.activity_share.value()).sum();
        prop_assert_eq!(v.coverage, Some(pct(sum)));
        prop_assert!(sum <= dec!(100));
        for s in &detail.subjects {
            if s.check.passed() {
                prop_assert!(s.check.last.as_ref().unwrap().at_target);
            }
        }
    }
}
