//! Synthèse: identification, costs per objective and per group, the subsidy computation and the
//! what-if figures. The rows of the subsidy computation are addressed by name ([`SummaryRow`]): each
//! has a workbook-level defined name, and the formulas refer to one another by those names
//! (`=MIN(Montant_net,Plafond_ecrete)`), as an auditor reads them.

use super::{money_res, paris_time, res, Anchors};
use crate::domain::Money;
use crate::template::layout;
use crate::template::model::{SubsidyFigures, TemplateModel};
use crate::template::plan::{
    a1, abs, sheet_ref, ChartPlan, SeriesKind, SeriesPlan, SheetPlan, Style,
};

/// The rows of the subsidy computation, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SummaryRow {
    InternalDeclared,
    ExternalDeclared,
    OtherDeclared,
    Declared,
    Eligible,
    Receipts,
    Net,
    Ceiling,
    Decote,
    CappedCeiling,
    Subsidy,
    Status,
    Committed,
    Disbursed,
    Recovered,
    Due,
}

impl SummaryRow {
    pub const ALL: [SummaryRow; 16] = [
        SummaryRow::InternalDeclared,
        SummaryRow::ExternalDeclared,
        SummaryRow::OtherDeclared,
        SummaryRow::Declared,
        SummaryRow::Eligible,
        SummaryRow::Receipts,
        SummaryRow::Net,
        SummaryRow::Ceiling,
        SummaryRow::Decote,
        SummaryRow::CappedCeiling,
        SummaryRow::Subsidy,
        SummaryRow::Status,
        SummaryRow::Committed,
        SummaryRow::Disbursed,
        SummaryRow::Recovered,
        SummaryRow::Due,
    ];

    /// The label in column A (French, as users read it).
    pub fn label(self) -> &'static str {
        match self {
            SummaryRow::InternalDeclared => "Coûts internes déclarés",
            SummaryRow::ExternalDeclared => "Coûts externes déclarés",
            SummaryRow::OtherDeclared => "Autres coûts déclarés",
            SummaryRow::Declared => "Total déclaré",
            SummaryRow::Eligible => "Total éligible",
            SummaryRow::Receipts => "Recettes perçues",
            SummaryRow::Net => "Montant net (éligible − recettes)",
            SummaryRow::Ceiling => "Montant plafond",
            SummaryRow::Decote => "Décote",
            SummaryRow::CappedCeiling => "Plafond écrêté",
            SummaryRow::Subsidy => "Subvention",
            SummaryRow::Status => "Statut de la subvention",
            SummaryRow::Committed => "Engagé",
            SummaryRow::Disbursed => "Versé",
            SummaryRow::Recovered => "Recouvré",
            SummaryRow::Due => "Reste dû",
        }
    }

    /// The workbook's defined name of the figure (none for the status, a text).
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            SummaryRow::InternalDeclared => "Couts_internes_declares",
            SummaryRow::ExternalDeclared => "Couts_externes_declares",
            SummaryRow::OtherDeclared => "Autres_couts_declares",
            SummaryRow::Declared => "Total_declare",
            SummaryRow::Eligible => "Total_eligible",
            SummaryRow::Receipts => "Recettes_percues",
            SummaryRow::Net => "Montant_net",
            SummaryRow::Ceiling => "Montant_plafond",
            SummaryRow::Decote => "Decote",
            SummaryRow::CappedCeiling => "Plafond_ecrete",
            SummaryRow::Subsidy => "Subvention",
            SummaryRow::Status => return None,
            SummaryRow::Committed => "Engage",
            SummaryRow::Disbursed => "Verse",
            SummaryRow::Recovered => "Recouvre",
            SummaryRow::Due => "Reste_du",
        })
    }

    fn position(self) -> u32 {
        SummaryRow::ALL
            .iter()
            .position(|r| *r == self)
            .unwrap_or_default() as u32
    }

    /// Whether the figure exists only once the décote can be computed.
    fn needs_decote(self) -> bool {
        matches!(
            self,
            SummaryRow::Decote | SummaryRow::CappedCeiling | SummaryRow::Subsidy | SummaryRow::Due
        )
    }

    /// The defined name, for formulas.
    fn n(self) -> &'static str {
        self.name().unwrap_or("")
    }
}

/// What a cell of the computation holds.
enum Figure {
    /// A formula and the service's figure as its cached result.
    Formula(String, String, Style),
    /// A value written by the service.
    Value(Money),
    Text(String),
}

/// The text written where a figure cannot be computed.
pub const NOT_COMPUTABLE: &str = "non calculable";

pub(super) fn summary_sheet(
    model: &TemplateModel,
    a: &Anchors,
) -> (SheetPlan, Vec<(String, String)>) {
    let sm = &model.summary;
    let mut s = SheetPlan::new(layout::SYNTHESE);
    s.text(0, 0, "État financier – Synthèse", Style::Title);
    let ident: [(&str, String); 6] = [
        ("Candidat", model.candidate.name.clone()),
        ("FINESS", model.candidate.finess.to_string()),
        ("Domaine", model.domain.to_string()),
        (
            "Situation",
            match model.as_of {
                Some(t) => format!("au {}", paris_time(t)),
                None => "courante".to_string(),
            },
        ),
        ("Position du registre", model.ledger_position.to_string()),
        ("Empreinte de tête", model.head_hash.clone()),
    ];
    for (i, (label, value)) in ident.iter().enumerate() {
        s.text(1 + i as u32, 0, *label, Style::LabelBold);
        s.text(1 + i as u32, 1, value.as_str(), Style::Text);
    }
    s.text(7, 0, "Généré le", Style::LabelBold);
    s.text(7, 1, paris_time(model.generated_at), Style::Text);
    for (c, w) in [34.0, 44.0, 12.0, 16.0, 16.0, 16.0, 16.0, 16.0]
        .iter()
        .enumerate()
    {
        s.column(c as u16, *w);
    }

    // Costs per objective.
    let mut r = 9;
    s.text(r, 0, "Coûts par objectif", Style::Title);
    r += 1;
    for (c, h) in [
        "Objectif",
        "Libellé",
        "Groupe",
        "Coûts internes",
        "Coûts externes",
        "Autres coûts",
        "Total déclaré",
        "Total éligible",
    ]
    .iter()
    .enumerate()
    {
        s.text(r, c as u16, *h, Style::Header);
    }
    let ofirst = r + 1;
    for (i, o) in model.objectives.iter().enumerate() {
        let r = ofirst + i as u32;
        let fig = sm.per_objective.iter().find(|f| f.objective == o.code);
        let get = |f: &dyn Fn(&crate::template::model::ObjectiveFigures) -> Money| {
            money_res(fig.map(f).unwrap_or(Money::ZERO))
        };
        let code = a1(r, 0);
        s.text(r, 0, o.code.as_str(), Style::LabelBold);
        s.text(r, 1, o.label.as_str(), Style::TextWrap);
        s.text(r, 2, o.code.group().as_str(), Style::Label);
        let internal = match &a.internal_ranges {
            Some((crit, sum, _)) => format!("SUMIF({crit},{code},{sum})"),
            None => "0".to_string(),
        };
        s.formula(r, 3, internal, get(&|f| f.internal), Style::MoneyFormula);
        let (ec, ea, _) = &a.external_ranges;
        s.formula(
            r,
            4,
            format!("SUMIF({ec},{code},{ea})"),
            get(&|f| f.external),
            Style::MoneyFormula,
        );
        let (oc, oa, _) = &a.other_ranges;
        s.formula(
            r,
            5,
            format!("SUMIF({oc},{code},{oa})"),
            get(&|f| f.other),
            Style::MoneyFormula,
        );
        s.formula(
            r,
            6,
            format!("{}+{}+{}", a1(r, 3), a1(r, 4), a1(r, 5)),
            get(&|f| f.total_declared),
            Style::MoneyFormula,
        );
        let internal_eligible = match &a.internal_ranges {
            Some((crit, _, elig)) => format!("SUMIF({crit},{code},{elig})+"),
            None => String::new(),
        };
        let (_, _, ee) = &a.external_ranges;
        let (_, _, oe) = &a.other_ranges;
        s.formula(
            r,
            7,
            format!("{internal_eligible}SUMIF({ec},{code},{ee})+SUMIF({oc},{code},{oe})"),
            get(&|f| f.total_eligible),
            Style::MoneyFormula,
        );
    }
    let olast = ofirst + (model.objectives.len() as u32).max(1) - 1;
    let ot = olast + 1;
    s.text(ot, 0, "TOTAL", Style::LabelBold);
    let per_obj_sum = |f: &dyn Fn(&crate::template::model::ObjectiveFigures) -> Money| -> Money {
        sm.per_objective.iter().map(f).sum()
    };
    let totals: [(u16, Money); 5] = [
        (3, per_obj_sum(&|f| f.internal)),
        (4, per_obj_sum(&|f| f.external)),
        (5, per_obj_sum(&|f| f.other)),
        (6, per_obj_sum(&|f| f.total_declared)),
        (7, per_obj_sum(&|f| f.total_eligible)),
    ];
    for (c, v) in totals {
        s.formula(
            ot,
            c,
            format!("SUM({}:{})", a1(ofirst, c), a1(olast, c)),
            money_res(v),
            Style::MoneyTotal,
        );
    }

    // The subsidy computation (placed after the group table; the group table refers to it by name).
    let gfirst_header = ot + 3;
    let ng = model.groups.len() as u32;
    let gfirst = gfirst_header + 1;
    let glast = gfirst + ng.max(1) - 1;
    let mut r = glast + 3;
    s.text(r, 0, "Calcul de la subvention", Style::Title);
    r += 1;
    s.text(r, 0, "Rubrique", Style::Header);
    s.text(r, 1, "Montant", Style::Header);
    let f0 = r + 1;
    let row_of = |row: SummaryRow| f0 + row.position();
    let subsidy: Option<&SubsidyFigures> = sm.subsidy.as_ref().ok();
    for row in SummaryRow::ALL {
        let figure = figure(model, a, row, subsidy);
        let at = row_of(row);
        s.text(at, 0, row.label(), Style::LabelBold);
        match figure {
            Figure::Formula(formula, result, style) => s.formula(at, 1, formula, result, style),
            Figure::Value(m) => s.number(at, 1, m.to_cell_f64(), Style::Money),
            Figure::Text(t) => s.text(at, 1, t, Style::LabelBold),
        }
    }
    let mut after = row_of(SummaryRow::Due) + 1;
    if let Err(reason) = &sm.subsidy {
        // The same sentence as the statement's JSON.
        s.text(after, 0, "Motif", Style::LabelBold);
        s.text(after, 1, reason.as_str(), Style::TextWrap);
        after += 1;
    }
    let synth = sheet_ref(layout::SYNTHESE);
    let defined_names: Vec<(String, String)> = SummaryRow::ALL
        .iter()
        .filter_map(|row| {
            row.name()
                .map(|n| (n.to_string(), format!("={synth}!{}", abs(row_of(*row), 1))))
        })
        .collect();

    // Costs and receipts per objective group; a group that does not apply to the candidate (D1.O6
    // for a candidate that is not a GHT) keeps its row, hidden.
    s.text(
        gfirst_header - 1,
        0,
        "Coûts et recettes par groupe d'objectifs",
        Style::Title,
    );
    for (c, h) in [
        "Groupe",
        "Intitulé",
        "N°",
        "Coûts déclarés",
        "Coûts éligibles",
        "Recettes perçues",
        "Plafond écrêté du relevé",
    ]
    .iter()
    .enumerate()
    {
        s.text(gfirst_header, c as u16, *h, Style::Header);
    }
    let group_col = format!("{}:{}", abs(ofirst, 2), abs(olast, 2));
    for (i, g) in model.groups.iter().enumerate() {
        let r = gfirst + i as u32;
        let fig = sm.per_group.iter().find(|f| f.group == g.code);
        s.text(r, 0, g.code.as_str(), Style::LabelBold);
        s.text(r, 1, g.label.as_str(), Style::TextWrap);
        s.text(r, 2, g.receipts_label.as_str(), Style::Label);
        if !g.applicable {
            s.hide_row(r);
        }
        let code = a1(r, 0);
        s.formula(
            r,
            3,
            format!(
                "SUMIF({group_col},{code},{}:{})",
                abs(ofirst, 6),
                abs(olast, 6)
            ),
            money_res(fig.map(|f| f.declared).unwrap_or(Money::ZERO)),
            Style::MoneyFormula,
        );
        s.formula(
            r,
            4,
            format!(
                "SUMIF({group_col},{code},{}:{})",
                abs(ofirst, 7),
                abs(olast, 7)
            ),
            money_res(fig.map(|f| f.eligible).unwrap_or(Money::ZERO)),
            Style::MoneyFormula,
        );
        s.formula(
            r,
            5,
            a.receipts_group_cells[i].clone(),
            money_res(fig.map(|f| f.receipts).unwrap_or(Money::ZERO)),
            Style::MoneyFormula,
        );
        match subsidy {
            Some(f) => s.formula(
                r,
                6,
                SummaryRow::CappedCeiling.n(),
                money_res(f.capped_ceiling),
                Style::MoneyFormula,
            ),
            None => s.text(r, 6, NOT_COMPUTABLE, Style::Text),
        }
    }

    // The chart: eligible costs per group; the statement's capped ceiling is one figure for the whole
    // statement, so it is written once, in the title, not drawn as a line over each group.
    let chart_range = |c: u16| format!("={synth}!{}:{}", abs(gfirst, c), abs(glast, c));
    let cap = match subsidy {
        Some(f) => format!(
            "plafond écrêté du relevé : {} (tous groupes confondus)",
            f.capped_ceiling.to_french()
        ),
        None => format!("plafond écrêté du relevé : {NOT_COMPUTABLE}"),
    };
    s.chart = Some(ChartPlan {
        title: format!("Coûts éligibles par groupe d'objectifs — {cap}"),
        categories: chart_range(0),
        series: vec![SeriesPlan {
            name: "Coûts éligibles".to_string(),
            values: chart_range(4),
            kind: SeriesKind::Column,
        }],
        anchor_row: 9,
        anchor_col: 9,
        y_axis_title: "€ TTC".to_string(),
    });

    what_if_block(&mut s, model, after + 1);
    s.freeze = Some((1, 0));
    (s, defined_names)
}

/// The cell of one row of the computation.
fn figure(
    model: &TemplateModel,
    a: &Anchors,
    row: SummaryRow,
    subsidy: Option<&SubsidyFigures>,
) -> Figure {
    use SummaryRow as R;
    let sm = &model.summary;
    let f = |formula: String, value: Money, style: Style| {
        Figure::Formula(formula, money_res(value), style)
    };
    if row.needs_decote() && subsidy.is_none() {
        return Figure::Text(NOT_COMPUTABLE.to_string());
    }
    let zero = || "0".to_string();
    match (row, subsidy) {
        (R::InternalDeclared, _) => f(
            a.internal_total.clone().unwrap_or_else(zero),
            sm.internal_declared,
            Style::MoneyFormula,
        ),
        (R::ExternalDeclared, _) => f(
            a.external_total.clone(),
            sm.external_declared,
            Style::MoneyFormula,
        ),
        (R::OtherDeclared, _) => f(
            a.other_total.clone(),
            sm.other_declared,
            Style::MoneyFormula,
        ),
        (R::Declared, _) => f(
            format!(
                "{}+{}+{}",
                R::InternalDeclared.n(),
                R::ExternalDeclared.n(),
                R::OtherDeclared.n()
            ),
            sm.declared,
            Style::MoneyTotal,
        ),
        (R::Eligible, _) => f(
            format!(
                "{}+{}+{}",
                a.internal_eligible_total.clone().unwrap_or_else(zero),
                a.external_eligible_total,
                a.other_eligible_total
            ),
            sm.eligible,
            Style::MoneyTotal,
        ),
        (R::Receipts, _) => f(a.receipts_total.clone(), sm.receipts, Style::MoneyFormula),
        (R::Net, _) => f(
            format!("MAX(0,{}-{})", R::Eligible.n(), R::Receipts.n()),
            sm.net,
            Style::MoneyTotal,
        ),
        (R::Ceiling, _) => match sm.ceiling {
            Some(c) => Figure::Value(c),
            None => Figure::Text("non renseigné".to_string()),
        },
        (R::Decote, Some(x)) => Figure::Formula(
            format!("MIN(1,SUM({}))", a.decote_range),
            res(x.decote.fraction()),
            Style::PercentFormula,
        ),
        // ROUND(…;6) first: the exact product has at most 6 decimals, so this only removes binary
        // noise before rounding down to the cent (SPEC.md §8).
        (R::CappedCeiling, Some(x)) => f(
            format!(
                "ROUNDDOWN(ROUND({}*(1-{}),6),2)",
                R::Ceiling.n(),
                R::Decote.n()
            ),
            x.capped_ceiling,
            Style::MoneyTotal,
        ),
        (R::Subsidy, Some(x)) => f(
            format!("MIN({},{})", R::Net.n(), R::CappedCeiling.n()),
            x.subsidy,
            Style::MoneyTotal,
        ),
        (R::Status, _) => Figure::Text(sm.status_fr().to_string()),
        (R::Committed, _) => f(a.committed.clone(), sm.committed, Style::MoneyFormula),
        (R::Disbursed, _) => f(a.disbursed.clone(), sm.disbursed, Style::MoneyFormula),
        (R::Recovered, _) => f(a.recovered.clone(), sm.recovered, Style::MoneyFormula),
        (R::Due, Some(x)) => f(
            format!(
                "{}-{}+{}",
                R::Subsidy.n(),
                R::Committed.n(),
                R::Recovered.n()
            ),
            x.due,
            Style::MoneyTotal,
        ),
        (R::Decote | R::CappedCeiling | R::Subsidy | R::Due, None) => {
            Figure::Text(NOT_COMPUTABLE.to_string())
        }
    }
}

/// Title of the what-if block of the summary.
pub const WHAT_IF_TITLE: &str = "Simulations (valeurs calculées par le service)";

/// The what-if figures, as values (the service's computation, not formulas).
fn what_if_block(s: &mut SheetPlan, model: &TemplateModel, first: u32) {
    let Some(w) = &model.what_if else { return };
    let mut r = first;
    s.text(r, 0, WHAT_IF_TITLE, Style::Title);
    r += 1;
    for (c, h) in ["Hypothèse", "Subvention", "Écart"].iter().enumerate() {
        s.text(r, c as u16, *h, Style::Header);
    }
    r += 1;
    let mut line =
        |s: &mut SheetPlan, label: String, subsidy: Option<Money>, change: Option<Money>| {
            s.text(r, 0, label, Style::TextWrap);
            match subsidy {
                Some(m) => s.number(r, 1, m.to_cell_f64(), Style::Money),
                None => s.text(r, 1, NOT_COMPUTABLE, Style::Text),
            }
            match change {
                Some(m) => s.number(r, 2, m.to_cell_f64(), Style::Money),
                None => s.blank(r, 2, Style::Money),
            }
            r += 1;
        };
    if w.objectives.is_empty() {
        line(s, "Aucun objectif non atteint".to_string(), w.subsidy, None);
    }
    for o in &w.objectives {
        line(s, o.label_fr(), o.subsidy, o.change);
    }
    let f = &w.flagged_lines_refused;
    line(s, f.label_fr(), f.subsidy, f.change);
    s.text(
        r,
        0,
        "Coût éligible supplémentaire encore finançable sous le plafond écrêté",
        Style::TextWrap,
    );
    match w.ceiling_headroom {
        Some(m) => s.number(r, 1, m.to_cell_f64(), Style::Money),
        None => s.text(r, 1, NOT_COMPUTABLE, Style::Text),
    }
}
