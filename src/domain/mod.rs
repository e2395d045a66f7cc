//! Programme rules: pure, no I/O (STYLE.md habit 1). Every amount is `Money`, every identifier a newtype.
pub mod attainment;
pub mod candidate;
pub mod catalogue;
pub mod full_year;
pub mod ids;
pub mod money;
pub mod personal_data;
pub mod statement;

pub use candidate::{Candidate, CandidateDomain, CandidateKind, Establishment, Level};
pub use catalogue::{Catalogue, CatalogueError, CostPart, DomainCatalogue};
pub use ids::{DomainId, Finess, IdError, Matricule, ObjectiveCode};
pub use money::{Money, MoneyError, Percent};
pub use statement::{
    decide, fold, DecisionContext, Refusal, Role, Statement, StatementCommand, StatementEvent,
};
