//! One function per D1 bis objective. Each returns a complete [`Verdict`].

use rust_decimal::Decimal;

use super::evidence::{AttainmentContext, Evidence, ExposurePlatform, OsisForm};
use super::fr;
use super::params::AttainmentParams;
use super::report::{
    Detail, ExerciseCheck, ExposureTier, FrequencyDetail, LevelDetail, OsisCheck, SileneCheck,
    Status, Subject, SubjectFrequency, SubjectLevel, TrajectoryCheck, UnitReason, UnitResult,
    Verdict,
};
use super::series::{self, AuditRef, AuditResult, LevelCheck};
use crate::domain::{Finess, ObjectiveCode, Percent};

pub(crate) fn code(text: &str) -> ObjectiveCode {
    // The codes below are literals of the catalogue; parsing them cannot fail (tested).
    ObjectiveCode::parse(text).unwrap_or_else(|_| unreachable!("objective code literal {text}"))
}

fn verdict(
    objective: &str,
    status: Status,
    detail: Detail,
    explanation_fr: Vec<String>,
) -> Verdict {
    Verdict {
        objective: code(objective),
        status,
        coverage: None,
        tier: None,
        detail,
        explanation_fr,
    }
}

fn unknown(objective: &str, why: &str) -> Verdict {
    verdict(
        objective,
        Status::Unknown,
        Detail::Nothing,
        vec![why.to_string()],
    )
}

fn attained(ok: bool) -> Status {
    if ok {
        Status::Attained
    } else {
        Status::NotAttained
    }
}

fn ads_refs(evidence: &Evidence, directory_id: &str, params: &AttainmentParams) -> Vec<AuditRef> {
    evidence
        .ads_audits
        .iter()
        .enumerate()
        .filter(|(_, a)| a.directory_id == directory_id)
        .map(|(i, a)| AuditRef {
            evidence_index: i,
            id: None,
            launch: a.launch,
            end: a.end,
            date_used: AuditRef::date_for(params.gap_basis, a.launch, a.end),
            platform: None,
            result: AuditResult::AdsScore(a.score),
            at_target: a.score >= params.ads_score_target,
        })
        .collect()
}

fn exposure_refs(
    evidence: &Evidence,
    unit: &Finess,
    industrial_only: bool,
    params: &AttainmentParams,
) -> Vec<AuditRef> {
    evidence
        .exposure_audits
        .iter()
        .enumerate()
        .filter(|(_, a)| a.covers.contains(unit))
        .filter(|(_, a)| !industrial_only || a.platform == ExposurePlatform::Industrial)
        .map(|(i, a)| AuditRef {
            evidence_index: i,
            id: Some(a.id.clone()),
            launch: a.launch,
            end: a.end,
            date_used: AuditRef::date_for(params.gap_basis, a.launch, a.end),
            platform: Some(a.platform),
            result: AuditResult::CriticalVulns(a.critical_vulns),
            at_target: a.critical_vulns == 0,
        })
        .collect()
}

fn directory_label(id: &str, name: &str) -> String {
    if name.is_empty() || name == id {
        format!("Annuaire {id}")
    } else {
        format!("Annuaire {id} ({name})")
    }
}

fn unknown_directory_audits(evidence: &Evidence) -> Vec<usize> {
    evidence
        .ads_audits
        .iter()
        .enumerate()
        .filter(|(_, a)| !evidence.directories.iter().any(|d| d.id == a.directory_id))
        .map(|(i, _)| i)
        .collect()
}

/// D1.O1.A: every AD audited regularly during the operational phase.
pub(crate) fn d1_o1_a(ctx: &AttainmentContext, evidence: &Evidence) -> Verdict {
    const CODE: &str = "D1.O1.A";
    if evidence.directories.is_empty() && evidence.ads_audits.is_empty() {
        return unknown(CODE, "Aucun annuaire ni audit ADS enregistré.");
    }
    let p = &ctx.params;
    let mut lines = Vec::new();
    let mut subjects = Vec::new();
    for d in &evidence.directories {
        let check = series::frequency(
            ads_refs(evidence, &d.id, p),
            ctx.phase_start,
            ctx.submission_date,
            p,
        );
        lines.extend(fr::frequency(
            &directory_label(&d.id, &d.name),
            &check,
            p.gap_basis.label_fr(),
            p.mean_gap_max_days,
            p.max_gap_days,
        ));
        subjects.push(SubjectFrequency {
            subject: Subject::Directory {
                id: d.id.clone(),
                name: d.name.clone(),
            },
            check,
        });
    }
    let orphans = unknown_directory_audits(evidence);
    if !orphans.is_empty() {
        lines.push(format!(
            "{} audit(s) ADS rattaché(s) à un annuaire non déclaré, non compté(s).",
            orphans.len()
        ));
    }
    if evidence.directories.is_empty() {
        lines.push("Aucun annuaire déclaré : la fréquence ne peut être vérifiée.".to_string());
    }
    let ok = !subjects.is_empty() && subjects.iter().all(|s| s.check.passed);
    lines.push(if ok {
        "Tous les annuaires sont audités à la fréquence requise : objectif atteint.".to_string()
    } else {
        "Au moins un annuaire n'est pas audité à la fréquence requise : objectif non atteint."
            .to_string()
    });
    verdict(
        CODE,
        attained(ok),
        Detail::Frequency(FrequencyDetail {
            subjects,
            silene: None,
            audits_of_unknown_directories: orphans,
        }),
        lines,
    )
}

/// Sums the shares of the units that passed; the explanation line lists them.
fn coverage_line(units: &[UnitResult]) -> (Percent, Percent, String) {
    let coverage: Decimal = units
        .iter()
        .filter(|u| u.passed)
        .map(|u| u.activity_share.value())
        .sum();
    let total: Decimal = units.iter().map(|u| u.activity_share.value()).sum();
    let terms: Vec<String> = units
        .iter()
        .filter(|u| u.passed)
        .map(|u| format!("{} {}", u.label, fr::pct(u.activity_share)))
        .collect();
    let sum = if terms.is_empty() {
        "aucun établissement".to_string()
    } else {
        terms.join(" + ")
    };
    (
        Percent::new(coverage),
        Percent::new(total),
        format!(
            "Activité combinée à la cible : {} ({sum}).",
            fr::pct(Percent::new(coverage))
        ),
    )
}

fn total_share_warning(total: Percent) -> Option<String> {
    (total != Percent::HUNDRED).then(|| {
        format!(
            "Attention : les parts d'activité des établissements totalisent {} et non 100 %.",
            fr::pct(total)
        )
    })
}

/// D1.O1.B: ADS score ≥ target on the last two audits (or last and antepenultimate) of every AD serving
/// a unit; coverage = share of the units whose ADs all pass; attained iff coverage ≥ 66 %.
pub(crate) fn d1_o1_b(ctx: &AttainmentContext, evidence: &Evidence) -> Verdict {
    const CODE: &str = "D1.O1.B";
    if evidence.directories.is_empty() && evidence.ads_audits.is_empty() {
        return unknown(CODE, "Aucun annuaire ni audit ADS enregistré.");
    }
    if ctx.coverage_units.is_empty() {
        return unknown(
            CODE,
            "Aucun établissement fourni pour le calcul de l'activité combinée.",
        );
    }
    let p = &ctx.params;
    let subjects: Vec<SubjectLevel> = evidence
        .directories
        .iter()
        .map(|d| SubjectLevel {
            subject: Subject::Directory {
                id: d.id.clone(),
                name: d.name.clone(),
            },
            check: series::level(ads_refs(evidence, &d.id, p), ctx.submission_date, p),
        })
        .collect();
    let mut lines = vec![format!(
        "Cible : score ADS ≥ {} sur les deux derniers audits (ou le dernier et l'antépénultième), dernier audit au plus {} jours avant le dépôt du {} ({}).",
        p.ads_score_target,
        p.last_audit_max_days_before_submission,
        fr::date(ctx.submission_date),
        p.gap_basis.label_fr()
    )];
    let mut units = Vec::new();
    for unit in &ctx.coverage_units {
        let serving: Vec<(&str, &str, &LevelCheck)> = evidence
            .directories
            .iter()
            .zip(&subjects)
            .filter(|(d, _)| d.serves.contains(&unit.finess))
            .map(|(d, s)| (d.id.as_str(), d.name.as_str(), &s.check))
            .collect();
        let failed: Vec<String> = serving
            .iter()
            .filter(|(_, _, c)| !c.passed())
            .map(|(id, _, _)| id.to_string())
            .collect();
        let (passed, reason) = if serving.is_empty() {
            (false, UnitReason::NoSubject)
        } else if failed.is_empty() {
            (true, UnitReason::AllAtTarget)
        } else {
            (false, UnitReason::NotAtTarget(failed))
        };
        let who = format!("{} ({})", unit.label, fr::pct(unit.activity_share));
        match serving.as_slice() {
            [] => lines.push(format!("{who} : aucun annuaire rattaché — pas à la cible.")),
            [(_, _, check)] => lines.push(format!("{who} : {}", fr::level(check))),
            many => {
                for (id, name, check) in many {
                    lines.push(format!(
                        "{who}, {} : {}",
                        directory_label(id, name),
                        fr::level(check)
                    ));
                }
                lines.push(format!(
                    "{who} : {} annuaires, {}.",
                    many.len(),
                    if passed {
                        "tous à la cible"
                    } else {
                        "pas tous à la cible — pas à la cible"
                    }
                ));
            }
        }
        units.push(UnitResult {
            finess: unit.finess.clone(),
            label: unit.label.clone(),
            activity_share: unit.activity_share,
            subjects: serving.iter().map(|(id, _, _)| id.to_string()).collect(),
            passed,
            reason,
        });
    }
    let unmatched = unmatched(
        ctx,
        evidence.directories.iter().flat_map(|d| d.serves.iter()),
    );
    for f in &unmatched {
        lines.push(format!(
            "Le FINESS {f} est desservi par un annuaire mais ne fait pas partie des établissements comptés."
        ));
    }
    let (coverage, total, line) = coverage_line(&units);
    lines.push(line);
    lines.extend(total_share_warning(total));
    let ok = coverage >= p.ads_coverage_min;
    lines.push(format!(
        "{} {} {} : objectif {}.",
        fr::pct(coverage),
        if ok { "≥" } else { "<" },
        fr::pct(p.ads_coverage_min),
        if ok { "atteint" } else { "non atteint" }
    ));
    let mut v = verdict(
        CODE,
        attained(ok),
        Detail::Level(LevelDetail {
            subjects,
            units,
            coverage,
            total_share: total,
            silene_audits_excluded: Vec::new(),
            unmatched_finess: unmatched,
        }),
        lines,
    );
    v.coverage = Some(coverage);
    v
}

fn unmatched<'a>(ctx: &AttainmentContext, named: impl Iterator<Item = &'a Finess>) -> Vec<Finess> {
    let mut out: Vec<Finess> = Vec::new();
    for f in named {
        if !ctx.coverage_units.iter().any(|u| &u.finess == f) && !out.contains(f) {
            out.push(f.clone());
        }
    }
    out
}

/// D1.O2.A: each coverage unit's internet exposure audited regularly (SILENE or industrial), or SILENE
/// use with Club RSSI registration by the deadline.
pub(crate) fn d1_o2_a(ctx: &AttainmentContext, evidence: &Evidence) -> Verdict {
    const CODE: &str = "D1.O2.A";
    if evidence.exposure_audits.is_empty() && evidence.silene.is_none() {
        return unknown(
            CODE,
            "Aucun audit d'exposition internet ni recours à SILENE enregistré.",
        );
    }
    let p = &ctx.params;
    let mut lines = Vec::new();
    let silene = evidence.silene.as_ref().map(|s| {
        let deadline = p.silene_registration_deadline.resolve(ctx.phase_start);
        SileneCheck {
            silene: s.clone(),
            deadline,
            in_time: s.club_rssi_registration <= deadline,
        }
    });
    if let Some(s) = &silene {
        lines.push(format!(
            "Recours à SILENE, inscription au Club RSSI le {} ({} la date limite du {}){}",
            fr::date(s.silene.club_rssi_registration),
            if s.in_time {
                "au plus tard à"
            } else {
                "après"
            },
            fr::date(s.deadline),
            if s.in_time {
                " : la réalisation régulière des audits est considérée respectée."
            } else {
                " : ne suffit pas, la fréquence des audits est vérifiée."
            }
        ));
    }
    let mut subjects = Vec::new();
    for unit in &ctx.coverage_units {
        let check = series::frequency(
            exposure_refs(evidence, &unit.finess, false, p),
            ctx.phase_start,
            ctx.submission_date,
            p,
        );
        lines.extend(fr::frequency(
            &format!("Exposition de {}", unit.label),
            &check,
            p.gap_basis.label_fr(),
            p.mean_gap_max_days,
            p.max_gap_days,
        ));
        subjects.push(SubjectFrequency {
            subject: Subject::Exposure {
                finess: unit.finess.clone(),
                label: unit.label.clone(),
            },
            check,
        });
    }
    let silene_ok = silene.as_ref().is_some_and(|s| s.in_time);
    if !silene_ok && ctx.coverage_units.is_empty() {
        lines.push("Aucun établissement fourni : la fréquence ne peut être vérifiée.".to_string());
        return verdict(
            CODE,
            Status::Unknown,
            Detail::Frequency(FrequencyDetail {
                subjects,
                silene,
                audits_of_unknown_directories: Vec::new(),
            }),
            lines,
        );
    }
    let frequency_ok = !subjects.is_empty() && subjects.iter().all(|s| s.check.passed);
    let ok = silene_ok || frequency_ok;
    lines.push(match (silene_ok, frequency_ok) {
        (true, _) => "SILENE et Club RSSI dans les délais : objectif atteint.".to_string(),
        (false, true) => {
            "L'exposition de tous les établissements est auditée à la fréquence requise : objectif atteint."
                .to_string()
        }
        (false, false) => {
            "Au moins un établissement n'est pas audité à la fréquence requise : objectif non atteint."
                .to_string()
        }
    });
    verdict(
        CODE,
        attained(ok),
        Detail::Frequency(FrequencyDetail {
            subjects,
            silene,
            audits_of_unknown_directories: Vec::new(),
        }),
        lines,
    )
}

/// D1.O2.B: no critical vulnerability on the last two industrial audits (or last and antepenultimate)
/// of each unit's exposure; coverage gives the tier.
pub(crate) fn d1_o2_b(ctx: &AttainmentContext, evidence: &Evidence) -> Verdict {
    const CODE: &str = "D1.O2.B";
    if evidence.exposure_audits.is_empty() {
        return unknown(CODE, "Aucun audit d'exposition internet enregistré.");
    }
    if ctx.coverage_units.is_empty() {
        return unknown(
            CODE,
            "Aucun établissement fourni pour le calcul de l'activité combinée.",
        );
    }
    let p = &ctx.params;
    let excluded: Vec<usize> = evidence
        .exposure_audits
        .iter()
        .enumerate()
        .filter(|(_, a)| a.platform == ExposurePlatform::Silene)
        .map(|(i, _)| i)
        .collect();
    let mut lines = vec![format!(
        "Cible : aucune vulnérabilité critique (CVSS > {}) sur les deux derniers audits sur plateforme industrielle (ou le dernier et l'antépénultième), dernier audit au plus {} jours avant le dépôt du {} ({}).",
        p.critical_cvss_above.to_string().replace('.', ","),
        p.last_audit_max_days_before_submission,
        fr::date(ctx.submission_date),
        p.gap_basis.label_fr()
    )];
    if !excluded.is_empty() {
        lines.push(format!(
            "{} audit(s) SILENE non pris en compte pour le niveau de sécurisation (plateforme industrielle seule).",
            excluded.len()
        ));
    }
    let mut subjects = Vec::new();
    let mut units = Vec::new();
    for unit in &ctx.coverage_units {
        let refs = exposure_refs(evidence, &unit.finess, true, p);
        let who = format!("{} ({})", unit.label, fr::pct(unit.activity_share));
        let (passed, reason) = if refs.is_empty() {
            lines.push(format!(
                "{who} : aucun audit sur plateforme industrielle ne couvre cet établissement — pas à la cible."
            ));
            (false, UnitReason::NoSubject)
        } else {
            let check = series::level(refs, ctx.submission_date, p);
            lines.push(format!("{who} : {}", fr::level(&check)));
            let passed = check.passed();
            subjects.push(SubjectLevel {
                subject: Subject::Exposure {
                    finess: unit.finess.clone(),
                    label: unit.label.clone(),
                },
                check,
            });
            if passed {
                (true, UnitReason::AllAtTarget)
            } else {
                (
                    false,
                    UnitReason::NotAtTarget(vec![unit.finess.as_str().to_string()]),
                )
            }
        };
        units.push(UnitResult {
            finess: unit.finess.clone(),
            label: unit.label.clone(),
            activity_share: unit.activity_share,
            subjects: if reason == UnitReason::NoSubject {
                Vec::new()
            } else {
                vec![unit.finess.as_str().to_string()]
            },
            passed,
            reason,
        });
    }
    let unmatched = unmatched(
        ctx,
        evidence
            .exposure_audits
            .iter()
            .flat_map(|a| a.covers.iter()),
    );
    for f in &unmatched {
        lines.push(format!(
            "Le FINESS {f} figure dans un périmètre d'audit mais ne fait pas partie des établissements comptés."
        ));
    }
    let (coverage, total, line) = coverage_line(&units);
    lines.push(line);
    lines.extend(total_share_warning(total));
    let tier = if coverage >= p.exposure_coverage_attained_min {
        ExposureTier::Attained
    } else if coverage >= p.exposure_coverage_tier15_min {
        ExposureTier::Tier15
    } else {
        ExposureTier::NotAttained
    };
    lines.push(match tier {
        ExposureTier::Attained => format!(
            "{} ≥ {} : objectif atteint.",
            fr::pct(coverage),
            fr::pct(p.exposure_coverage_attained_min)
        ),
        ExposureTier::Tier15 => format!(
            "{} entre {} et moins de {} : objectif non atteint, atteinte partielle (décote de 15 %).",
            fr::pct(coverage),
            fr::pct(p.exposure_coverage_tier15_min),
            fr::pct(p.exposure_coverage_attained_min)
        ),
        ExposureTier::NotAttained => format!(
            "{} < {} : objectif non atteint.",
            fr::pct(coverage),
            fr::pct(p.exposure_coverage_tier15_min)
        ),
    });
    let mut v = verdict(
        CODE,
        attained(tier == ExposureTier::Attained),
        Detail::Level(LevelDetail {
            subjects,
            units,
            coverage,
            total_share: total,
            silene_audits_excluded: excluded,
            unmatched_finess: unmatched,
        }),
        lines,
    );
    v.coverage = Some(coverage);
    v.tier = Some(tier);
    v
}

/// D1.O3: a crisis exercise in every FINESS PMSI establishment, dated in [window start, submission].
pub(crate) fn d1_o3(ctx: &AttainmentContext, evidence: &Evidence) -> Verdict {
    const CODE: &str = "D1.O3";
    if evidence.crisis_exercises.is_empty() {
        return unknown(CODE, "Aucun exercice de crise cyber enregistré.");
    }
    if ctx.pmsi_establishments.is_empty() {
        return unknown(CODE, "Aucun établissement FINESS PMSI fourni.");
    }
    let p = &ctx.params;
    let (start, end) = (p.crisis_exercise_window_start, ctx.submission_date);
    let mut lines = vec![format!(
        "Un exercice de crise cyber est attendu dans chaque établissement FINESS PMSI, entre le {} et le dépôt du {}.",
        fr::date(start),
        fr::date(end)
    )];
    let mut checks = Vec::new();
    for f in &ctx.pmsi_establishments {
        let mut dates: Vec<_> = evidence
            .crisis_exercises
            .iter()
            .filter(|e| &e.finess == f || e.also_covers.contains(f))
            .map(|e| e.date)
            .collect();
        dates.sort();
        let (inside, outside): (Vec<_>, Vec<_>) =
            dates.into_iter().partition(|d| *d >= start && *d <= end);
        let retained = inside.last().copied();
        match retained {
            Some(d) => {
                let mut line = format!("FINESS {f} : exercice du {}", fr::date(d));
                if d < p.cost_eligibility_start {
                    line.push_str(&format!(
                        " (valide pour l'objectif ; antérieur au {}, son coût n'est pas financé)",
                        fr::date(p.cost_eligibility_start)
                    ));
                }
                line.push('.');
                lines.push(line);
            }
            None if outside.is_empty() => lines.push(format!("FINESS {f} : aucun exercice.")),
            None => lines.push(format!(
                "FINESS {f} : exercice(s) hors période ({}).",
                outside
                    .iter()
                    .map(|d| fr::date(*d))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
        checks.push(ExerciseCheck {
            finess: f.clone(),
            exercise_date: retained,
            outside_window: outside,
            passed: retained.is_some(),
        });
    }
    for e in &evidence.crisis_exercises {
        if !ctx.pmsi_establishments.contains(&e.finess)
            && !e
                .also_covers
                .iter()
                .any(|c| ctx.pmsi_establishments.contains(c))
        {
            lines.push(format!(
                "Exercice du {} rattaché au FINESS {}, qui n'est pas un établissement FINESS PMSI du candidat : non compté.",
                fr::date(e.date),
                e.finess
            ));
        }
    }
    let ok = checks.iter().all(|c| c.passed);
    lines.push(format!(
        "Objectif {}.",
        if ok { "atteint" } else { "non atteint" }
    ));
    verdict(
        CODE,
        attained(ok),
        Detail::CrisisExercises {
            window_start: start,
            window_end: end,
            establishments: checks,
        },
        lines,
    )
}

/// D1.O4: both oSIS questionnaires at ≥ 90 % of the priority measures' fields, for every FINESS PMSI
/// establishment. Several records for one establishment and questionnaire: the best counts **(our rule)**.
pub(crate) fn d1_o4(ctx: &AttainmentContext, evidence: &Evidence) -> Verdict {
    const CODE: &str = "D1.O4";
    if evidence.osis.is_empty() {
        return unknown(CODE, "Aucun questionnaire oSIS enregistré.");
    }
    if ctx.pmsi_establishments.is_empty() {
        return unknown(CODE, "Aucun établissement FINESS PMSI fourni.");
    }
    let min = ctx.params.osis_priority_fields_min_pct;
    let mut lines = vec![format!(
        "Attendu : {} et {} renseignés pour au moins {} % des champs des {} mesures prioritaires, pour chaque établissement FINESS PMSI.",
        OsisForm::Cpt.code(),
        OsisForm::Mpr.code(),
        fr::decimal(min),
        ctx.params.osis_priority_measures
    )];
    let mut checks = Vec::new();
    for f in &ctx.pmsi_establishments {
        for form in OsisForm::ALL {
            let best = evidence
                .osis
                .iter()
                .filter(|q| &q.finess == f && q.questionnaire == form)
                .map(|q| q.priority_fields_pct)
                .max();
            let passed = best.is_some_and(|b| b >= min);
            lines.push(match best {
                Some(b) => format!(
                    "FINESS {f}, {} : {} % ({} {} %).",
                    form.code(),
                    fr::decimal(b),
                    if passed { "≥" } else { "<" },
                    fr::decimal(min)
                ),
                None => format!("FINESS {f}, {} : non renseigné.", form.code()),
            });
            checks.push(OsisCheck {
                finess: f.clone(),
                questionnaire: form,
                priority_fields_pct: best,
                passed,
            });
        }
    }
    let ok = checks.iter().all(|c| c.passed);
    lines.push(format!(
        "Objectif {}.",
        if ok { "atteint" } else { "non atteint" }
    ));
    verdict(
        CODE,
        attained(ok),
        Detail::Osis {
            min_pct: min,
            checks,
        },
        lines,
    )
}

/// D1.O5: the digital budget share and the SSI FTE count both declared (their values are not checked,
/// seed 003: "seule leur complétude l'est").
pub(crate) fn d1_o5(evidence: &Evidence) -> Verdict {
    const CODE: &str = "D1.O5";
    let Some(b) = &evidence.budget else {
        return unknown(CODE, "Aucune déclaration de budget numérique enregistrée.");
    };
    let mut lines = vec![
        match b.digital_share_pct {
            Some(s) => format!(
                "Part du budget dédiée au numérique déclarée : {}.",
                fr::pct(s)
            ),
            None => "Part du budget dédiée au numérique non déclarée.".to_string(),
        },
        match b.ssi_fte {
            Some(n) => format!("ETP dédiés à la SSI déclarés : {}.", fr::decimal(n)),
            None => "Nombre d'ETP dédiés à la SSI non déclaré.".to_string(),
        },
    ];
    let ok = b.digital_share_pct.is_some() && b.ssi_fte.is_some();
    lines.push(format!(
        "Objectif {}.",
        if ok { "atteint" } else { "non atteint" }
    ));
    verdict(
        CODE,
        attained(ok),
        Detail::Budget {
            digital_share_pct: b.digital_share_pct,
            ssi_fte: b.ssi_fte,
        },
        lines,
    )
}

fn not_applicable(objective: &str) -> Verdict {
    verdict(
        objective,
        Status::NotApplicable,
        Detail::Nothing,
        vec!["Objectif propre aux GHT : non applicable à ce candidat.".to_string()],
    )
}

/// D1.O6.A (GHT only): project team and governance documented.
pub(crate) fn d1_o6_a(ctx: &AttainmentContext, evidence: &Evidence) -> Verdict {
    const CODE: &str = "D1.O6.A";
    if !ctx.kind.is_ght() {
        return not_applicable(CODE);
    }
    let Some(g) = &evidence.ght else {
        return unknown(CODE, "Aucun document de pilotage du GHT enregistré.");
    };
    let ok = g.project_team && g.governance;
    let lines = vec![
        format!(
            "Constitution de l'équipe projet : {}.",
            if g.project_team {
                "fournie"
            } else {
                "manquante"
            }
        ),
        format!(
            "Schéma de la gouvernance : {}.",
            if g.governance { "fourni" } else { "manquant" }
        ),
        format!("Objectif {}.", if ok { "atteint" } else { "non atteint" }),
    ];
    verdict(
        CODE,
        attained(ok),
        Detail::GhtSteering {
            project_team: g.project_team,
            governance: g.governance,
        },
        lines,
    )
}

/// D1.O6.B (GHT only): AD convergence trajectory covering every establishment (all coverage units),
/// with planning, a first milestone within the limit, organisation and budget.
pub(crate) fn d1_o6_b(ctx: &AttainmentContext, evidence: &Evidence) -> Verdict {
    const CODE: &str = "D1.O6.B";
    if !ctx.kind.is_ght() {
        return not_applicable(CODE);
    }
    let Some(g) = &evidence.ght else {
        return unknown(CODE, "Aucun document de convergence du GHT enregistré.");
    };
    let limit = ctx.params.milestone_limit.resolve(ctx.submission_date);
    let Some(t) = &g.trajectory else {
        let check = TrajectoryCheck {
            present: false,
            missing_establishments: ctx
                .coverage_units
                .iter()
                .map(|u| u.finess.clone())
                .collect(),
            planning: false,
            first_milestone: None,
            milestone_limit: limit,
            organisation: false,
            budget: false,
        };
        return verdict(
            CODE,
            Status::NotAttained,
            Detail::Trajectory(check),
            vec![
                "Aucune trajectoire de convergence des AD fournie : objectif non atteint."
                    .to_string(),
            ],
        );
    };
    let missing: Vec<Finess> = ctx
        .coverage_units
        .iter()
        .filter(|u| !t.covers.contains(&u.finess))
        .map(|u| u.finess.clone())
        .collect();
    let milestone_ok = t.first_milestone.is_some_and(|m| m <= limit);
    let mut lines = Vec::new();
    if missing.is_empty() {
        lines.push("La trajectoire adresse tous les établissements du GHT.".to_string());
    } else {
        let labels: Vec<String> = ctx
            .coverage_units
            .iter()
            .filter(|u| missing.contains(&u.finess))
            .map(|u| format!("{} ({})", u.label, u.finess))
            .collect();
        lines.push(format!(
            "La trajectoire n'adresse pas : {}.",
            labels.join(", ")
        ));
    }
    lines.push(format!(
        "Planning projet : {}.",
        if t.planning { "présent" } else { "absent" }
    ));
    lines.push(match t.first_milestone {
        Some(m) => format!(
            "Premier jalon le {} ({} la limite du {}).",
            fr::date(m),
            if milestone_ok {
                "au plus tard à"
            } else {
                "après"
            },
            fr::date(limit)
        ),
        None => format!(
            "Aucun premier jalon planifié (limite : {}).",
            fr::date(limit)
        ),
    });
    lines.push(format!(
        "Modalités organisationnelles : {}.",
        if t.organisation {
            "précisées"
        } else {
            "absentes"
        }
    ));
    lines.push(format!(
        "Budget prévisionnel : {}.",
        if t.budget { "présent" } else { "absent" }
    ));
    let ok = missing.is_empty() && t.planning && milestone_ok && t.organisation && t.budget;
    lines.push(format!(
        "Objectif {}.",
        if ok { "atteint" } else { "non atteint" }
    ));
    verdict(
        CODE,
        attained(ok),
        Detail::Trajectory(TrajectoryCheck {
            present: true,
            missing_establishments: missing,
            planning: t.planning,
            first_milestone: t.first_milestone,
            milestone_limit: limit,
            organisation: t.organisation,
            budget: t.budget,
        }),
        lines,
    )
}
