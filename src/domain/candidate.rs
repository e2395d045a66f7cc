//! Candidates (SPEC.md §3): a FINESS juridique, a kind, establishments with their activity shares, a
//! ceiling and a phase start per domain. `Candidate::new` validates; the CSV/XLSX readers live in
//! `crate::import::candidates`.
//!
//! Which shares must sum to 100 % (our rule): the establishments of the "counted level", which is the
//! FINESS PMSI level of SPEC.md §3 — the EJ for a public EJ outside a GHT, a GHT and a dialysis centre,
//! the EG for a private candidate. Shares of the other level are optional (zero when unknown); when some
//! EG of a public EJ or dialysis centre carry shares (D1.O1.B is assessed per EG there), those EG shares
//! must sum to 100 % as well.
//!
//! The candidate's own FINESS juridique (our rule): for a GHT, the support establishment's FINESS; for
//! every other kind, its single EJ's.

use crate::domain::ids::{DomainId, Finess};
use crate::domain::money::{Money, Percent};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// Upper bound on establishments per candidate (TIGER_STYLE: a limit on everything).
pub const MAX_ESTABLISHMENTS_PER_CANDIDATE: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CandidateKind {
    /// Établissement public (EJ) hors GHT.
    EjPublic,
    /// Établissement de santé privé.
    EsPrive,
    /// Groupement hospitalier de territoire, with its support establishment.
    Ght,
    /// Centre de dialyse.
    CentreDialyse,
}

impl CandidateKind {
    /// Accepts the snake_case names and the French labels (`EJ public`, `ES privé`, `GHT`, `Centre de dialyse`).
    pub fn parse(text: &str) -> Option<CandidateKind> {
        let norm: String = text
            .trim()
            .to_lowercase()
            .replace('é', "e")
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect();
        match norm.as_str() {
            "ejpublic" | "ejpublichorsght" | "public" => Some(CandidateKind::EjPublic),
            "esprive" | "prive" => Some(CandidateKind::EsPrive),
            "ght" => Some(CandidateKind::Ght),
            "centredialyse" | "centrededialyse" | "dialyse" => Some(CandidateKind::CentreDialyse),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CandidateKind::EjPublic => "ej_public",
            CandidateKind::EsPrive => "es_prive",
            CandidateKind::Ght => "ght",
            CandidateKind::CentreDialyse => "centre_dialyse",
        }
    }

    pub fn label_fr(self) -> &'static str {
        match self {
            CandidateKind::EjPublic => "EJ public hors GHT",
            CandidateKind::EsPrive => "ES privé",
            CandidateKind::Ght => "GHT",
            CandidateKind::CentreDialyse => "Centre de dialyse",
        }
    }

    /// The FINESS PMSI level (SPEC.md §3, seed 003 D1.O3): EG for private candidates, EJ otherwise.
    pub fn pmsi_level(self) -> Level {
        match self {
            CandidateKind::EsPrive => Level::Eg,
            _ => Level::Ej,
        }
    }
}

impl fmt::Display for CandidateKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Entité juridique or entité géographique.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Level {
    #[serde(rename = "EJ")]
    Ej,
    #[serde(rename = "EG")]
    Eg,
}

impl Level {
    pub fn parse(text: &str) -> Option<Level> {
        match text.trim().to_ascii_uppercase().as_str() {
            "EJ" => Some(Level::Ej),
            "EG" => Some(Level::Eg),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Ej => "EJ",
            Level::Eg => "EG",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Establishment {
    pub finess: Finess,
    pub name: String,
    pub level: Level,
    /// The EJ an EG belongs to; `None` for an EJ.
    pub parent: Option<Finess>,
    /// The GHT's support establishment (établissement support).
    pub support: bool,
    /// Share of the candidate's combined activity (activité combinée).
    pub activity_share: Percent,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CandidateDomain {
    /// Montant plafond published by the ANS.
    pub ceiling: Money,
    pub phase_start: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    pub finess: Finess,
    pub name: String,
    pub kind: CandidateKind,
    pub establishments: Vec<Establishment>,
    pub domains: BTreeMap<DomainId, CandidateDomain>,
}

/// A candidate that breaks a rule of SPEC.md §3. Each variant names the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CandidateError {
    #[error("candidat {candidate} : champ {field} vide")]
    Empty {
        candidate: String,
        field: &'static str,
    },
    #[error("candidat {candidate} : aucun établissement")]
    NoEstablishment { candidate: String },
    #[error("candidat {candidate} : plus de {MAX_ESTABLISHMENTS_PER_CANDIDATE} établissements")]
    TooManyEstablishments { candidate: String },
    #[error("candidat {candidate} : établissement {establishment} en double")]
    DuplicateEstablishment {
        candidate: String,
        establishment: Finess,
    },
    #[error("candidat {candidate} : part d'activité {share} de {establishment} hors de [0, 100]")]
    ShareOutOfRange {
        candidate: String,
        establishment: Finess,
        share: Percent,
    },
    #[error("candidat {candidate} : les parts d'activité des {level} totalisent {total}, 100 % attendus")]
    SharesNotHundred {
        candidate: String,
        level: &'static str,
        total: Percent,
    },
    #[error(
        "candidat {candidate} : un GHT a exactement un établissement support (trouvé {found})"
    )]
    SupportCount { candidate: String, found: usize },
    #[error("candidat {candidate} : {establishment} marqué support alors que le candidat n'est pas un GHT")]
    SupportOutsideGht {
        candidate: String,
        establishment: Finess,
    },
    #[error("candidat {candidate} : l'établissement support {establishment} doit être une EJ")]
    SupportNotEj {
        candidate: String,
        establishment: Finess,
    },
    #[error("candidat {candidate} : {kind} doit avoir exactement une EJ (trouvé {found})")]
    EjCount {
        candidate: String,
        kind: CandidateKind,
        found: usize,
    },
    #[error(
        "candidat {candidate} : le FINESS juridique du candidat doit être celui de {expected}"
    )]
    CandidateFiness { candidate: String, expected: String },
    #[error(
        "candidat {candidate} : l'EG {establishment} n'a pas de parent EJ parmi ses établissements"
    )]
    MissingParent {
        candidate: String,
        establishment: Finess,
    },
    #[error("candidat {candidate} : l'EJ {establishment} ne peut pas avoir de parent")]
    EjWithParent {
        candidate: String,
        establishment: Finess,
    },
    #[error("candidat {candidate} : aucun domaine (plafond) renseigné")]
    NoDomain { candidate: String },
}

impl Candidate {
    /// Builds and validates a candidate.
    pub fn new(
        finess: Finess,
        name: String,
        kind: CandidateKind,
        establishments: Vec<Establishment>,
        domains: BTreeMap<DomainId, CandidateDomain>,
    ) -> Result<Candidate, CandidateError> {
        let candidate = Candidate {
            finess,
            name: name.trim().to_string(),
            kind,
            establishments,
            domains,
        };
        candidate.validate()?;
        Ok(candidate)
    }

    pub fn validate(&self) -> Result<(), CandidateError> {
        let c = || self.finess.to_string();
        if self.name.is_empty() {
            return Err(CandidateError::Empty {
                candidate: c(),
                field: "name",
            });
        }
        if self.establishments.is_empty() {
            return Err(CandidateError::NoEstablishment { candidate: c() });
        }
        if self.establishments.len() > MAX_ESTABLISHMENTS_PER_CANDIDATE {
            return Err(CandidateError::TooManyEstablishments { candidate: c() });
        }
        if self.domains.is_empty() {
            return Err(CandidateError::NoDomain { candidate: c() });
        }
        let mut seen = BTreeSet::new();
        for e in &self.establishments {
            if !seen.insert(e.finess.clone()) {
                return Err(CandidateError::DuplicateEstablishment {
                    candidate: c(),
                    establishment: e.finess.clone(),
                });
            }
            if e.name.trim().is_empty() {
                return Err(CandidateError::Empty {
                    candidate: c(),
                    field: "establishment_name",
                });
            }
            if e.activity_share < Percent::ZERO || e.activity_share > Percent::HUNDRED {
                return Err(CandidateError::ShareOutOfRange {
                    candidate: c(),
                    establishment: e.finess.clone(),
                    share: e.activity_share,
                });
            }
        }
        let ejs: Vec<&Establishment> = self
            .establishments
            .iter()
            .filter(|e| e.level == Level::Ej)
            .collect();
        for e in &self.establishments {
            match (e.level, &e.parent) {
                (Level::Ej, Some(_)) => {
                    return Err(CandidateError::EjWithParent {
                        candidate: c(),
                        establishment: e.finess.clone(),
                    })
                }
                (Level::Eg, None) => {
                    return Err(CandidateError::MissingParent {
                        candidate: c(),
                        establishment: e.finess.clone(),
                    })
                }
                (Level::Eg, Some(p)) if !ejs.iter().any(|j| &j.finess == p) => {
                    return Err(CandidateError::MissingParent {
                        candidate: c(),
                        establishment: e.finess.clone(),
                    })
                }
                _ => {}
            }
        }
        let supports: Vec<&Establishment> =
            self.establishments.iter().filter(|e| e.support).collect();
        if self.kind == CandidateKind::Ght {
            if supports.len() != 1 {
                return Err(CandidateError::SupportCount {
                    candidate: c(),
                    found: supports.len(),
                });
            }
            let support = supports[0];
            if support.level != Level::Ej {
                return Err(CandidateError::SupportNotEj {
                    candidate: c(),
                    establishment: support.finess.clone(),
                });
            }
            if support.finess != self.finess {
                return Err(CandidateError::CandidateFiness {
                    candidate: c(),
                    expected: format!("l'établissement support {}", support.finess),
                });
            }
        } else {
            if let Some(s) = supports.first() {
                return Err(CandidateError::SupportOutsideGht {
                    candidate: c(),
                    establishment: s.finess.clone(),
                });
            }
            if ejs.len() != 1 {
                return Err(CandidateError::EjCount {
                    candidate: c(),
                    kind: self.kind,
                    found: ejs.len(),
                });
            }
            if ejs[0].finess != self.finess {
                return Err(CandidateError::CandidateFiness {
                    candidate: c(),
                    expected: format!("son EJ {}", ejs[0].finess),
                });
            }
        }
        let level = self.kind.pmsi_level();
        let total: Percent = sum_shares(self.pmsi_establishments());
        if total != Percent::HUNDRED {
            return Err(CandidateError::SharesNotHundred {
                candidate: c(),
                level: level.as_str(),
                total,
            });
        }
        if level == Level::Ej {
            let egs: Vec<&Establishment> = self
                .establishments
                .iter()
                .filter(|e| e.level == Level::Eg)
                .collect();
            let eg_total = sum_shares(egs.iter().copied());
            if eg_total != Percent::ZERO && eg_total != Percent::HUNDRED {
                return Err(CandidateError::SharesNotHundred {
                    candidate: c(),
                    level: "EG",
                    total: eg_total,
                });
            }
        }
        Ok(())
    }

    /// The FINESS PMSI establishments (D1.O3, D1.O4): EJ for public candidates, GHT and dialysis centres,
    /// EG for private ones (SPEC.md §3).
    pub fn pmsi_establishments(&self) -> impl Iterator<Item = &Establishment> {
        let level = self.kind.pmsi_level();
        self.establishments.iter().filter(move |e| e.level == level)
    }

    pub fn is_ght(&self) -> bool {
        self.kind == CandidateKind::Ght
    }

    pub fn support(&self) -> Option<&Establishment> {
        self.establishments.iter().find(|e| e.support)
    }

    pub fn domain(&self, domain: DomainId) -> Option<&CandidateDomain> {
        self.domains.get(&domain)
    }

    pub fn establishment(&self, finess: &Finess) -> Option<&Establishment> {
        self.establishments.iter().find(|e| &e.finess == finess)
    }
}

fn sum_shares<'a>(items: impl Iterator<Item = &'a Establishment>) -> Percent {
    Percent::new(items.map(|e| e.activity_share.value()).sum())
}
