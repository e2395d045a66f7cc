//! The sample statement of the template's tests, example and bench: a D1 bis statement of the domain
//! (events applied to a `Statement`, the fixture catalogue, a candidate), mapped to the workbook by the
//! same function as the ledger's ([`super::source::model_of`]), so its figures are the domain's.

use super::model::{TemplateModel, ViewerRole};
use super::source::{model_of, Provenance, StatementSource};
use crate::actor::Role;
use crate::domain::candidate::{Candidate, CandidateDomain, CandidateKind, Establishment, Level};
use crate::domain::catalogue::DomainCatalogue;
use crate::domain::statement::payments::PaymentId;
use crate::domain::statement::{
    compute_subsidy, AttachedDocument, AttainmentStatus, ChecklistEntry, ChecklistItem, CostType,
    DocumentChecklist, DocumentId, DocumentTarget, ExternalCostLine, Flag, IneligibilityReason,
    InternalCostLine, LineId, OtherCostLine, ReceiptLine, ReviewDecision, Statement,
    StatementEvent, SCHEMA_VERSION_1,
};
use crate::domain::{DomainId, Finess, Matricule, Money, ObjectiveCode, Percent};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use std::collections::BTreeMap;

/// The D1 bis catalogue the sample is built on (the fixture file, embedded).
pub fn sample_catalogue() -> DomainCatalogue {
    DomainCatalogue::from_toml_str(
        "d1bis.toml",
        include_str!("../../fixtures/domains/d1bis.toml"),
    )
    .expect("the embedded D1 bis catalogue parses")
}

/// A statement of the domain with what a workbook needs besides it: the catalogue, the candidate,
/// flags and the documents checklist (given, not computed: the sample shows one of each kind).
#[derive(Debug, Clone)]
pub struct SampleStatement {
    pub catalogue: DomainCatalogue,
    pub candidate: Candidate,
    pub statement: Statement,
    pub flags: Vec<Flag>,
    pub checklist: DocumentChecklist,
    pub viewer: ViewerRole,
    pub ledger_position: u64,
    pub head_hash: String,
    pub generated_at: DateTime<Utc>,
    pub as_of: Option<DateTime<Utc>>,
}

fn id(text: &str) -> LineId {
    LineId::parse(text).expect("sample line id")
}

fn objective(code: &str) -> ObjectiveCode {
    ObjectiveCode::parse(code).expect("sample objective")
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("sample date")
}

fn payment_id(text: &str) -> PaymentId {
    PaymentId::parse(text).expect("sample payment id")
}

/// A candidate with one establishment and a ceiling for D1 bis.
pub fn sample_candidate(
    finess8: &str,
    name: &str,
    kind: CandidateKind,
    ceiling: Money,
) -> Candidate {
    let finess = Finess::with_check_digit(finess8).expect("sample FINESS");
    Candidate {
        finess: finess.clone(),
        name: name.to_string(),
        kind,
        establishments: vec![Establishment {
            finess,
            name: name.to_string(),
            level: Level::Ej,
            parent: None,
            support: kind == CandidateKind::Ght,
            activity_share: Percent::HUNDRED,
        }],
        domains: BTreeMap::from([(
            DomainId::D1bis,
            CandidateDomain {
                ceiling,
                phase_start: Some(date(2026, 3, 1)),
            },
        )]),
    }
}

impl SampleStatement {
    /// An opened, empty D1 bis statement of `candidate`.
    pub fn opened(candidate: Candidate) -> SampleStatement {
        let mut s = SampleStatement {
            catalogue: sample_catalogue(),
            statement: Statement::new(),
            flags: Vec::new(),
            checklist: DocumentChecklist {
                objectives: Vec::new(),
                lines: Vec::new(),
                missing_required: 0,
            },
            viewer: ViewerRole::Controller,
            ledger_position: 1,
            head_hash: "0".repeat(64),
            generated_at: Utc
                .with_ymd_and_hms(2026, 9, 20, 8, 30, 0)
                .single()
                .expect("sample instant"),
            as_of: None,
            candidate,
        };
        s.apply(StatementEvent::StatementOpened {
            schema_version: SCHEMA_VERSION_1,
            candidate: s.candidate.finess.clone(),
            domain: DomainId::D1bis,
        });
        s
    }

    pub fn apply(&mut self, event: StatementEvent) {
        self.statement.apply(&event);
    }

    /// An internal cost line (gross, charges and non-eligible gross in cents).
    #[allow(clippy::too_many_arguments)]
    pub fn internal(
        &mut self,
        line_id: &str,
        matricule: &str,
        year: i32,
        (gross, charges, ne_gross): (i64, i64, i64),
        hours_productive: Decimal,
        hours_on_action: Decimal,
        objective_code: &str,
        contribution: &str,
    ) {
        self.apply(StatementEvent::InternalCostDeclared {
            schema_version: SCHEMA_VERSION_1,
            line_id: id(line_id),
            line: InternalCostLine {
                matricule: Matricule::parse(matricule).expect("sample matricule"),
                year,
                objective: objective(objective_code),
                nature: "COUTS_INTERNES".into(),
                contribution: contribution.into(),
                gross_annualised: Money::from_cents(gross),
                employer_charges: Money::from_cents(charges),
                non_eligible_gross: Money::from_cents(ne_gross),
                hours_productive,
                hours_on_action,
            },
        });
    }

    pub fn external(&mut self, line_id: &str, line: ExternalCostLine) {
        self.apply(StatementEvent::ExternalCostDeclared {
            schema_version: SCHEMA_VERSION_1,
            line_id: id(line_id),
            line,
        });
    }

    pub fn other(&mut self, line_id: &str, line: OtherCostLine) {
        self.apply(StatementEvent::OtherCostDeclared {
            schema_version: SCHEMA_VERSION_1,
            line_id: id(line_id),
            line,
        });
    }

    pub fn receipt(&mut self, line_id: &str, group: &str, provenance: &str, cents: i64) {
        self.apply(StatementEvent::ReceiptDeclared {
            schema_version: SCHEMA_VERSION_1,
            line_id: id(line_id),
            line: ReceiptLine {
                group: objective(group),
                provenance: provenance.into(),
                amount: Money::from_cents(cents),
            },
        });
    }

    /// A review retaining `retained` (the declared amount: eligible; 0: ineligible; otherwise
    /// partially eligible).
    pub fn review(&mut self, line_id: &str, retained: Money, comment: &str, on: NaiveDate) {
        let line = self.statement.lines.get(&id(line_id));
        let declared = line.map(|l| l.declared).unwrap_or(Money::ZERO);
        let revision = line.map(|l| l.revision).unwrap_or(0);
        let (decision, reason_code) = if retained == declared {
            (ReviewDecision::Eligible, None)
        } else if retained.is_zero() {
            (
                ReviewDecision::Ineligible,
                Some(IneligibilityReason::NatureNonEligible),
            )
        } else {
            (ReviewDecision::PartiallyEligible, None)
        };
        self.apply(StatementEvent::LineReviewed {
            schema_version: SCHEMA_VERSION_1,
            line_id: id(line_id),
            decision,
            reason_code,
            comment: comment.into(),
            retained_amount: Some(retained),
            requested: None,
            line_revision: revision,
            reviewed_on: Some(on),
        });
    }

    /// A review retaining the line's declared amount.
    pub fn eligible(&mut self, line_id: &str, on: NaiveDate) {
        let declared = self
            .statement
            .lines
            .get(&id(line_id))
            .map(|l| l.declared)
            .unwrap_or(Money::ZERO);
        self.review(line_id, declared, "", on);
    }

    pub fn attainment(
        &mut self,
        objective_code: &str,
        status: AttainmentStatus,
        coverage: Option<Decimal>,
        reason: &str,
    ) {
        self.apply(StatementEvent::AttainmentRecorded {
            schema_version: SCHEMA_VERSION_1,
            objective: objective(objective_code),
            status,
            coverage: coverage.map(Percent::new),
            reason: reason.into(),
        });
    }

    /// Every applicable objective attained, except those given.
    pub fn attain_all_except(
        &mut self,
        except: &[(&str, AttainmentStatus, Option<Decimal>, &str)],
    ) {
        let codes: Vec<(ObjectiveCode, bool)> = self
            .catalogue
            .objectives
            .iter()
            .map(|o| (o.code.clone(), o.ght_only))
            .collect();
        for (code, ght_only) in codes {
            if ght_only && !self.candidate.is_ght() {
                continue;
            }
            match except.iter().find(|(c, ..)| *c == code.as_str()) {
                Some((c, status, coverage, reason)) => {
                    self.attainment(c, *status, *coverage, reason)
                }
                None => self.attainment(code.as_str(), AttainmentStatus::Attained, None, ""),
            }
        }
    }

    pub fn order_payment(&mut self, pid: &str, cents: i64, reference: &str, on: NaiveDate) {
        self.apply(StatementEvent::PaymentOrdered {
            schema_version: SCHEMA_VERSION_1,
            payment_id: payment_id(pid),
            amount: Money::from_cents(cents),
            reference: reference.into(),
            ordered_on: on,
        });
    }

    /// The workbook model of this statement, every figure from the domain.
    pub fn model(&self) -> TemplateModel {
        let report = compute_subsidy(&self.statement, &self.catalogue, &self.candidate)
            .map_err(|e| e.to_string());
        let source = StatementSource {
            candidate: &self.candidate,
            domain: DomainId::D1bis,
            catalogue: &self.catalogue,
            statement: &self.statement,
            subsidy: report.as_ref().map_err(|e| e.as_str()),
            flags: &self.flags,
            checklist: &self.checklist,
            as_of: self.as_of,
        };
        model_of(
            &source,
            Provenance {
                viewer: self.viewer,
                ledger_position: self.ledger_position,
                head_hash: self.head_hash.clone(),
                read_position: self.ledger_position,
                generated_at: self.generated_at,
            },
        )
    }

    /// A realistic D1 bis statement: the seed's employee (44A567), a second employee over two years
    /// with non-eligible elements, invoices (user text that looks like formulas among them), other
    /// costs, a regional receipt, reviews, attainment with a décote, payments, a document.
    pub fn sample() -> SampleStatement {
        let candidate = sample_candidate(
            "31000001",
            "Centre hospitalier de Saint-Exemple",
            CandidateKind::EjPublic,
            Money::from_cents(8_000_000),
        );
        let mut s = SampleStatement::opened(candidate);
        s.internal(
            "IC-0001",
            "44A567",
            2026,
            (5_563_125, 3_293_548, 0),
            dec!(1607),
            dec!(120),
            "D1.O1.A",
            "Audits ADS mensuels et suivi des remédiations",
        );
        s.internal(
            "IC-0002",
            "B12-034",
            2026,
            (4_812_000, 2_165_400, 150_000),
            dec!(1607),
            dec!(210.5),
            "D1.O2.A",
            "Pilotage des audits d'exposition internet",
        );
        s.internal(
            "IC-0003",
            "B12-034",
            2027,
            (4_900_000, 2_205_000, 0),
            dec!(1580),
            dec!(35),
            "D1.O2.A",
            "Pilotage des audits d'exposition internet",
        );
        s.external(
            "EC-0001",
            ExternalCostLine {
                cost_type: CostType::Recurrent,
                order_date: date(2026, 2, 12),
                invoice_date: date(2026, 3, 31),
                order_number: "BC-2026-0142".into(),
                invoice_number: "F-88412".into(),
                supplier: "Cyberscan Industrie SAS".into(),
                service_label: "Audits d'exposition internet sur plateforme industrielle (T1)"
                    .into(),
                amount: Money::from_cents(1_452_000),
                nature: "PRESTATION_EXTERNE".into(),
                objective: objective("D1.O2.A"),
                contribution: "Audits trimestriels de l'exposition internet".into(),
            },
        );
        s.external(
            "EC-0002",
            ExternalCostLine {
                cost_type: CostType::Investissement,
                order_date: date(2026, 3, 2),
                invoice_date: date(2026, 4, 15),
                order_number: "BC-2026-0177".into(),
                invoice_number: "2026-0415-7".into(),
                supplier: "=HYPERLINK(\"http://x\";\"y\")".into(),
                service_label: "Remédiation des comptes à privilèges de l'AD".into(),
                amount: Money::from_cents(2_880_000),
                nature: "REMEDIATION".into(),
                objective: objective("D1.O1.B"),
                contribution: "+33 1 23 45 67 89".into(),
            },
        );
        s.external(
            "EC-0003",
            ExternalCostLine {
                cost_type: CostType::Recurrent,
                order_date: date(2026, 4, 28),
                invoice_date: date(2026, 5, 20),
                order_number: "-5".into(),
                invoice_number: "@SUM(A1)".into(),
                supplier: "Crise & Co".into(),
                service_label: "Accompagnement à l'exercice de crise".into(),
                amount: Money::from_cents(960_050),
                nature: "PRESTATION_EXTERNE".into(),
                objective: objective("D1.O3"),
                contribution: "Préparation et animation de l'exercice".into(),
            },
        );
        s.other(
            "OC-0001",
            OtherCostLine {
                cost_type: CostType::Investissement,
                amount: Money::from_cents(540_000),
                date: date(2026, 3, 18),
                supplier: "Editeur PingCastle".into(),
                label: "Licence perpétuelle d'outil d'audit AD".into(),
                nature: "INVESTISSEMENT_LOGICIEL".into(),
                objective: objective("D1.O1.A"),
                contribution: "Outil d'audit de l'annuaire".into(),
            },
        );
        s.other(
            "OC-0002",
            OtherCostLine {
                cost_type: CostType::Recurrent,
                amount: Money::from_cents(31_240),
                date: date(2026, 4, 1),
                supplier: "Transports régionaux".into(),
                label: "Déplacements sur site".into(),
                nature: "FRAIS_DEPLACEMENT".into(),
                objective: objective("D1.O3"),
                contribution: "Déplacements pour l'exercice".into(),
            },
        );
        s.receipt(
            "RC-0001",
            "D1.O2",
            "Région Occitanie – appel à projets 2026",
            500_000,
        );
        let reviewed = date(2026, 8, 20);
        for line in ["IC-0001", "IC-0003", "EC-0001", "EC-0003", "OC-0001"] {
            s.eligible(line, reviewed);
        }
        s.review(
            "IC-0002",
            Money::from_cents(800_000),
            "Temps consacré retenu pour partie",
            reviewed,
        );
        s.review(
            "EC-0002",
            Money::from_cents(2_400_000),
            "Une partie de la prestation porte sur la convergence des AD",
            reviewed,
        );
        s.review(
            "OC-0002",
            Money::ZERO,
            "Frais de déplacement non éligibles",
            reviewed,
        );
        s.attain_all_except(&[
            (
                "D1.O1.B",
                AttainmentStatus::Attained,
                Some(dec!(75)),
                "Couverture de 75 % de l'activité combinée",
            ),
            (
                "D1.O2.B",
                AttainmentStatus::NotAttained,
                Some(dec!(80)),
                "Couverture de 80 % de l'activité combinée (palier 66 %–90 %)",
            ),
            (
                "D1.O4",
                AttainmentStatus::NotAttained,
                None,
                "Questionnaire oSIS MPR incomplet",
            ),
        ]);
        s.order_payment("PAY-0001", 1_500_000, "OP-2026-0091", date(2026, 9, 1));
        s.apply(StatementEvent::PaymentDisbursed {
            schema_version: SCHEMA_VERSION_1,
            payment_id: payment_id("PAY-0001"),
            bank_reference: "OP-2026-0091".into(),
            value_date: date(2026, 9, 15),
            disbursed_on: date(2026, 9, 15),
        });
        s.order_payment("PAY-0002", 250_000, "OP-2026-0092", date(2026, 9, 2));
        s.apply(StatementEvent::PaymentCancelled {
            schema_version: SCHEMA_VERSION_1,
            payment_id: payment_id("PAY-0002"),
            reason: "saisi en double".into(),
            cancelled_on: date(2026, 9, 3),
        });
        let doc = DocumentId::parse("DOC-0001").expect("sample document id");
        s.apply(StatementEvent::DocumentAttached {
            schema_version: SCHEMA_VERSION_1,
            document: AttachedDocument {
                id: doc.clone(),
                sha256: "5d41402abc4b2a76b9719d911017c592ae2f4d6e3b1c0a9f8e7d6c5b4a392817".into(),
                file_name: "Facture =HYPERLINK(\"http://x\";\"y\").pdf".into(),
                media_type: "application/pdf".into(),
                size_bytes: 48_213,
                kind: "FACTURE".into(),
                target: DocumentTarget::Line {
                    line_id: id("EC-0001"),
                },
                comment: String::new(),
                attached_by_role: Role::Etablissement,
                attached_at: Utc
                    .with_ymd_and_hms(2026, 9, 14, 9, 0, 0)
                    .single()
                    .expect("sample instant"),
                attached_on: date(2026, 9, 14),
                replaces: None,
                superseded_by: None,
            },
        });
        s.flags = vec![
            Flag {
                code: "NATURE_NON_ELIGIBLE",
                message_fr: "Nature de dépense non éligible : Frais de déplacement".into(),
                values: BTreeMap::from([("nature".into(), "FRAIS_DEPLACEMENT".into())]),
                line_id: Some(id("OC-0002")),
                controller_only: false,
            },
            Flag {
                code: "FACTURE_EN_DOUBLE_AUTRE_CANDIDAT",
                message_fr: "Facture déjà déclarée par un autre candidat".into(),
                values: BTreeMap::from([
                    ("tiers".into(), "Cyberscan Industrie SAS".into()),
                    ("n°".into(), "F-88412".into()),
                ]),
                line_id: Some(id("EC-0001")),
                controller_only: true,
            },
        ];
        s.checklist = DocumentChecklist {
            objectives: vec![ChecklistEntry {
                target: DocumentTarget::Objective {
                    objective: objective("D1.O3"),
                },
                label: "D1.O3 — Se préparer au risque cyber".into(),
                items: vec![ChecklistItem {
                    kind: "D1O3_RAPPORT_EXERCICE".into(),
                    label: "Rapport de réalisation de l'exercice".into(),
                    required: true,
                    provided: Vec::new(),
                    payroll_recap_sha256: None,
                    missing: true,
                }],
                other_documents: Vec::new(),
                complete: false,
            }],
            lines: vec![ChecklistEntry {
                target: DocumentTarget::Line {
                    line_id: id("EC-0001"),
                },
                label: "EC-0001 — coût externe".into(),
                items: vec![ChecklistItem {
                    kind: "FACTURE".into(),
                    label: "Facture".into(),
                    required: true,
                    provided: vec![doc],
                    payroll_recap_sha256: None,
                    missing: false,
                }],
                other_documents: Vec::new(),
                complete: true,
            }],
            missing_required: 1,
        };
        s.ledger_position = 4242;
        s.head_hash = "9f2c4e0b7a1d3c5e8f60a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e2f4a6b8c0d2".into();
        s
    }

    /// Clears a line's review (the state a correction leaves): the line counts as unreviewed.
    pub fn unreview(&mut self, line_id: &str) {
        if let Some(line) = self.statement.lines.get_mut(&id(line_id)) {
            line.retained = None;
        }
    }
}

impl TemplateModel {
    /// The sample statement's workbook model (see [`SampleStatement::sample`]).
    pub fn sample() -> TemplateModel {
        SampleStatement::sample().model()
    }
}
