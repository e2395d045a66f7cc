//! Classification rules of rubriques (non-eligible elements, counters), from a TOML file:
//! `fixtures/payroll/rubriques.toml` holds the defaults, one comment per rule.

use crate::payroll::error::PayrollError;
use crate::payroll::text::fold;
use regex::Regex;
use serde::Deserialize;

/// The default rules, compiled into the binary.
pub const DEFAULT_RULES_TOML: &str = include_str!("../../fixtures/payroll/rubriques.toml");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleEffect {
    NonEligible,
    Informational,
}

#[derive(Debug, Deserialize)]
struct RulesFile {
    #[serde(default)]
    rule: Vec<RawRule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    effect: RuleEffect,
    #[serde(default)]
    codes: Vec<String>,
    label_pattern: Option<String>,
    comment: String,
}

#[derive(Debug, Clone)]
pub struct RubriqueRule {
    pub id: String,
    pub effect: RuleEffect,
    pub codes: Vec<String>,
    pub label_pattern: Option<Regex>,
    pub comment: String,
}

#[derive(Debug, Clone)]
pub struct RubriqueRules {
    pub rules: Vec<RubriqueRule>,
}

impl RubriqueRules {
    pub fn from_toml_str(text: &str) -> Result<RubriqueRules, PayrollError> {
        let file: RulesFile =
            toml::from_str(text).map_err(|e| PayrollError::Rules(e.to_string()))?;
        let mut rules = Vec::with_capacity(file.rule.len());
        for raw in file.rule {
            if raw.id.trim().is_empty() {
                return Err(PayrollError::Rules("règle sans id".into()));
            }
            if raw.comment.trim().is_empty() {
                return Err(PayrollError::Rules(format!(
                    "règle « {} » : commentaire obligatoire",
                    raw.id
                )));
            }
            if raw.codes.is_empty() && raw.label_pattern.is_none() {
                return Err(PayrollError::Rules(format!(
                    "règle « {} » : ni codes ni label_pattern",
                    raw.id
                )));
            }
            if rules.iter().any(|r: &RubriqueRule| r.id == raw.id) {
                return Err(PayrollError::Rules(format!("id « {} » en double", raw.id)));
            }
            let label_pattern = match raw.label_pattern {
                Some(p) => Some(Regex::new(&p).map_err(|e| {
                    PayrollError::Rules(format!("règle « {} » : motif invalide : {e}", raw.id))
                })?),
                None => None,
            };
            rules.push(RubriqueRule {
                id: raw.id,
                effect: raw.effect,
                codes: raw
                    .codes
                    .into_iter()
                    .map(|c| c.trim().to_string())
                    .collect(),
                label_pattern,
                comment: raw.comment,
            });
        }
        Ok(RubriqueRules { rules })
    }

    /// The rules of `fixtures/payroll/rubriques.toml`, as compiled in.
    pub fn load_default() -> RubriqueRules {
        RubriqueRules::from_toml_str(DEFAULT_RULES_TOML)
            .expect("fixtures/payroll/rubriques.toml is valid (checked by a test)")
    }

    /// No rule at all.
    pub fn empty() -> RubriqueRules {
        RubriqueRules { rules: Vec::new() }
    }

    /// The first rule matching a rubrique by code (exact, case-insensitive) or label (folded).
    pub fn classify(&self, code: Option<&str>, label: &str) -> Option<&RubriqueRule> {
        self.classify_index(code, label).map(|i| &self.rules[i])
    }

    /// Index in `rules` of the first matching rule.
    pub fn classify_index(&self, code: Option<&str>, label: &str) -> Option<usize> {
        if self.rules.is_empty() {
            return None;
        }
        let folded = fold(label);
        self.rules.iter().position(|rule| {
            code.is_some_and(|c| rule.codes.iter().any(|rc| rc.eq_ignore_ascii_case(c)))
                || rule
                    .label_pattern
                    .as_ref()
                    .is_some_and(|p| p.is_match(&folded))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_rules_load_and_each_has_a_comment() {
        let rules = RubriqueRules::load_default();
        assert!(rules.rules.len() >= 4);
        assert!(rules.rules.iter().all(|r| !r.comment.is_empty()));
    }

    #[test]
    fn departure_payments_are_non_eligible_but_ordinary_holiday_pay_is_not() {
        let rules = RubriqueRules::load_default();
        let id = |label: &str| rules.classify(None, label).map(|r| r.id.as_str());
        assert_eq!(
            id("Indemnité de départ à la retraite"),
            Some("depart-prime")
        );
        assert_eq!(id("PRIME DE DEPART VOLONTAIRE"), Some("depart-prime"));
        assert_eq!(id("Indemnité de licenciement"), Some("rupture-indemnite"));
        assert_eq!(
            id("Indemnité rupture conventionnelle"),
            Some("rupture-indemnite")
        );
        assert_eq!(
            id("Indemnité compensatrice de congés payés"),
            Some("conges-compensatrice")
        );
        assert_eq!(id("Indemnité congés payés"), None);
        assert_eq!(id("Prime Exceptionnelle"), None);
        assert_eq!(id("Salaires Mensuel"), None);
        assert_eq!(id("Jours RTT Acquis"), Some("compteur-jours-heures"));
    }

    #[test]
    fn a_rule_matches_by_exact_code() {
        let rules = RubriqueRules::from_toml_str(
            "[[rule]]\nid='x'\neffect='non_eligible'\ncodes=['2065']\ncomment='test'\n",
        )
        .unwrap();
        assert_eq!(
            rules.classify(Some("2065"), "Prime").map(|r| r.id.as_str()),
            Some("x")
        );
        assert!(rules.classify(Some("2066"), "Prime").is_none());
    }

    #[test]
    fn a_rule_without_comment_is_refused() {
        let err = RubriqueRules::from_toml_str(
            "[[rule]]\nid='x'\neffect='non_eligible'\ncodes=['1']\ncomment=''\n",
        );
        assert!(err.is_err());
    }
}
