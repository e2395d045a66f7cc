//! Shared fixtures of the domain tests: the real catalogue files and the sample candidate base.

use care_ledger::clock::paris_noon;
use care_ledger::domain::statement::*;
use care_ledger::domain::{Candidate, DomainCatalogue, DomainId};
use care_ledger::import::read_candidates_csv;
use chrono::{DateTime, NaiveDate, Utc};

pub fn d1bis() -> DomainCatalogue {
    DomainCatalogue::from_toml_str(
        "d1bis.toml",
        include_str!("../../fixtures/domains/d1bis.toml"),
    )
    .unwrap()
}

pub fn d2() -> DomainCatalogue {
    DomainCatalogue::from_toml_str("d2.toml", include_str!("../../fixtures/domains/d2.toml"))
        .unwrap()
}

pub fn catalogue(domain: DomainId) -> DomainCatalogue {
    match domain {
        DomainId::D1bis => d1bis(),
        DomainId::D2 => d2(),
    }
}

pub fn candidates() -> Vec<Candidate> {
    read_candidates_csv(
        "candidates.csv",
        include_str!("../../fixtures/candidates.csv"),
    )
    .unwrap()
}

pub fn ght() -> Candidate {
    candidates().remove(0)
}
pub fn private() -> Candidate {
    candidates().remove(1)
}
pub fn public_ej() -> Candidate {
    candidates().remove(2)
}

pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

pub fn noon(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    paris_noon(date(y, m, d))
}

pub fn ctx<'a>(
    catalogue: &'a DomainCatalogue,
    candidate: &'a Candidate,
    role: Role,
) -> DecisionContext<'a> {
    DecisionContext {
        catalogue,
        candidate,
        effective_at: noon(2026, 10, 5),
        role,
    }
}

/// Decides and applies, panicking on a refusal.
pub fn run(
    statement: &mut Statement,
    ctx: &DecisionContext<'_>,
    command: StatementCommand,
) -> Vec<StatementEvent> {
    let events = decide(statement, ctx, command.clone())
        .unwrap_or_else(|r| panic!("{command:?} refused: {r}"));
    for e in &events {
        statement.apply(e);
    }
    events
}

pub fn opened(catalogue: &DomainCatalogue, candidate: &Candidate) -> Statement {
    let mut s = Statement::new();
    run(
        &mut s,
        &ctx(catalogue, candidate, Role::Etablissement),
        StatementCommand::OpenStatement,
    );
    s
}

/// The seed 003 employee: matricule 44A567, 55 631,25 gross, 32 935,48 charges, 1 607 h, 120 h on D1.O1.A.
pub fn seed_employee(line_id: &str) -> InternalCostInput {
    InternalCostInput {
        line_id: line_id.into(),
        matricule: "44A567".into(),
        year: "2026".into(),
        objective: "D1.O1.A".into(),
        nature: "COUTS_INTERNES".into(),
        contribution: "Pilotage des audits ADS et remédiation de l'AD".into(),
        gross_annualised: "55 631,25".into(),
        employer_charges: "32 935,48".into(),
        non_eligible_gross: "".into(),
        hours_productive: "1607".into(),
        hours_on_action: "120".into(),
    }
}

pub fn invoice(line_id: &str, supplier: &str, number: &str, amount: &str) -> ExternalCostInput {
    ExternalCostInput {
        line_id: line_id.into(),
        cost_type: "investissement".into(),
        order_date: "2026-02-10".into(),
        invoice_date: "2026-03-15".into(),
        order_number: "BC-2026-014".into(),
        invoice_number: number.into(),
        supplier: supplier.into(),
        service_label: "Audit d'exposition internet, plateforme industrielle".into(),
        amount: amount.into(),
        nature: "PRESTATION_EXTERNE".into(),
        objective: "D1.O2.A".into(),
        contribution: "Audits bimestriels de la surface exposée".into(),
    }
}

pub fn attainment(objective: &str, status: &str, coverage: &str) -> StatementCommand {
    StatementCommand::RecordAttainment(AttainmentInput {
        objective: objective.into(),
        status: status.into(),
        coverage: coverage.into(),
        reason: String::new(),
    })
}

/// Like `ctx`, at a given instant (payments are dated by it).
pub fn ctx_at<'a>(
    catalogue: &'a DomainCatalogue,
    candidate: &'a Candidate,
    role: Role,
    effective_at: DateTime<Utc>,
) -> DecisionContext<'a> {
    DecisionContext {
        effective_at,
        ..ctx(catalogue, candidate, role)
    }
}

/// A review with only the line and the decision filled.
pub fn review(line_id: &str, decision: &str) -> ReviewInput {
    ReviewInput {
        line_id: line_id.into(),
        decision: decision.into(),
        ..ReviewInput::default()
    }
}

pub fn eligible(line_id: &str) -> StatementCommand {
    StatementCommand::ReviewLine(review(line_id, "eligible"))
}

pub fn partially_eligible(line_id: &str, amount: &str) -> StatementCommand {
    StatementCommand::ReviewLine(ReviewInput {
        eligible_amount: amount.into(),
        ..review(line_id, "partially_eligible")
    })
}

pub fn ineligible(line_id: &str, reason_code: &str, comment: &str) -> StatementCommand {
    StatementCommand::ReviewLine(ReviewInput {
        reason_code: reason_code.into(),
        comment: comment.into(),
        ..review(line_id, "ineligible")
    })
}

pub fn documents_requested(line_id: &str, what: &str, due: &str) -> StatementCommand {
    StatementCommand::ReviewLine(ReviewInput {
        documents_requested: what.into(),
        documents_due: due.into(),
        ..review(line_id, "documents_requested")
    })
}

pub fn order_payment(payment_id: &str, amount: &str) -> StatementCommand {
    StatementCommand::OrderPayment {
        payment_id: payment_id.into(),
        amount: amount.into(),
        reference: "Mandat CaRE".into(),
    }
}

/// Records every objective that applies to the candidate as attained.
pub fn attain_everything(
    statement: &mut Statement,
    catalogue: &DomainCatalogue,
    candidate: &Candidate,
) {
    let ctrl = ctx(catalogue, candidate, Role::Controleur);
    for o in &catalogue.objectives {
        if o.ght_only && !candidate.is_ght() {
            continue;
        }
        run(
            statement,
            &ctrl,
            attainment(o.code.as_str(), "attained", ""),
        );
    }
}
