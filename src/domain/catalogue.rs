//! The programme catalogue (SPEC.md §2): one TOML file per funding domain, data rather than code.
//!
//! `DomainCatalogue::from_toml_str` parses the text of `fixtures/domains/d1bis.toml` or `d2.toml`; the
//! caller reads the file (this module is pure). Every error names the file, the line and the key.

use crate::domain::ids::{DomainId, ObjectiveCode};
use crate::domain::money::Percent;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::str::FromStr;
use toml::Spanned;

/// A catalogue file that does not parse or does not make sense. Always names the file, line and key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogueError {
    #[error("{file} ligne {line}, clé {key} : {message}")]
    Invalid {
        file: String,
        line: usize,
        key: String,
        message: String,
    },
    #[error("{file} : domaine {domain} déjà chargé par {previous}")]
    DuplicateDomain {
        file: String,
        domain: DomainId,
        previous: String,
    },
    #[error("catalogue : domaine {0} absent")]
    MissingDomain(DomainId),
}

/// A parts of the financial statement (SPEC.md §5).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum CostPart {
    Internal,
    External,
    Other,
    Receipts,
}

impl CostPart {
    pub fn label_fr(self) -> &'static str {
        match self {
            CostPart::Internal => "coûts internes",
            CostPart::External => "coûts externes",
            CostPart::Other => "autres coûts",
            CostPart::Receipts => "recettes perçues",
        }
    }
}

/// An inclusive window of calendar dates (Europe/Paris).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateWindow {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl DateWindow {
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.start <= date && date <= self.end
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainDates {
    /// Publication of the arrêté: start of cost eligibility.
    pub decree: NaiveDate,
    /// Window in which the operational phase must start.
    pub phase_start_window: DateWindow,
    pub first_audits_deadline: Option<NaiveDate>,
    pub declaration_deadline: NaiveDate,
    /// Objectives declaration portal (D2).
    pub portal_window: Option<DateWindow>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Objective {
    pub code: ObjectiveCode,
    pub label: String,
    pub group: ObjectiveCode,
    pub ght_only: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectiveGroup {
    pub code: ObjectiveCode,
    pub label: String,
    pub ght_only: bool,
}

/// One coverage tier of a décote item: applies when `from ≤ coverage < below`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CoverageTier {
    pub coverage_from: Percent,
    pub coverage_below: Percent,
    pub percent: Percent,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecoteRate {
    Flat(Percent),
    /// By coverage of the combined activity (D1.O2.B). Coverage at or above the highest `coverage_below`
    /// is attainment; a "not attained" without coverage takes the most severe tier (our rule).
    ByCoverage(Vec<CoverageTier>),
}

/// One line of the décote schedule. `objective` is a sub-objective (`D1.O1.A`) or an objective group
/// (`D1.O6`): a group line counts once if any of its sub-objectives is not attained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecoteItem {
    pub objective: ObjectiveCode,
    pub rate: DecoteRate,
    pub ght_only: bool,
}

impl DecoteItem {
    /// Whether this item covers an objective (itself, or the objective's group).
    pub fn covers(&self, objective: &ObjectiveCode) -> bool {
        &self.objective == objective
            || (self.objective.is_group() && objective.group() == self.objective)
    }

    /// The coverage at or above which the objective is attained, for a tiered item.
    pub fn attained_from(&self) -> Option<Percent> {
        match &self.rate {
            DecoteRate::Flat(_) => None,
            DecoteRate::ByCoverage(tiers) => tiers.iter().map(|t| t.coverage_below).max(),
        }
    }

    /// The percentage when the objective is not attained, with the recorded coverage if any.
    pub fn percent_not_attained(&self, coverage: Option<Percent>) -> Percent {
        match &self.rate {
            DecoteRate::Flat(p) => *p,
            DecoteRate::ByCoverage(tiers) => {
                let most_severe = tiers
                    .iter()
                    .map(|t| t.percent)
                    .max()
                    .unwrap_or(Percent::HUNDRED);
                match coverage {
                    None => most_severe,
                    Some(c) => tiers
                        .iter()
                        .find(|t| t.coverage_from <= c && c < t.coverage_below)
                        .map(|t| t.percent)
                        .unwrap_or(if Some(c) >= self.attained_from() {
                            Percent::ZERO
                        } else {
                            most_severe
                        }),
                }
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecoteSchedule {
    pub items: Vec<DecoteItem>,
}

/// An expense nature (nature de dépense) a line is declared with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpenseNature {
    pub code: String,
    pub label: String,
    /// Base eligibility.
    pub eligible: bool,
    /// When set, eligible only for these objectives (or groups); not eligible elsewhere.
    pub only_objectives: Option<Vec<ObjectiveCode>>,
    /// Eligible except for these objectives (or groups).
    pub ineligible_for: Vec<ObjectiveCode>,
    /// The seed paragraph the nature comes from.
    pub comment: String,
}

fn code_matches(listed: &ObjectiveCode, objective: &ObjectiveCode) -> bool {
    listed == objective || (listed.is_group() && &objective.group() == listed)
}

impl ExpenseNature {
    /// Whether a line of this nature is eligible for that objective.
    pub fn eligible_for(&self, objective: &ObjectiveCode) -> bool {
        if !self.eligible {
            return false;
        }
        if self
            .ineligible_for
            .iter()
            .any(|c| code_matches(c, objective))
        {
            return false;
        }
        match &self.only_objectives {
            Some(list) => list.iter().any(|c| code_matches(c, objective)),
            None => true,
        }
    }
}

/// What a document kind can be attached to (SPEC.md §7: a line or an objective).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum LinePart {
    Internal,
    External,
    Other,
    Receipt,
}

impl LinePart {
    /// The part of a line kind as `LineContent::kind_name` spells it.
    pub fn from_kind_name(name: &str) -> Option<LinePart> {
        match name {
            "internal" => Some(LinePart::Internal),
            "external" => Some(LinePart::External),
            "other" => Some(LinePart::Other),
            "receipt" => Some(LinePart::Receipt),
            _ => None,
        }
    }

    pub fn label_fr(self) -> &'static str {
        match self {
            LinePart::Internal => "coût interne",
            LinePart::External => "coût externe",
            LinePart::Other => "autre coût",
            LinePart::Receipt => "recette",
        }
    }
}

/// A kind of supporting document (pièce justificative) expected by the programme, from the seeds' lists
/// per objective and per kind of line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentKind {
    /// Stable code (`A-Z`, `0-9`, `_`), stored in the events.
    pub code: String,
    /// The seed's wording.
    pub label: String,
    /// Objectives (or groups) this kind documents.
    pub objectives: Vec<ObjectiveCode>,
    /// Kinds of line this kind documents.
    pub lines: Vec<LinePart>,
    /// May be attached to any line or objective (e.g. « autre pièce »).
    pub any_target: bool,
    /// Whether the checklist counts it as missing when absent (conditional documents are not required).
    pub required: bool,
    /// The seed paragraph it comes from.
    pub comment: String,
}

impl DocumentKind {
    /// Whether a document of this kind may be attached to that objective.
    pub fn documents_objective(&self, objective: &ObjectiveCode) -> bool {
        self.any_target || self.objectives.iter().any(|c| code_matches(c, objective))
    }

    /// Whether a document of this kind may be attached to a line of that part.
    pub fn documents_line(&self, part: LinePart) -> bool {
        self.any_target || self.lines.contains(&part)
    }
}

/// Which date the SILENE + Club RSSI registration deadline is (SPEC.md §2, our rule: fixed date first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SileneDeadlineRule {
    FixedDate,
    DaysAfterPhaseStart,
}

/// From when the D1.O6.B first milestone is counted (SPEC.md §2, our rule: the call for funding).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MilestoneFrom {
    CallForFunding,
    Declaration,
}

/// Rule parameters of D1 bis where seed 003 contradicts itself (default first, alternative named).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleParameters {
    pub silene_club_rssi_deadline: NaiveDate,
    pub silene_club_rssi_alternative_days_after_phase_start: u32,
    pub silene_club_rssi_rule: SileneDeadlineRule,
    pub audit_mean_interval_max_days: u32,
    /// `false`: mean ≤ max ("en moyenne tous les 60 jours"); `true`: mean < max ("inférieur à 60 jours").
    pub audit_mean_interval_strict: bool,
    pub audit_max_gap_days: u32,
    pub last_audit_max_days_before_submission: u32,
    pub antepenultimate_max_days_before_last: u32,
    pub d1o1b_coverage_min_percent: Percent,
    pub d1o2b_coverage_min_percent: Percent,
    pub d1o6b_first_milestone_months: u32,
    pub d1o6b_first_milestone_from: MilestoneFrom,
    pub crisis_exercise_valid_from: NaiveDate,
    pub crisis_exercise_financed_from: NaiveDate,
}

impl RuleParameters {
    /// The SILENE + Club RSSI registration deadline for a candidate whose phase started on `phase_start`.
    pub fn silene_deadline(&self, phase_start: Option<NaiveDate>) -> NaiveDate {
        match (self.silene_club_rssi_rule, phase_start) {
            (SileneDeadlineRule::DaysAfterPhaseStart, Some(start)) => {
                start
                    + chrono::Days::new(u64::from(
                        self.silene_club_rssi_alternative_days_after_phase_start,
                    ))
            }
            _ => self.silene_club_rssi_deadline,
        }
    }
}

/// One funding domain as loaded from its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainCatalogue {
    pub file_name: String,
    pub domain: DomainId,
    pub label: String,
    pub dates: DomainDates,
    pub payment_window: Option<DateWindow>,
    /// The payment window is an example set by us, not a programme date (D1 bis, SPEC.md §2).
    pub payment_window_is_example: bool,
    pub cost_parts: BTreeSet<CostPart>,
    pub template_years: Vec<i32>,
    pub groups: Vec<ObjectiveGroup>,
    pub objectives: Vec<Objective>,
    /// `None`: no schedule published (D2).
    pub decote_schedule: Option<DecoteSchedule>,
    pub natures: Vec<ExpenseNature>,
    pub rules: Option<RuleParameters>,
    /// Supporting document kinds expected, per objective and per kind of line (SPEC.md §7).
    pub documents: Vec<DocumentKind>,
}

impl DomainCatalogue {
    pub fn objective(&self, code: &ObjectiveCode) -> Option<&Objective> {
        self.objectives.iter().find(|o| &o.code == code)
    }

    pub fn group(&self, code: &ObjectiveCode) -> Option<&ObjectiveGroup> {
        self.groups.iter().find(|g| &g.code == code)
    }

    /// A code a cost line may refer to: an objective (sub-objective) or an objective group of the domain.
    pub fn is_line_objective(&self, code: &ObjectiveCode) -> bool {
        self.objective(code).is_some() || self.group(code).is_some()
    }

    /// Whether the code (objective or group) is reserved to GHT candidates.
    pub fn is_ght_only(&self, code: &ObjectiveCode) -> bool {
        self.objective(code).map(|o| o.ght_only).unwrap_or(false)
            || self
                .group(&code.group())
                .map(|g| g.ght_only)
                .unwrap_or(false)
    }

    pub fn nature(&self, code: &str) -> Option<&ExpenseNature> {
        self.natures.iter().find(|n| n.code == code)
    }

    pub fn document_kind(&self, code: &str) -> Option<&DocumentKind> {
        self.documents.iter().find(|k| k.code == code)
    }

    pub fn accepts(&self, part: CostPart) -> bool {
        self.cost_parts.contains(&part)
    }

    pub fn decote_item(&self, objective: &ObjectiveCode) -> Option<&DecoteItem> {
        self.decote_schedule
            .as_ref()
            .and_then(|s| s.items.iter().find(|i| i.covers(objective)))
    }

    /// Parses a domain file. `file_name` is used in error messages only.
    pub fn from_toml_str(file_name: &str, text: &str) -> Result<DomainCatalogue, CatalogueError> {
        let raw: RawDomain = toml::from_str(text).map_err(|e| toml_error(file_name, text, &e))?;
        Builder {
            file: file_name,
            text,
        }
        .build(raw)
    }
}

/// Both funding domains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalogue {
    pub domains: BTreeMap<DomainId, DomainCatalogue>,
}

impl Catalogue {
    /// Loads every (file name, text) pair; each domain once, both domains present.
    pub fn from_files(files: Vec<(String, String)>) -> Result<Catalogue, CatalogueError> {
        let mut domains: BTreeMap<DomainId, DomainCatalogue> = BTreeMap::new();
        for (name, text) in files {
            let domain = DomainCatalogue::from_toml_str(&name, &text)?;
            if let Some(previous) = domains.get(&domain.domain) {
                return Err(CatalogueError::DuplicateDomain {
                    file: name,
                    domain: domain.domain,
                    previous: previous.file_name.clone(),
                });
            }
            domains.insert(domain.domain, domain);
        }
        for id in DomainId::ALL {
            if !domains.contains_key(&id) {
                return Err(CatalogueError::MissingDomain(id));
            }
        }
        Ok(Catalogue { domains })
    }

    pub fn domain(&self, id: DomainId) -> &DomainCatalogue {
        // from_files guarantees both domains are present.
        &self.domains[&id]
    }
}

// ---------------------------------------------------------------------------------------------------
// Raw file format and its conversion, with spans for line numbers.

type SDate = Spanned<toml::value::Datetime>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDomain {
    domain: Spanned<String>,
    label: String,
    cost_parts: Vec<CostPart>,
    template_years: Spanned<Vec<i32>>,
    #[serde(default)]
    payment_window_example: bool,
    #[serde(default)]
    decote_schedule_published: Option<bool>,
    dates: RawDates,
    #[serde(default)]
    portal_window: Option<RawWindow>,
    #[serde(default)]
    payment_window: Option<RawWindow>,
    groups: Vec<RawGroup>,
    objectives: Vec<RawObjective>,
    #[serde(default)]
    decote_schedule: Option<RawSchedule>,
    natures: Vec<RawNature>,
    #[serde(default)]
    rules: Option<RawRules>,
    #[serde(default)]
    documents: Vec<RawDocumentKind>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDocumentKind {
    code: Spanned<String>,
    label: String,
    #[serde(default)]
    objectives: Vec<Spanned<String>>,
    #[serde(default)]
    lines: Vec<LinePart>,
    #[serde(default)]
    any_target: bool,
    required: bool,
    comment: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDates {
    decree: SDate,
    phase_start_earliest: SDate,
    phase_start_latest: SDate,
    #[serde(default)]
    first_audits_deadline: Option<SDate>,
    declaration_deadline: SDate,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWindow {
    start: SDate,
    end: SDate,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    code: Spanned<String>,
    label: String,
    #[serde(default)]
    ght_only: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawObjective {
    code: Spanned<String>,
    label: String,
    #[serde(default)]
    ght_only: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSchedule {
    combination: Spanned<String>,
    items: Vec<RawDecoteItem>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDecoteItem {
    objective: Spanned<String>,
    #[serde(default)]
    percent: Option<Spanned<String>>,
    #[serde(default)]
    tiers: Option<Vec<RawTier>>,
    #[serde(default)]
    ght_only: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTier {
    coverage_from: Spanned<String>,
    coverage_below: Spanned<String>,
    percent: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNature {
    code: Spanned<String>,
    label: String,
    eligible: bool,
    #[serde(default)]
    objectives: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    ineligible_for: Vec<Spanned<String>>,
    comment: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRules {
    silene_club_rssi_deadline: SDate,
    silene_club_rssi_alternative_days_after_phase_start: u32,
    silene_club_rssi_rule: SileneDeadlineRule,
    audit_mean_interval_max_days: u32,
    audit_mean_interval_strict: bool,
    audit_max_gap_days: u32,
    last_audit_max_days_before_submission: u32,
    antepenultimate_max_days_before_last: u32,
    d1o1b_coverage_min_percent: Spanned<String>,
    d1o2b_coverage_min_percent: Spanned<String>,
    d1o6b_first_milestone_months: u32,
    d1o6b_first_milestone_from: MilestoneFrom,
    crisis_exercise_valid_from: SDate,
    crisis_exercise_financed_from: SDate,
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// The dotted key a toml error points at: the table header above it and the key on its line.
fn key_at(text: &str, offset: usize) -> String {
    let line_no = line_of(text, offset);
    let lines: Vec<&str> = text.lines().collect();
    let line = lines
        .get(line_no.saturating_sub(1))
        .copied()
        .unwrap_or("")
        .trim();
    let mut table = String::new();
    for l in lines.iter().take(line_no.saturating_sub(1)).rev() {
        let t = l.trim();
        if t.starts_with('[') {
            table = t.trim_matches(|c| c == '[' || c == ']').trim().to_string();
            break;
        }
    }
    let own = if line.starts_with('[') {
        return line
            .trim_matches(|c| c == '[' || c == ']')
            .trim()
            .to_string();
    } else {
        line.split('=').next().unwrap_or("").trim().to_string()
    };
    match (table.is_empty(), own.is_empty()) {
        (true, _) => own,
        (false, true) => table,
        (false, false) => format!("{table}.{own}"),
    }
}

fn toml_error(file: &str, text: &str, error: &toml::de::Error) -> CatalogueError {
    let offset = error.span().map(|s| s.start).unwrap_or(0);
    CatalogueError::Invalid {
        file: file.to_string(),
        line: line_of(text, offset),
        key: key_at(text, offset),
        message: error.message().trim().to_string(),
    }
}

struct Builder<'a> {
    file: &'a str,
    text: &'a str,
}

impl Builder<'_> {
    fn err(&self, span: Range<usize>, key: &str, message: impl Into<String>) -> CatalogueError {
        CatalogueError::Invalid {
            file: self.file.to_string(),
            line: line_of(self.text, span.start),
            key: key.to_string(),
            message: message.into(),
        }
    }

    /// Span of the first line that assigns `key` (for semantic errors on unspanned values).
    fn key_span(&self, key: &str) -> Range<usize> {
        let mut offset = 0;
        for line in self.text.split_inclusive('\n') {
            let t = line.trim_start();
            if t.starts_with(key) && t[key.len()..].trim_start().starts_with('=') {
                return offset..offset + line.len();
            }
            offset += line.len();
        }
        0..0
    }

    fn date(&self, value: &SDate, key: &str) -> Result<NaiveDate, CatalogueError> {
        let dt = value.get_ref();
        match (dt.date, dt.time, dt.offset) {
            (Some(d), None, None) => {
                NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
                    .ok_or_else(|| self.err(value.span(), key, format!("date {dt} invalide")))
            }
            _ => Err(self.err(
                value.span(),
                key,
                format!("date attendue (AAAA-MM-JJ), trouvé {dt}"),
            )),
        }
    }

    fn window(&self, raw: &RawWindow, key: &str) -> Result<DateWindow, CatalogueError> {
        let start = self.date(&raw.start, &format!("{key}.start"))?;
        let end = self.date(&raw.end, &format!("{key}.end"))?;
        if end < start {
            return Err(self.err(raw.end.span(), &format!("{key}.end"), "fin avant le début"));
        }
        Ok(DateWindow { start, end })
    }

    fn code(
        &self,
        value: &Spanned<String>,
        key: &str,
        domain: DomainId,
    ) -> Result<ObjectiveCode, CatalogueError> {
        let code = ObjectiveCode::parse(value.get_ref())
            .map_err(|e| self.err(value.span(), key, e.to_string()))?;
        if !code
            .as_str()
            .starts_with(&format!("{}.", domain.objective_prefix()))
        {
            return Err(self.err(
                value.span(),
                key,
                format!("code objectif {code} hors du domaine {domain}"),
            ));
        }
        Ok(code)
    }

    /// A stable code of upper-case letters, digits and `_` (expense natures, document kinds).
    fn upper_code(&self, value: &Spanned<String>, key: &str) -> Result<String, CatalogueError> {
        let code = value.get_ref().trim().to_string();
        if code.is_empty()
            || !code
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        {
            return Err(self.err(
                value.span(),
                key,
                format!("code \"{code}\" invalide (A-Z, 0-9, _)"),
            ));
        }
        Ok(code)
    }

    fn percent(&self, value: &Spanned<String>, key: &str) -> Result<Percent, CatalogueError> {
        let text = value.get_ref().trim().replace(',', ".");
        let d = Decimal::from_str(&text).map_err(|_| {
            self.err(
                value.span(),
                key,
                format!("pourcentage illisible \"{}\"", value.get_ref()),
            )
        })?;
        if d < Decimal::ZERO || d > Decimal::ONE_HUNDRED {
            return Err(self.err(
                value.span(),
                key,
                format!("pourcentage {d} hors de [0, 100]"),
            ));
        }
        Ok(Percent::new(d))
    }

    fn build(&self, raw: RawDomain) -> Result<DomainCatalogue, CatalogueError> {
        let domain = DomainId::parse(raw.domain.get_ref())
            .map_err(|e| self.err(raw.domain.span(), "domain", e.to_string()))?;
        let decree = self.date(&raw.dates.decree, "dates.decree")?;
        let phase_start_window = DateWindow {
            start: self.date(
                &raw.dates.phase_start_earliest,
                "dates.phase_start_earliest",
            )?,
            end: self.date(&raw.dates.phase_start_latest, "dates.phase_start_latest")?,
        };
        if phase_start_window.end < phase_start_window.start {
            return Err(self.err(
                raw.dates.phase_start_latest.span(),
                "dates.phase_start_latest",
                "fin avant le début",
            ));
        }
        let first_audits_deadline = raw
            .dates
            .first_audits_deadline
            .as_ref()
            .map(|d| self.date(d, "dates.first_audits_deadline"))
            .transpose()?;
        let declaration_deadline = self.date(
            &raw.dates.declaration_deadline,
            "dates.declaration_deadline",
        )?;
        if declaration_deadline < decree {
            return Err(self.err(
                raw.dates.declaration_deadline.span(),
                "dates.declaration_deadline",
                "date limite de déclaration antérieure à l'arrêté",
            ));
        }
        let portal_window = raw
            .portal_window
            .as_ref()
            .map(|w| self.window(w, "portal_window"))
            .transpose()?;
        let payment_window = raw
            .payment_window
            .as_ref()
            .map(|w| self.window(w, "payment_window"))
            .transpose()?;

        let years = raw.template_years.get_ref().clone();
        if years.is_empty() || years.windows(2).any(|w| w[1] <= w[0]) {
            return Err(self.err(
                raw.template_years.span(),
                "template_years",
                "années croissantes attendues",
            ));
        }

        let mut groups = Vec::new();
        for (i, g) in raw.groups.iter().enumerate() {
            let key = format!("groups[{i}].code");
            let code = self.code(&g.code, &key, domain)?;
            if !code.is_group() {
                return Err(self.err(
                    g.code.span(),
                    &key,
                    format!("{code} n'est pas un groupe d'objectifs"),
                ));
            }
            if groups.iter().any(|x: &ObjectiveGroup| x.code == code) {
                return Err(self.err(g.code.span(), &key, format!("groupe {code} en double")));
            }
            groups.push(ObjectiveGroup {
                code,
                label: g.label.clone(),
                ght_only: g.ght_only,
            });
        }

        let mut objectives: Vec<Objective> = Vec::new();
        for (i, o) in raw.objectives.iter().enumerate() {
            let key = format!("objectives[{i}].code");
            let code = self.code(&o.code, &key, domain)?;
            let group = code.group();
            let Some(g) = groups.iter().find(|g| g.code == group) else {
                return Err(self.err(
                    o.code.span(),
                    &key,
                    format!("groupe {group} non déclaré dans [[groups]]"),
                ));
            };
            if objectives.iter().any(|x| x.code == code) {
                return Err(self.err(o.code.span(), &key, format!("objectif {code} en double")));
            }
            objectives.push(Objective {
                ght_only: o.ght_only || g.ght_only,
                code,
                label: o.label.clone(),
                group,
            });
        }
        let known = |code: &ObjectiveCode| {
            objectives.iter().any(|o| &o.code == code) || groups.iter().any(|g| &g.code == code)
        };

        let decote_schedule = match (&raw.decote_schedule, raw.decote_schedule_published) {
            (Some(_), Some(false)) => {
                return Err(self.err(
                    self.key_span("decote_schedule_published"),
                    "decote_schedule_published",
                    "false alors qu'un barème [decote_schedule] est présent",
                ));
            }
            (None, _) => None,
            (Some(s), _) => {
                if s.combination.get_ref() != "additive_capped_100" {
                    return Err(self.err(
                        s.combination.span(),
                        "decote_schedule.combination",
                        format!(
                            "combinaison \"{}\" inconnue (attendu additive_capped_100)",
                            s.combination.get_ref()
                        ),
                    ));
                }
                let mut items = Vec::new();
                for (i, it) in s.items.iter().enumerate() {
                    let key = format!("decote_schedule.items[{i}]");
                    let objective =
                        self.code(&it.objective, &format!("{key}.objective"), domain)?;
                    if !known(&objective) {
                        return Err(self.err(
                            it.objective.span(),
                            &format!("{key}.objective"),
                            format!("objectif {objective} inconnu du domaine"),
                        ));
                    }
                    let rate = match (&it.percent, &it.tiers) {
                        (Some(p), None) => {
                            DecoteRate::Flat(self.percent(p, &format!("{key}.percent"))?)
                        }
                        (None, Some(tiers)) if !tiers.is_empty() => {
                            let mut out = Vec::new();
                            for (j, t) in tiers.iter().enumerate() {
                                let tk = format!("{key}.tiers[{j}]");
                                let tier = CoverageTier {
                                    coverage_from: self.percent(
                                        &t.coverage_from,
                                        &format!("{tk}.coverage_from"),
                                    )?,
                                    coverage_below: self.percent(
                                        &t.coverage_below,
                                        &format!("{tk}.coverage_below"),
                                    )?,
                                    percent: self.percent(&t.percent, &format!("{tk}.percent"))?,
                                };
                                if tier.coverage_below <= tier.coverage_from {
                                    return Err(self.err(
                                        t.coverage_below.span(),
                                        &format!("{tk}.coverage_below"),
                                        "borne haute ≤ borne basse",
                                    ));
                                }
                                out.push(tier);
                            }
                            DecoteRate::ByCoverage(out)
                        }
                        _ => {
                            return Err(self.err(
                                it.objective.span(),
                                &key,
                                "percent ou tiers attendu (un seul des deux)",
                            ));
                        }
                    };
                    items.push(DecoteItem {
                        objective,
                        rate,
                        ght_only: it.ght_only,
                    });
                }
                Some(DecoteSchedule { items })
            }
        };

        let mut natures: Vec<ExpenseNature> = Vec::new();
        for (i, n) in raw.natures.iter().enumerate() {
            let key = format!("natures[{i}]");
            let code = self.upper_code(&n.code, &format!("{key}.code"))?;
            if natures.iter().any(|x| x.code == code) {
                return Err(self.err(
                    n.code.span(),
                    &format!("{key}.code"),
                    format!("nature {code} en double"),
                ));
            }
            let list = |values: &[Spanned<String>],
                        field: &str|
             -> Result<Vec<ObjectiveCode>, CatalogueError> {
                let mut out = Vec::new();
                for v in values {
                    let c = self.code(v, &format!("{key}.{field}"), domain)?;
                    if !known(&c) {
                        return Err(self.err(
                            v.span(),
                            &format!("{key}.{field}"),
                            format!("objectif {c} inconnu du domaine"),
                        ));
                    }
                    out.push(c);
                }
                Ok(out)
            };
            let only_objectives = n
                .objectives
                .as_ref()
                .map(|v| list(v, "objectives"))
                .transpose()?;
            let ineligible_for = list(&n.ineligible_for, "ineligible_for")?;
            natures.push(ExpenseNature {
                code,
                label: n.label.clone(),
                eligible: n.eligible,
                only_objectives,
                ineligible_for,
                comment: n.comment.clone(),
            });
        }

        let rules = raw
            .rules
            .as_ref()
            .map(|r| -> Result<RuleParameters, CatalogueError> {
                Ok(RuleParameters {
                    silene_club_rssi_deadline: self.date(
                        &r.silene_club_rssi_deadline,
                        "rules.silene_club_rssi_deadline",
                    )?,
                    silene_club_rssi_alternative_days_after_phase_start: r
                        .silene_club_rssi_alternative_days_after_phase_start,
                    silene_club_rssi_rule: r.silene_club_rssi_rule,
                    audit_mean_interval_max_days: r.audit_mean_interval_max_days,
                    audit_mean_interval_strict: r.audit_mean_interval_strict,
                    audit_max_gap_days: r.audit_max_gap_days,
                    last_audit_max_days_before_submission: r.last_audit_max_days_before_submission,
                    antepenultimate_max_days_before_last: r.antepenultimate_max_days_before_last,
                    d1o1b_coverage_min_percent: self.percent(
                        &r.d1o1b_coverage_min_percent,
                        "rules.d1o1b_coverage_min_percent",
                    )?,
                    d1o2b_coverage_min_percent: self.percent(
                        &r.d1o2b_coverage_min_percent,
                        "rules.d1o2b_coverage_min_percent",
                    )?,
                    d1o6b_first_milestone_months: r.d1o6b_first_milestone_months,
                    d1o6b_first_milestone_from: r.d1o6b_first_milestone_from,
                    crisis_exercise_valid_from: self.date(
                        &r.crisis_exercise_valid_from,
                        "rules.crisis_exercise_valid_from",
                    )?,
                    crisis_exercise_financed_from: self.date(
                        &r.crisis_exercise_financed_from,
                        "rules.crisis_exercise_financed_from",
                    )?,
                })
            })
            .transpose()?;

        let mut documents: Vec<DocumentKind> = Vec::new();
        for (i, d) in raw.documents.iter().enumerate() {
            let key = format!("documents[{i}]");
            let code = self.upper_code(&d.code, &format!("{key}.code"))?;
            if documents.iter().any(|x| x.code == code) {
                return Err(self.err(
                    d.code.span(),
                    &format!("{key}.code"),
                    format!("pièce {code} en double"),
                ));
            }
            let mut objectives = Vec::new();
            for v in &d.objectives {
                let c = self.code(v, &format!("{key}.objectives"), domain)?;
                if !known(&c) {
                    return Err(self.err(
                        v.span(),
                        &format!("{key}.objectives"),
                        format!("objectif {c} inconnu du domaine"),
                    ));
                }
                objectives.push(c);
            }
            if objectives.is_empty() && d.lines.is_empty() && !d.any_target {
                return Err(self.err(
                    d.code.span(),
                    &key,
                    "objectives, lines ou any_target attendu : à quoi cette pièce se rattache-t-elle ?",
                ));
            }
            documents.push(DocumentKind {
                code,
                label: d.label.clone(),
                objectives,
                lines: d.lines.clone(),
                any_target: d.any_target,
                required: d.required,
                comment: d.comment.clone(),
            });
        }

        Ok(DomainCatalogue {
            file_name: self.file.to_string(),
            domain,
            label: raw.label,
            dates: DomainDates {
                decree,
                phase_start_window,
                first_audits_deadline,
                declaration_deadline,
                portal_window,
            },
            payment_window,
            payment_window_is_example: raw.payment_window_example,
            cost_parts: raw.cost_parts.into_iter().collect(),
            template_years: years,
            groups,
            objectives,
            decote_schedule,
            natures,
            rules,
            documents,
        })
    }
}
