//! The input model of the financial template (trame de l'état financier, SPEC.md §9): a plain data
//! structure holding everything one workbook shows. The ledger's read side maps a statement into it;
//! the exporter only lays it out. Amounts are [`Money`], hours and percentages exact decimals.

use crate::domain::{DomainId, Finess, Matricule, Money, ObjectiveCode, Percent};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde::{Deserialize, Serialize};

/// Who downloads the workbook: cross-candidate flags are shown to controllers only (SPEC.md §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ViewerRole {
    Establishment,
    Controller,
    PaymentDesk,
}

impl ViewerRole {
    pub fn sees_controller_only_flags(self) -> bool {
        !matches!(self, ViewerRole::Establishment)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CandidateInfo {
    pub finess: Finess,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectiveInfo {
    /// Letter-O form, e.g. `D1.O1.A`.
    pub code: ObjectiveCode,
    pub label: String,
}

/// An objective group (`D1.O1`) with the seed's receipts-table spelling (`D1.01`) and label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupInfo {
    pub code: ObjectiveCode,
    pub receipts_label: String,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpenseNatureInfo {
    pub code: String,
    pub label: String,
    pub eligible: bool,
}

/// Cost type of an external or other cost (seed 000: "coût d'investissement, coût récurrent").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CostType {
    Investment,
    Recurring,
}

impl CostType {
    pub const ALL: [CostType; 2] = [CostType::Investment, CostType::Recurring];

    pub fn label_fr(self) -> &'static str {
        match self {
            CostType::Investment => "Coût d'investissement",
            CostType::Recurring => "Coût récurrent",
        }
    }

    pub fn from_label_fr(text: &str) -> Option<CostType> {
        let t = text.trim().to_lowercase();
        CostType::ALL.into_iter().find(|c| {
            c.label_fr().to_lowercase() == t
                || matches!(
                    (c, t.as_str()),
                    (CostType::Investment, "investissement") | (CostType::Recurring, "récurrent")
                )
        })
    }
}

/// The rows the service derives from an internal cost line (SPEC.md §5), for checking the sheet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InternalComputed {
    /// charges × non-eligible gross ÷ gross, unrounded.
    pub ne_charges: Decimal,
    pub gross_excl: Money,
    /// charges − ne_charges, unrounded.
    pub charges_excl: Decimal,
    pub subtotal: Decimal,
    /// subtotal ÷ productive hours, unrounded.
    pub hourly_rate: Decimal,
    /// ROUND(rate × hours; 2), half away from zero.
    pub imputable: Money,
}

impl InternalComputed {
    /// The rule of SPEC.md §5, exactly as the sheet's formulas compute it.
    pub fn compute(
        gross: Money,
        charges: Money,
        ne_gross: Money,
        hours_productive: Decimal,
        hours_on_action: Decimal,
    ) -> InternalComputed {
        let ne_charges = if gross.is_zero() {
            Decimal::ZERO
        } else {
            charges.value() * ne_gross.value() / gross.value()
        };
        let gross_excl = gross - ne_gross;
        let charges_excl = charges.value() - ne_charges;
        let subtotal = gross_excl.value() + charges_excl;
        let hourly_rate = if hours_productive.is_zero() {
            Decimal::ZERO
        } else {
            subtotal / hours_productive
        };
        let imputable = Money::new(hourly_rate * hours_on_action).round_cents_half_away();
        InternalComputed {
            ne_charges,
            gross_excl,
            charges_excl,
            subtotal,
            hourly_rate,
            imputable,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InternalCostLine {
    pub line_id: String,
    pub matricule: Matricule,
    pub year: i32,
    /// SALAIRE BRUT ANNUELISE (sans prorata).
    pub gross: Money,
    /// CHARGES PATRONALES (sans prorata).
    pub charges: Money,
    /// dont paiement des éléments non éligibles (sal brut).
    pub ne_gross: Money,
    pub hours_productive: Decimal,
    pub hours_on_action: Decimal,
    pub objective: ObjectiveCode,
    pub contribution: String,
    pub computed: InternalComputed,
    /// Amount retained by the review, if reviewed.
    pub retained: Option<Money>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalCostLine {
    pub line_id: String,
    pub cost_type: CostType,
    pub order_date: Option<NaiveDate>,
    pub invoice_date: NaiveDate,
    pub order_number: String,
    pub invoice_number: String,
    pub supplier: String,
    pub label: String,
    pub amount: Money,
    pub nature: String,
    pub objective: ObjectiveCode,
    pub contribution: String,
    pub retained: Option<Money>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OtherCostLine {
    pub line_id: String,
    pub cost_type: CostType,
    pub date: NaiveDate,
    pub supplier: String,
    pub label: String,
    pub amount: Money,
    pub nature: String,
    pub objective: ObjectiveCode,
    pub contribution: String,
    pub retained: Option<Money>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptLine {
    pub line_id: String,
    /// The objective group, letter-O form (`D1.O2`); the sheet shows its receipts label (`D1.02`).
    pub group: ObjectiveCode,
    pub label: String,
    pub nature_provenance: String,
    pub amount: Money,
    pub received_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PaymentKind {
    Order,
    Disbursement,
    Recovery,
}

impl PaymentKind {
    pub fn label_fr(self) -> &'static str {
        match self {
            PaymentKind::Order => "Ordre de paiement",
            PaymentKind::Disbursement => "Versement",
            PaymentKind::Recovery => "Recouvrement",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentLine {
    pub payment_id: String,
    pub kind: PaymentKind,
    pub date: NaiveDate,
    pub reference: String,
    pub amount: Money,
    /// An order cancelled later (not counted in the committed amount).
    pub cancelled: bool,
    pub comment: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlagLine {
    pub code: String,
    pub message_fr: String,
    pub line_id: Option<String>,
    pub values: String,
    /// Cross-candidate flags: shown to controllers only.
    pub controller_only: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewLine {
    pub line_id: String,
    pub line_label: String,
    /// French label of the decision: éligible, inéligible, partiellement éligible, pièces demandées.
    pub decision: String,
    pub retained: Option<Money>,
    pub reason: String,
    pub comment: String,
    pub reviewer: String,
    pub decided_on: NaiveDate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AttainmentStatus {
    Unknown,
    Attained,
    /// D1.O2.B: coverage from 66 % to under 90 %, the intermediate tier.
    PartiallyAttained,
    NotAttained,
    NotApplicable,
}

impl AttainmentStatus {
    pub fn label_fr(self) -> &'static str {
        match self {
            AttainmentStatus::Unknown => "Inconnu",
            AttainmentStatus::Attained => "Atteint",
            AttainmentStatus::PartiallyAttained => "Partiellement atteint",
            AttainmentStatus::NotAttained => "Non atteint",
            AttainmentStatus::NotApplicable => "Non applicable",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttainmentLine {
    pub objective: ObjectiveCode,
    pub status: AttainmentStatus,
    pub coverage: Option<Percent>,
    /// Décote this objective contributes (0 when attained, the schedule's percentage otherwise).
    pub decote: Percent,
    pub explanation: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectiveFigures {
    pub objective: ObjectiveCode,
    pub internal: Money,
    pub external: Money,
    pub other: Money,
    pub total_declared: Money,
    pub total_eligible: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupFigures {
    pub group: ObjectiveCode,
    pub declared: Money,
    pub eligible: Money,
    pub receipts: Money,
}

/// The service's figures (SPEC.md §8); the workbook's formulas must find the same to the cent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SummaryFigures {
    pub per_objective: Vec<ObjectiveFigures>,
    pub per_group: Vec<GroupFigures>,
    pub internal_declared: Money,
    pub external_declared: Money,
    pub other_declared: Money,
    pub declared: Money,
    pub eligible: Money,
    pub receipts: Money,
    pub net: Money,
    pub ceiling: Money,
    pub decote: Percent,
    pub capped_ceiling: Money,
    pub subsidy: Money,
    pub provisional: bool,
    pub committed: Money,
    pub disbursed: Money,
    pub recovered: Money,
    pub due: Money,
}

/// A supporting document attached to the statement (the `Pièces justificatives` sheet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentLine {
    pub document_id: String,
    /// Kind label of the catalogue (the seed's wording).
    pub kind: String,
    pub file_name: String,
    /// `ligne EXT-001` or `objectif D1.O3`.
    pub target: String,
    pub attached_on: NaiveDate,
    /// Who attached it (role label).
    pub attached_by: String,
    pub size_bytes: u64,
    pub sha256: String,
    /// The document that replaced it, if any (it stays on file).
    pub superseded_by: Option<String>,
}

/// One expected document of the checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChecklistRow {
    /// The objective or line it documents.
    pub target: String,
    /// Kind label of the catalogue.
    pub expected: String,
    pub required: bool,
    /// `fournie (DOC-0001)`, `récapitulatif de paie importé`, `MANQUANTE`, `facultative, absente`.
    pub state: String,
    pub missing: bool,
}

/// Everything one workbook shows: one statement (candidate × domain), possibly as of an instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateModel {
    pub candidate: CandidateInfo,
    pub domain: DomainId,
    /// Columns of the internal-cost blocks, e.g. `[2026, 2027]` for D1 bis.
    pub years: Vec<i32>,
    pub accepts_internal_costs: bool,
    pub objectives: Vec<ObjectiveInfo>,
    pub groups: Vec<GroupInfo>,
    pub expense_natures: Vec<ExpenseNatureInfo>,
    pub internal_costs: Vec<InternalCostLine>,
    pub external_costs: Vec<ExternalCostLine>,
    pub other_costs: Vec<OtherCostLine>,
    pub receipts: Vec<ReceiptLine>,
    pub payments: Vec<PaymentLine>,
    pub flags: Vec<FlagLine>,
    pub reviews: Vec<ReviewLine>,
    pub attainment: Vec<AttainmentLine>,
    /// Supporting documents attached, superseded ones included.
    #[serde(default)]
    pub documents: Vec<DocumentLine>,
    /// What is expected per objective and per line, provided or missing.
    #[serde(default)]
    pub checklist: Vec<ChecklistRow>,
    pub summary: SummaryFigures,
    /// Global ledger position and head hash the statement reflects.
    pub ledger_position: u64,
    pub head_hash: String,
    pub generated_at: DateTime<Utc>,
    pub as_of: Option<DateTime<Utc>>,
    pub viewer: ViewerRole,
}

impl TemplateModel {
    pub fn group_of(&self, objective: &ObjectiveCode) -> Option<&GroupInfo> {
        let group = objective.group();
        self.groups.iter().find(|g| g.code == group)
    }

    pub fn nature_label(&self, code: &str) -> String {
        self.expense_natures
            .iter()
            .find(|n| n.code == code)
            .map(|n| n.label.clone())
            .unwrap_or_else(|| code.to_string())
    }

    /// Reference computation of SPEC.md §8 over the model's lines: used by [`TemplateModel::sample`]
    /// and the bench generator so their figures are consistent. The service's figures come from the
    /// ledger; tests compare both with the spreadsheet's.
    pub fn compute_summary(&self, ceiling: Money) -> SummaryFigures {
        let eligible_of = |declared: Money, retained: Option<Money>| retained.unwrap_or(declared);
        let mut per_objective: Vec<ObjectiveFigures> = self
            .objectives
            .iter()
            .map(|o| ObjectiveFigures {
                objective: o.code.clone(),
                internal: Money::ZERO,
                external: Money::ZERO,
                other: Money::ZERO,
                total_declared: Money::ZERO,
                total_eligible: Money::ZERO,
            })
            .collect();
        let mut slot =
            |code: &ObjectiveCode| per_objective.iter_mut().position(|f| &f.objective == code);
        let mut entries: Vec<(ObjectiveCode, u8, Money, Money)> = Vec::new();
        for l in &self.internal_costs {
            entries.push((
                l.objective.clone(),
                0,
                l.computed.imputable,
                eligible_of(l.computed.imputable, l.retained),
            ));
        }
        for l in &self.external_costs {
            entries.push((
                l.objective.clone(),
                1,
                l.amount,
                eligible_of(l.amount, l.retained),
            ));
        }
        for l in &self.other_costs {
            entries.push((
                l.objective.clone(),
                2,
                l.amount,
                eligible_of(l.amount, l.retained),
            ));
        }
        let (mut internal, mut external, mut other, mut eligible) =
            (Money::ZERO, Money::ZERO, Money::ZERO, Money::ZERO);
        let mut positions = Vec::new();
        for (code, kind, declared, elig) in &entries {
            positions.push(slot(code));
            match kind {
                0 => internal += *declared,
                1 => external += *declared,
                _ => other += *declared,
            }
            eligible += *elig;
        }
        for ((_, kind, declared, elig), pos) in entries.iter().zip(positions) {
            if let Some(i) = pos {
                let f = &mut per_objective[i];
                match kind {
                    0 => f.internal += *declared,
                    1 => f.external += *declared,
                    _ => f.other += *declared,
                }
                f.total_declared += *declared;
                f.total_eligible += *elig;
            }
        }
        let per_group: Vec<GroupFigures> = self
            .groups
            .iter()
            .map(|g| GroupFigures {
                group: g.code.clone(),
                declared: per_objective
                    .iter()
                    .filter(|f| f.objective.group() == g.code)
                    .map(|f| f.total_declared)
                    .sum(),
                eligible: per_objective
                    .iter()
                    .filter(|f| f.objective.group() == g.code)
                    .map(|f| f.total_eligible)
                    .sum(),
                receipts: self
                    .receipts
                    .iter()
                    .filter(|r| r.group == g.code)
                    .map(|r| r.amount)
                    .sum(),
            })
            .collect();
        let receipts: Money = self.receipts.iter().map(|r| r.amount).sum();
        let net = (eligible - receipts).max(Money::ZERO);
        let decote_sum: Decimal = self.attainment.iter().map(|a| a.decote.value()).sum();
        let decote = Percent::new(decote_sum.min(Decimal::ONE_HUNDRED));
        let capped_ceiling = ceiling
            .times(Decimal::ONE - decote.fraction())
            .floor_cents()
            .min(ceiling);
        let subsidy = net.min(capped_ceiling);
        let provisional = self
            .attainment
            .iter()
            .any(|a| a.status == AttainmentStatus::Unknown)
            || self.internal_costs.iter().any(|l| l.retained.is_none())
            || self.external_costs.iter().any(|l| l.retained.is_none())
            || self.other_costs.iter().any(|l| l.retained.is_none());
        let committed: Money = self
            .payments
            .iter()
            .filter(|p| p.kind == PaymentKind::Order && !p.cancelled)
            .map(|p| p.amount)
            .sum();
        let disbursed: Money = self
            .payments
            .iter()
            .filter(|p| p.kind == PaymentKind::Disbursement)
            .map(|p| p.amount)
            .sum();
        let recovered: Money = self
            .payments
            .iter()
            .filter(|p| p.kind == PaymentKind::Recovery)
            .map(|p| p.amount)
            .sum();
        SummaryFigures {
            per_objective,
            per_group,
            internal_declared: internal,
            external_declared: external,
            other_declared: other,
            declared: internal + external + other,
            eligible,
            receipts,
            net,
            ceiling,
            decote,
            capped_ceiling,
            subsidy,
            provisional,
            committed,
            disbursed,
            recovered,
            due: subsidy - committed + recovered,
        }
    }

    /// A realistic D1 bis statement: the seed's employee (44A567), a second employee over two years
    /// with non-eligible elements, invoices, other costs, a regional receipt, reviews and payments.
    pub fn sample() -> TemplateModel {
        let objective = |c: &str| ObjectiveCode::parse(c).expect("sample objective");
        let money = |c: i64| Money::from_cents(c);
        let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("sample date");
        let internal = |id: &str,
                        mat: &str,
                        year: i32,
                        gross: i64,
                        charges: i64,
                        ne: i64,
                        hp: Decimal,
                        h: Decimal,
                        obj: &str,
                        contribution: &str,
                        retained: Option<Money>| {
            let computed =
                InternalComputed::compute(money(gross), money(charges), money(ne), hp, h);
            InternalCostLine {
                line_id: id.to_string(),
                matricule: Matricule::parse(mat).expect("sample matricule"),
                year,
                gross: money(gross),
                charges: money(charges),
                ne_gross: money(ne),
                hours_productive: hp,
                hours_on_action: h,
                objective: objective(obj),
                contribution: contribution.to_string(),
                computed,
                retained,
            }
        };
        let objectives = [
            (
                "D1.O1.A",
                "Auditer régulièrement l'annuaire technique (ADS)",
            ),
            (
                "D1.O1.B",
                "Atteindre le niveau de sécurité cible de l'annuaire",
            ),
            (
                "D1.O2.A",
                "Auditer régulièrement l'exposition internet (SILENE)",
            ),
            (
                "D1.O2.B",
                "Atteindre le niveau de sécurité cible de l'exposition internet",
            ),
            ("D1.O3", "Se préparer au risque cyber (exercice de crise)"),
            ("D1.O4", "S'auto-évaluer en matière de maturité (Osis)"),
            ("D1.O5", "Calculer le budget dédié au numérique"),
        ]
        .iter()
        .map(|(c, l)| ObjectiveInfo {
            code: objective(c),
            label: l.to_string(),
        })
        .collect();
        let groups = [
            ("D1.O1", "Maîtriser l'annuaire d'établissement"),
            ("D1.O2", "Maîtriser l'exposition internet"),
            ("D1.O3", "Se préparer au risque cyber"),
            (
                "D1.O4",
                "S'auto-évaluer en matière de maturité vis-à-vis des risques cyber",
            ),
            ("D1.O5", "Calculer le budget dédié au numérique"),
            ("D1.O6", "Renforcer la convergence des GHT"),
        ]
        .iter()
        .map(|(c, l)| {
            let code = objective(c);
            GroupInfo {
                receipts_label: code.receipts_table_label(),
                code,
                label: l.to_string(),
            }
        })
        .collect();
        let expense_natures = [
            ("prestation_externe", "Prestations externes", true),
            ("remediation", "Remédiation AD / exposition internet", true),
            ("investissement_logiciel", "Investissement logiciel", true),
            ("couts_internes", "Coûts internes", true),
            ("deplacement", "Frais de déplacement", false),
            (
                "materiel_courant",
                "Achat de matériel informatique courant",
                false,
            ),
        ]
        .iter()
        .map(|(c, l, e)| ExpenseNatureInfo {
            code: c.to_string(),
            label: l.to_string(),
            eligible: *e,
        })
        .collect();
        let internal_costs = vec![
            internal(
                "IC-0001",
                "44A567",
                2026,
                5_563_125,
                3_293_548,
                0,
                dec!(1607),
                dec!(120),
                "D1.O1.A",
                "Audits ADS mensuels et suivi des remédiations",
                Some(money(661_357)),
            ),
            internal(
                "IC-0002",
                "B12-034",
                2026,
                4_812_000,
                2_165_400,
                150_000,
                dec!(1607),
                dec!(210.5),
                "D1.O2.A",
                "Pilotage des audits d'exposition internet",
                Some(money(800_000)),
            ),
            internal(
                "IC-0003",
                "B12-034",
                2027,
                4_900_000,
                2_205_000,
                0,
                dec!(1580),
                dec!(35),
                "D1.O2.A",
                "Pilotage des audits d'exposition internet",
                None,
            ),
        ];
        let mut internal_costs = internal_costs;
        internal_costs[2].retained = Some(internal_costs[2].computed.imputable);
        let external_costs = vec![
            ExternalCostLine {
                line_id: "EC-0001".into(),
                cost_type: CostType::Recurring,
                order_date: Some(date(2026, 2, 12)),
                invoice_date: date(2026, 3, 31),
                order_number: "BC-2026-0142".into(),
                invoice_number: "F-88412".into(),
                supplier: "Cyberscan Industrie SAS".into(),
                label: "Audits d'exposition internet sur plateforme industrielle (T1)".into(),
                amount: money(1_452_000),
                nature: "prestation_externe".into(),
                objective: objective("D1.O2.A"),
                contribution: "Audits trimestriels de l'exposition internet".into(),
                retained: Some(money(1_452_000)),
            },
            ExternalCostLine {
                line_id: "EC-0002".into(),
                cost_type: CostType::Investment,
                order_date: Some(date(2026, 3, 2)),
                invoice_date: date(2026, 4, 15),
                order_number: "BC-2026-0177".into(),
                invoice_number: "2026-0415-7".into(),
                supplier: "=HYPERLINK(\"http://x\";\"y\")".into(),
                label: "Remédiation des comptes à privilèges de l'AD".into(),
                amount: money(2_880_000),
                nature: "remediation".into(),
                objective: objective("D1.O1.B"),
                contribution: "+33 1 23 45 67 89".into(),
                retained: Some(money(2_400_000)),
            },
            ExternalCostLine {
                line_id: "EC-0003".into(),
                cost_type: CostType::Recurring,
                order_date: None,
                invoice_date: date(2026, 5, 20),
                order_number: "-5".into(),
                invoice_number: "@SUM(A1)".into(),
                supplier: "Crise & Co".into(),
                label: "Accompagnement à l'exercice de crise".into(),
                amount: money(960_050),
                nature: "prestation_externe".into(),
                objective: objective("D1.O3"),
                contribution: "Préparation et animation de l'exercice".into(),
                retained: Some(money(960_050)),
            },
        ];
        let other_costs = vec![
            OtherCostLine {
                line_id: "OC-0001".into(),
                cost_type: CostType::Investment,
                date: date(2026, 3, 18),
                supplier: "Editeur PingCastle".into(),
                label: "Licence perpétuelle d'outil d'audit AD".into(),
                amount: money(540_000),
                nature: "investissement_logiciel".into(),
                objective: objective("D1.O1.A"),
                contribution: "Outil d'audit de l'annuaire".into(),
                retained: Some(money(540_000)),
            },
            OtherCostLine {
                line_id: "OC-0002".into(),
                cost_type: CostType::Recurring,
                date: date(2026, 4, 1),
                supplier: "Transports régionaux".into(),
                label: "Déplacements sur site".into(),
                amount: money(31_240),
                nature: "deplacement".into(),
                objective: objective("D1.O3"),
                contribution: "Déplacements pour l'exercice".into(),
                retained: Some(Money::ZERO),
            },
        ];
        let receipts = vec![ReceiptLine {
            line_id: "RC-0001".into(),
            group: objective("D1.O2"),
            label: "Subvention régionale cybersécurité".into(),
            nature_provenance: "Région Occitanie – appel à projets 2026".into(),
            amount: money(500_000),
            received_on: Some(date(2026, 5, 5)),
        }];
        let payments = vec![
            PaymentLine {
                payment_id: "PAY-0001".into(),
                kind: PaymentKind::Order,
                date: date(2026, 9, 1),
                reference: "OP-2026-0091".into(),
                amount: money(1_500_000),
                cancelled: false,
                comment: "Premier versement".into(),
            },
            PaymentLine {
                payment_id: "PAY-0002".into(),
                kind: PaymentKind::Disbursement,
                date: date(2026, 9, 15),
                reference: "OP-2026-0091".into(),
                amount: money(1_500_000),
                cancelled: false,
                comment: String::new(),
            },
            PaymentLine {
                payment_id: "PAY-0003".into(),
                kind: PaymentKind::Order,
                date: date(2026, 9, 2),
                reference: "OP-2026-0092".into(),
                amount: money(250_000),
                cancelled: true,
                comment: "Annulé : saisi en double".into(),
            },
        ];
        let flags = vec![
            FlagLine {
                code: "NATURE_NON_ELIGIBLE".into(),
                message_fr: "Nature de dépense non éligible : Frais de déplacement".into(),
                line_id: Some("OC-0002".into()),
                values: "nature=deplacement".into(),
                controller_only: false,
            },
            FlagLine {
                code: "FACTURE_EN_DOUBLE_AUTRE_CANDIDAT".into(),
                message_fr: "Facture déjà déclarée par un autre candidat".into(),
                line_id: Some("EC-0001".into()),
                values: "tiers=Cyberscan Industrie SAS; n°=F-88412".into(),
                controller_only: true,
            },
        ];
        let reviews = vec![ReviewLine {
            line_id: "EC-0002".into(),
            line_label: "Remédiation des comptes à privilèges de l'AD".into(),
            decision: "partiellement éligible".into(),
            retained: Some(money(2_400_000)),
            reason: "PERIMETRE".into(),
            comment: "Une partie de la prestation porte sur la convergence des AD".into(),
            reviewer: "controleur:ans-042".into(),
            decided_on: date(2026, 8, 20),
        }];
        let attainment = vec![
            ("D1.O1.A", AttainmentStatus::Attained, None, dec!(0)),
            (
                "D1.O1.B",
                AttainmentStatus::Attained,
                Some(dec!(75)),
                dec!(0),
            ),
            ("D1.O2.A", AttainmentStatus::Attained, None, dec!(0)),
            (
                "D1.O2.B",
                AttainmentStatus::PartiallyAttained,
                Some(dec!(80)),
                dec!(15),
            ),
            ("D1.O3", AttainmentStatus::Attained, None, dec!(0)),
            ("D1.O4", AttainmentStatus::NotAttained, None, dec!(2.5)),
            ("D1.O5", AttainmentStatus::Attained, None, dec!(0)),
        ]
        .into_iter()
        .map(|(c, status, coverage, decote)| AttainmentLine {
            objective: objective(c),
            status,
            coverage: coverage.map(Percent::new),
            decote: Percent::new(decote),
            explanation: match status {
                AttainmentStatus::PartiallyAttained => {
                    "Couverture de 80 % de l'activité combinée (palier 66 %–90 %)".into()
                }
                AttainmentStatus::NotAttained => "Questionnaire oSIS MPR incomplet".into(),
                AttainmentStatus::Unknown => "Non encore évalué".into(),
                _ => String::new(),
            },
        })
        .collect();
        let mut model = TemplateModel {
            candidate: CandidateInfo {
                finess: Finess::with_check_digit("31000001").expect("sample FINESS"),
                name: "Centre hospitalier de Saint-Exemple".into(),
            },
            domain: DomainId::D1bis,
            years: vec![2026, 2027],
            accepts_internal_costs: true,
            objectives,
            groups,
            expense_natures,
            internal_costs,
            external_costs,
            other_costs,
            receipts,
            payments,
            flags,
            reviews,
            attainment,
            documents: vec![DocumentLine {
                document_id: "DOC-0001".into(),
                kind: "Facture".into(),
                file_name: "Facture =HYPERLINK(\"http://x\";\"y\").pdf".into(),
                target: "ligne EXT-0001".into(),
                attached_on: NaiveDate::from_ymd_opt(2026, 9, 14).expect("sample date"),
                attached_by: "établissement".into(),
                size_bytes: 48_213,
                sha256: "5d41402abc4b2a76b9719d911017c592ae2f4d6e3b1c0a9f8e7d6c5b4a392817".into(),
                superseded_by: None,
            }],
            checklist: vec![
                ChecklistRow {
                    target: "D1.O3 — Se préparer au risque cyber".into(),
                    expected: "Rapport de réalisation de l'exercice".into(),
                    required: true,
                    state: "MANQUANTE".into(),
                    missing: true,
                },
                ChecklistRow {
                    target: "EXT-0001 — coût externe".into(),
                    expected: "Facture".into(),
                    required: true,
                    state: "fournie (DOC-0001)".into(),
                    missing: false,
                },
            ],
            summary: SummaryFigures::empty(),
            ledger_position: 4242,
            head_hash: "9f2c4e0b7a1d3c5e8f60a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e2f4a6b8c0d2".into(),
            generated_at: Utc
                .with_ymd_and_hms(2026, 9, 20, 8, 30, 0)
                .single()
                .expect("sample instant"),
            as_of: None,
            viewer: ViewerRole::Controller,
        };
        model.summary = model.compute_summary(money(8_000_000));
        model
    }
}

impl SummaryFigures {
    pub fn empty() -> SummaryFigures {
        SummaryFigures {
            per_objective: Vec::new(),
            per_group: Vec::new(),
            internal_declared: Money::ZERO,
            external_declared: Money::ZERO,
            other_declared: Money::ZERO,
            declared: Money::ZERO,
            eligible: Money::ZERO,
            receipts: Money::ZERO,
            net: Money::ZERO,
            ceiling: Money::ZERO,
            decote: Percent::ZERO,
            capped_ceiling: Money::ZERO,
            subsidy: Money::ZERO,
            provisional: true,
            committed: Money::ZERO,
            disbursed: Money::ZERO,
            recovered: Money::ZERO,
            due: Money::ZERO,
        }
    }
}
