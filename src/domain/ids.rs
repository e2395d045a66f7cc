//! Identifiers built by parse functions that return typed errors (STYLE.md habit 2).

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("FINESS \"{0}\" : 9 caractères attendus")]
    FinessLength(String),
    #[error("FINESS \"{0}\" : caractère non autorisé")]
    FinessCharacters(String),
    #[error("FINESS \"{value}\" : clé de contrôle invalide (attendue {expected})")]
    FinessCheckDigit { value: String, expected: char },
    #[error("code objectif \"{0}\" illisible (attendu par exemple D1.O1.A)")]
    ObjectiveCode(String),
    #[error("matricule \"{0}\" invalide (1 à 32 caractères, lettres, chiffres, - _ . /)")]
    Matricule(String),
    #[error("domaine \"{0}\" inconnu (attendu D1bis ou D2)")]
    Domain(String),
}

/// A FINESS number (juridique or géographique): 9 characters, the last a Luhn check digit over the
/// first eight. Corsican numbers start with 2A or 2B; for the check digit they count as 20 (our rule,
/// documented in README).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Finess(String);

impl Finess {
    pub fn parse(text: &str) -> Result<Finess, IdError> {
        let value: String = text.trim().to_ascii_uppercase();
        if value.chars().count() != 9 {
            return Err(IdError::FinessLength(text.trim().to_string()));
        }
        // Nine ASCII characters before any position is read (`aé1234567` has nine characters but
        // ten bytes: no byte slicing on input).
        let Ok(bytes) = <[u8; 9]>::try_from(value.as_bytes()) else {
            return Err(IdError::FinessCharacters(text.trim().to_string()));
        };
        let corsica = bytes[0] == b'2' && matches!(bytes[1], b'A' | b'B');
        let mut digits_part = [0u8; 8];
        digits_part.copy_from_slice(&bytes[..8]);
        if corsica {
            digits_part[1] = b'0';
        }
        if !digits_part.iter().all(u8::is_ascii_digit) || !bytes[8].is_ascii_digit() {
            return Err(IdError::FinessCharacters(text.trim().to_string()));
        }
        let digits_part: String = digits_part.iter().map(|b| char::from(*b)).collect();
        let expected = luhn_check_digit(&digits_part);
        if char::from(bytes[8]) != expected {
            return Err(IdError::FinessCheckDigit { value, expected });
        }
        Ok(Finess(value))
    }

    /// Completes eight characters with their check digit (fixtures and tests build valid numbers so).
    pub fn with_check_digit(first_eight: &str) -> Result<Finess, IdError> {
        let corsica = first_eight
            .strip_prefix("2A")
            .or_else(|| first_eight.strip_prefix("2B"));
        let digits_part = if let Some(rest) = corsica {
            format!("20{rest}")
        } else {
            first_eight.to_string()
        };
        if digits_part.len() != 8 || !digits_part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(IdError::FinessCharacters(first_eight.to_string()));
        }
        Finess::parse(&format!("{first_eight}{}", luhn_check_digit(&digits_part)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Luhn check digit of a string of ASCII digits.
pub fn luhn_check_digit(digits: &str) -> char {
    let mut sum = 0u32;
    for (i, b) in digits.bytes().rev().enumerate() {
        let mut d = u32::from(b - b'0');
        if i % 2 == 0 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    char::from_digit((10 - sum % 10) % 10, 10).unwrap_or('0')
}

impl TryFrom<String> for Finess {
    type Error = IdError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Finess::parse(&value)
    }
}

impl From<Finess> for String {
    fn from(value: Finess) -> String {
        value.0
    }
}

impl fmt::Display for Finess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A funding domain of the programme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum DomainId {
    #[serde(rename = "D1bis")]
    D1bis,
    #[serde(rename = "D2")]
    D2,
}

impl DomainId {
    pub const ALL: [DomainId; 2] = [DomainId::D1bis, DomainId::D2];

    pub fn parse(text: &str) -> Result<DomainId, IdError> {
        match text
            .trim()
            .to_ascii_lowercase()
            .replace([' ', '_', '-', '.'], "")
            .as_str()
        {
            "d1bis" => Ok(DomainId::D1bis),
            "d2" => Ok(DomainId::D2),
            _ => Err(IdError::Domain(text.trim().to_string())),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DomainId::D1bis => "D1bis",
            DomainId::D2 => "D2",
        }
    }

    /// The prefix of this domain's objective codes (`D1` for D1 bis, `D2`).
    pub fn objective_prefix(self) -> &'static str {
        match self {
            DomainId::D1bis => "D1",
            DomainId::D2 => "D2",
        }
    }

    /// French label as users read it.
    pub fn label_fr(self) -> &'static str {
        match self {
            DomainId::D1bis => "Domaine 1 bis",
            DomainId::D2 => "Domaine 2",
        }
    }
}

impl fmt::Display for DomainId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An objective or sub-objective code, always in the letter-O form: `D1.O1.A`, `D1.O3`, `D2.O3.B`.
/// Input accepts the digit-zero spelling of the seeds (`D2.01.A`, `D1.01`) and any case.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ObjectiveCode(String);

impl ObjectiveCode {
    pub fn parse(text: &str) -> Result<ObjectiveCode, IdError> {
        let err = || IdError::ObjectiveCode(text.trim().to_string());
        let upper = text.trim().to_ascii_uppercase();
        let parts: Vec<&str> = upper.split('.').collect();
        if !(2..=3).contains(&parts.len()) {
            return Err(err());
        }
        let domain = parts[0];
        if domain.len() < 2
            || !domain.starts_with('D')
            || !domain[1..].bytes().all(|b| b.is_ascii_digit())
        {
            return Err(err());
        }
        let objective = parts[1];
        let number = objective
            .strip_prefix('O')
            .or_else(|| objective.strip_prefix('0'))
            .ok_or_else(err)?;
        if number.is_empty() || number.len() > 2 || !number.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err());
        }
        let number: u32 = number.parse().map_err(|_| err())?;
        if number == 0 {
            return Err(err());
        }
        let mut code = format!("{domain}.O{number}");
        if let Some(sub) = parts.get(2) {
            if sub.len() != 1 || !sub.bytes().all(|b| b.is_ascii_uppercase()) {
                return Err(err());
            }
            code.push('.');
            code.push_str(sub);
        }
        Ok(ObjectiveCode(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The objective group: `D1.O1` for `D1.O1.A`, itself for `D1.O3`.
    pub fn group(&self) -> ObjectiveCode {
        let parts: Vec<&str> = self.0.split('.').collect();
        ObjectiveCode(format!("{}.{}", parts[0], parts[1]))
    }

    pub fn is_group(&self) -> bool {
        self.0.matches('.').count() == 1
    }

    /// The seed's receipts-table spelling of a group, with a digit zero: `D1.01` (SPEC.md §9).
    pub fn receipts_table_label(&self) -> String {
        let group = self.group();
        let parts: Vec<&str> = group.0.split('.').collect();
        format!("{}.0{}", parts[0], &parts[1][1..])
    }
}

impl TryFrom<String> for ObjectiveCode {
    type Error = IdError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        ObjectiveCode::parse(&value)
    }
}

impl From<ObjectiveCode> for String {
    fn from(value: ObjectiveCode) -> String {
        value.0
    }
}

impl fmt::Display for ObjectiveCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An employee's matricule as written on the template and the payroll recap (possibly a pseudonym).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Matricule(String);

impl Matricule {
    pub const MAX_LEN: usize = 32;

    pub fn parse(text: &str) -> Result<Matricule, IdError> {
        let value = text.trim();
        let ok = !value.is_empty()
            && value.chars().count() <= Self::MAX_LEN
            && value
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'));
        if ok {
            Ok(Matricule(value.to_string()))
        } else {
            Err(IdError::Matricule(value.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Matricule {
    type Error = IdError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Matricule::parse(&value)
    }
}

impl From<Matricule> for String {
    fn from(value: Matricule) -> String {
        value.0
    }
}

impl fmt::Display for Matricule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finess_check_digit_is_luhn_over_first_eight() {
        // 75000001 → Luhn digit 7 (AP-HP FINESS juridique 750712184 also checks).
        assert!(Finess::parse("750712184").is_ok());
        let built = Finess::with_check_digit("13000001").unwrap();
        assert_eq!(built.as_str().len(), 9);
        assert!(Finess::parse(built.as_str()).is_ok());
    }

    #[test]
    fn finess_with_wrong_check_digit_is_refused() {
        assert!(matches!(
            Finess::parse("750712185"),
            Err(IdError::FinessCheckDigit { expected: '4', .. })
        ));
        assert!(matches!(
            Finess::parse("75071218"),
            Err(IdError::FinessLength(_))
        ));
        assert!(matches!(
            Finess::parse("75071218X"),
            Err(IdError::FinessCharacters(_))
        ));
    }

    #[test]
    fn corsican_finess_counts_2a_as_20() {
        let f = Finess::with_check_digit("2A000001").unwrap();
        assert!(f.as_str().starts_with("2A"));
    }

    #[test]
    fn objective_codes_accept_digit_zero_and_write_letter_o() {
        assert_eq!(ObjectiveCode::parse("D2.01.A").unwrap().as_str(), "D2.O1.A");
        assert_eq!(ObjectiveCode::parse("d1.o1.b").unwrap().as_str(), "D1.O1.B");
        assert_eq!(ObjectiveCode::parse("D1.01").unwrap().as_str(), "D1.O1");
        assert_eq!(ObjectiveCode::parse("D1.O3").unwrap().as_str(), "D1.O3");
        assert!(ObjectiveCode::parse("D1").is_err());
        assert!(ObjectiveCode::parse("D1.X1").is_err());
        assert!(ObjectiveCode::parse("D1.O1.AB").is_err());
    }

    #[test]
    fn objective_group_and_receipts_label() {
        let code = ObjectiveCode::parse("D1.O6.B").unwrap();
        assert_eq!(code.group().as_str(), "D1.O6");
        assert_eq!(code.receipts_table_label(), "D1.06");
        assert!(code.group().is_group());
    }

    #[test]
    fn matricule_from_seed_recap() {
        assert_eq!(Matricule::parse(" 44A567 ").unwrap().as_str(), "44A567");
        assert!(Matricule::parse("").is_err());
        assert!(Matricule::parse("=cmd").is_err());
    }
}
