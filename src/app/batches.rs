//! Payment batches (lots de paiement): the payment desk orders every payment due in a domain at once,
//! and the batch is recorded so it can be rewritten later from the ledger, ordering nothing.
//!
//! Stream `payment-batches/{DOMAIN}`: one `PaymentBatchIssued` per batch, listing the orders it made.
//! A batch is one transaction: every order (each decided on its statement's state inside it) and the
//! batch record commit together or not at all. Running a batch twice orders nothing twice: a statement
//! whose due is zero has nothing to order, and each order carries the idempotency key `{batch}/{FINESS}`.

use super::ledger::{Access, Ledger, LedgerError, RequestMeta};
use super::repository::{Aggregate, EventInfo, Repository};
use crate::actor::Role;
use crate::clock::paris_date;
use crate::domain::statement::{
    self, compute_subsidy, DecisionContext, Statement, StatementCommand, StatementEvent,
};
use crate::domain::{Candidate, Catalogue, DomainId, Finess, Money};
use crate::store::{EventMetadata, ReadBound, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub const BATCH_STREAM_PREFIX: &str = "payment-batches/";

pub fn batch_stream(domain: DomainId) -> String {
    format!("{BATCH_STREAM_PREFIX}{domain}")
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchLine {
    pub finess: Finess,
    pub candidate_name: String,
    pub domain: DomainId,
    pub amount: Money,
    pub reference: String,
    pub payment_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentBatch {
    pub batch_id: String,
    pub domain: DomainId,
    pub issued_on: NaiveDate,
    pub lines: Vec<BatchLine>,
    /// Statements skipped and why (provisional subsidy, outside the window, …).
    pub skipped: Vec<(Finess, String)>,
}

impl PaymentBatch {
    pub fn total(&self) -> Money {
        self.lines.iter().map(|l| l.amount).sum()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum BatchEvent {
    PaymentBatchIssued {
        schema_version: u16,
        batch: PaymentBatch,
    },
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchHistory {
    pub batches: Vec<(PaymentBatch, DateTime<Utc>)>,
}

impl Aggregate for BatchHistory {
    type Event = BatchEvent;
    fn apply(&mut self, event: &BatchEvent, info: &EventInfo) {
        let BatchEvent::PaymentBatchIssued { batch, .. } = event;
        self.batches.push((batch.clone(), info.recorded_at));
    }
    fn event_type(_: &BatchEvent) -> (&'static str, i32) {
        ("PaymentBatchIssued", 1)
    }
}

/// What issuing a batch did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchIssue {
    pub batch: PaymentBatch,
    /// True when the request's idempotency key had already issued this batch: nothing ordered now.
    pub replayed: bool,
}

impl BatchIssue {
    /// Whether a batch is in the ledger (false when nothing was due: nothing ordered, nothing recorded).
    pub fn recorded(&self) -> bool {
        !self.batch.lines.is_empty()
    }
}

/// Only the payment desk issues batches.
pub(crate) fn may_issue(access: &Access) -> Result<(), LedgerError> {
    match access.actor.role {
        Role::Paiement => Ok(()),
        role => Err(LedgerError::Forbidden {
            role,
            action: "émettre un lot de paiement",
        }),
    }
}

/// The payment desk and controllers read past batches (an auditor checks what was paid against the
/// statements); not establishments (other candidates' payments) nor administrators (who manage
/// tokens and the candidate base, not money).
pub(crate) fn may_read_batches(access: &Access) -> Result<(), LedgerError> {
    match access.actor.role {
        Role::Paiement | Role::Controleur => Ok(()),
        role => Err(LedgerError::Forbidden {
            role,
            action: "consulter les lots de paiement",
        }),
    }
}

impl Ledger {
    /// Orders every payment due in a domain (payment desk) and records the batch.
    pub async fn issue_payment_batch(
        &self,
        access: &Access,
        domain: DomainId,
        request: &RequestMeta,
    ) -> Result<PaymentBatch, LedgerError> {
        Ok(self
            .issue_payment_batch_once(access, domain, request)
            .await?
            .batch)
    }

    /// As [`Ledger::issue_payment_batch`], honouring the request's idempotency key for the batch as a
    /// whole: a key that already issued a batch of this domain for this actor returns that batch
    /// (`replayed`), ordering nothing; a key used for anything else is a conflict, found before any
    /// payment is ordered.
    pub async fn issue_payment_batch_once(
        &self,
        access: &Access,
        domain: DomainId,
        request: &RequestMeta,
    ) -> Result<BatchIssue, LedgerError> {
        may_issue(access)?;
        let _one_at_a_time = self.batch_lock.lock().await;
        let stream = batch_stream(domain);
        if let Some(key) = &request.idempotency_key {
            if let Some(batch) = self.batch_of_key(&stream, key, access).await? {
                return Ok(BatchIssue {
                    batch,
                    replayed: true,
                });
            }
        }
        let (version, history) = self.batches.load(&stream).await?;
        // The date the orders will be recorded at (never before the last recorded event).
        let effective_at = self.effective_now().await?;
        let today = paris_date(effective_at);
        let batch_id = format!(
            "LOT-{}-{}-{:03}",
            domain,
            today.format("%Y%m%d"),
            history.batches.len() + 1
        );
        let mut targets = Vec::new();
        for (finess, d) in self.statements(access).await? {
            if d == domain {
                targets.push(self.candidate(access, &finess).await?);
            }
        }
        let job = BatchJob {
            batch_id,
            domain,
            today,
            stream,
            expected_version: version,
            targets,
            catalogue: self.catalogue_arc(),
            statements: self.statements.clone(),
            batches: self.batches.clone(),
            effective_at,
            role: access.actor.role,
            metadata: request.metadata_for(&access.actor),
        };
        // Every order and the batch record in one transaction: a batch is all there or not at all.
        let batch = self
            .store()
            .write(move |tx: &mut crate::store::WriteTx| Box::pin(job.run(tx)))
            .await?;
        Ok(BatchIssue {
            batch,
            replayed: false,
        })
    }

    /// The batch an idempotency key issued on `stream` for this actor; `None` when the key is unused;
    /// a conflict when it served another request (another stream or another actor).
    async fn batch_of_key(
        &self,
        stream: &str,
        key: &str,
        access: &Access,
    ) -> Result<Option<PaymentBatch>, LedgerError> {
        let mut tx = self.store().begin_write().await?;
        let scope = crate::store::IdempotencyScope::of(stream, access.actor.role);
        let found = tx.find_idempotency_key(&scope, key).await;
        tx.rollback().await?;
        let Some((first, _)) = found? else {
            return Ok(None);
        };
        let conflict = || {
            LedgerError::Store(StoreError::IdempotencyConflict {
                key: key.to_string(),
            })
        };
        if first.stream_id != stream {
            return Err(conflict());
        }
        let event = self
            .store()
            .read_stream(stream, ReadBound::up_to_version(first.first_version))
            .await?
            .pop()
            .ok_or_else(conflict)?;
        if event.actor != access.actor.id || event.role != access.actor.role.as_str() {
            return Err(conflict());
        }
        let BatchEvent::PaymentBatchIssued { batch, .. } = serde_json::from_str(&event.payload)
            .map_err(|e| StoreError::Corrupt {
                position: event.position,
                reason: e.to_string(),
            })?;
        Ok(Some(batch))
    }

    /// One batch by its id, in whichever domain it was issued, as recorded up to an instant (all when
    /// `None`): what a reprint writes. Not found (or issued after `as_of`): `NotFound`.
    pub async fn payment_batch(
        &self,
        access: &Access,
        batch_id: &str,
        as_of: Option<DateTime<Utc>>,
    ) -> Result<PaymentBatch, LedgerError> {
        for domain in DomainId::ALL {
            let found = self
                .payment_batches(access, domain, as_of)
                .await?
                .into_iter()
                .find(|b| b.batch_id == batch_id);
            if let Some(batch) = found {
                return Ok(batch);
            }
        }
        Err(LedgerError::NotFound(format!("lot de paiement {batch_id}")))
    }

    /// The batches of a domain issued up to an instant (all when `None`), from the ledger (who may:
    /// [`may_read_batches`]).
    pub async fn payment_batches(
        &self,
        access: &Access,
        domain: DomainId,
        as_of: Option<DateTime<Utc>>,
    ) -> Result<Vec<PaymentBatch>, LedgerError> {
        may_read_batches(access)?;
        let (_, history) = self.batches.load(&batch_stream(domain)).await?;
        Ok(history
            .batches
            .into_iter()
            .filter(|(_, at)| as_of.is_none_or(|t| *at <= t))
            .map(|(b, _)| b)
            .collect())
    }
}

/// A batch to issue: what the write job needs, owned (it runs on the store's writer).
struct BatchJob {
    batch_id: String,
    domain: DomainId,
    today: NaiveDate,
    stream: String,
    expected_version: i64,
    targets: Vec<Candidate>,
    catalogue: Arc<Catalogue>,
    statements: Repository<Statement>,
    batches: Repository<BatchHistory>,
    effective_at: DateTime<Utc>,
    role: Role,
    metadata: EventMetadata,
}

/// What deciding one statement's order gave: the order made, or why none.
enum OrderOutcome {
    Ordered { amount: Money, payment_id: String },
    Skipped(String),
    NothingDue,
}

impl BatchJob {
    /// Orders each statement's due (decided on its state in this transaction) with the idempotency
    /// key `{batch}/{FINESS}`, then records the batch if it ordered anything.
    async fn run(self, tx: &mut crate::store::WriteTx) -> Result<PaymentBatch, LedgerError> {
        let mut batch = PaymentBatch {
            batch_id: self.batch_id.clone(),
            domain: self.domain,
            issued_on: self.today,
            lines: Vec::new(),
            skipped: Vec::new(),
        };
        let catalogue = self.catalogue.domain(self.domain);
        for candidate in &self.targets {
            let finess = candidate.finess.clone();
            let stream = super::ledger::statement_stream(&finess, self.domain);
            let reference = format!("{}/{finess}", self.batch_id);
            let mut metadata = self.metadata.clone();
            metadata.idempotency_key = Some(reference.clone());
            let outcome = Arc::new(std::sync::Mutex::new(OrderOutcome::NothingDue));
            let seen = outcome.clone();
            let ctx = DecisionContext {
                catalogue,
                candidate,
                effective_at: self.effective_at,
                role: self.role,
            };
            let reference_in = reference.clone();
            self.statements
                .decide_in(
                    tx,
                    &stream,
                    None,
                    &metadata,
                    &reference,
                    move |state: &Statement, _| {
                        let record = |o: OrderOutcome| {
                            if let Ok(mut slot) = seen.lock() {
                                *slot = o;
                            }
                        };
                        let due = match compute_subsidy(state, ctx.catalogue, ctx.candidate) {
                            Ok(report) => report.due,
                            Err(reason) => {
                                record(OrderOutcome::Skipped(reason.to_string()));
                                return Ok(Vec::new());
                            }
                        };
                        if due.is_zero() || due.is_negative() {
                            return Ok::<_, std::convert::Infallible>(Vec::new());
                        }
                        let mut command = StatementCommand::OrderPayment {
                            payment_id: String::new(),
                            amount: due.to_plain_string(),
                            reference: reference_in,
                        };
                        statement::assign_line_id(&mut command, state);
                        match statement::decide(state, &ctx, command) {
                            Ok(events) => {
                                let payment_id = events
                                    .iter()
                                    .find_map(|e| match e {
                                        StatementEvent::PaymentOrdered { payment_id, .. } => {
                                            Some(payment_id.as_str().to_string())
                                        }
                                        _ => None,
                                    })
                                    .unwrap_or_default();
                                record(OrderOutcome::Ordered {
                                    amount: due,
                                    payment_id,
                                });
                                Ok(events)
                            }
                            Err(refusal) => {
                                record(OrderOutcome::Skipped(refusal.to_string()));
                                Ok(Vec::new())
                            }
                        }
                    },
                )
                .await
                .map_err(LedgerError::from)?;
            let outcome = outcome
                .lock()
                .map(|mut o| std::mem::replace(&mut *o, OrderOutcome::NothingDue))
                .unwrap_or(OrderOutcome::NothingDue);
            match outcome {
                OrderOutcome::Ordered { amount, payment_id } => batch.lines.push(BatchLine {
                    finess,
                    candidate_name: candidate.name.clone(),
                    domain: self.domain,
                    amount,
                    reference,
                    payment_id,
                }),
                OrderOutcome::Skipped(reason) => batch.skipped.push((finess, reason)),
                OrderOutcome::NothingDue => {}
            }
        }
        if !batch.lines.is_empty() {
            let event = BatchEvent::PaymentBatchIssued {
                schema_version: 1,
                batch: batch.clone(),
            };
            self.batches
                .decide_in(
                    tx,
                    &self.stream,
                    Some(self.expected_version),
                    &self.metadata,
                    &self.batch_id,
                    move |_: &BatchHistory, _| Ok::<_, std::convert::Infallible>(vec![event]),
                )
                .await
                .map_err(LedgerError::from)?;
        }
        Ok(batch)
    }
}

/// A CSV cell from user text, never read as a formula by a spreadsheet: a leading `=`, `+`, `-`, `@`,
/// tab or carriage return is neutralised with an apostrophe (OWASP CSV injection guidance).
pub fn csv_safe(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_string(),
    }
}

/// The batch as CSV (`;`, UTF-8 with BOM so Excel reads the accents).
pub fn batch_csv(batch: &PaymentBatch) -> Vec<u8> {
    let mut out = String::from("\u{feff}");
    out.push_str("lot;finess;candidat;domaine;montant;reference;paiement\n");
    for line in &batch.lines {
        let cells = [
            csv_safe(&batch.batch_id),
            line.finess.to_string(),
            csv_safe(&line.candidate_name),
            line.domain.to_string(),
            line.amount.to_plain_string().replace('.', ","),
            csv_safe(&line.reference),
            csv_safe(&line.payment_id),
        ];
        let quoted: Vec<String> = cells
            .iter()
            .map(|c| {
                if c.contains([';', '"', '\n']) {
                    format!("\"{}\"", c.replace('"', "\"\""))
                } else {
                    c.clone()
                }
            })
            .collect();
        out.push_str(&quoted.join(";"));
        out.push('\n');
    }
    out.into_bytes()
}

/// The batch as a formatted workbook: user text written as text, amounts in euros, a live total.
pub fn batch_xlsx(batch: &PaymentBatch) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, FormatBorder, Formula, Workbook};
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("Lot de paiement")?;
    let title = Format::new().set_bold().set_font_size(13);
    let header = Format::new()
        .set_bold()
        .set_background_color("#1F4E78")
        .set_font_color("#FFFFFF")
        .set_border(FormatBorder::Thin);
    let euro = Format::new().set_num_format("#,##0.00 €");
    let total_fmt = Format::new().set_bold().set_num_format("#,##0.00 €");
    sheet.write_string_with_format(
        0,
        0,
        format!(
            "Lot de paiement {} — {} — émis le {}",
            batch.batch_id,
            batch.domain.label_fr(),
            batch.issued_on.format("%d/%m/%Y")
        ),
        &title,
    )?;
    let headers = [
        "FINESS",
        "Candidat",
        "Domaine",
        "Montant (€)",
        "Référence",
        "Paiement",
    ];
    for (c, h) in headers.iter().enumerate() {
        sheet.write_string_with_format(2, c as u16, *h, &header)?;
    }
    let mut row = 3u32;
    for line in &batch.lines {
        sheet.write_string(row, 0, line.finess.as_str())?;
        sheet.write_string(row, 1, &line.candidate_name)?;
        sheet.write_string(row, 2, line.domain.as_str())?;
        sheet.write_number_with_format(row, 3, line.amount.to_cell_f64(), &euro)?;
        sheet.write_string(row, 4, &line.reference)?;
        sheet.write_string(row, 5, &line.payment_id)?;
        row += 1;
    }
    sheet.write_string_with_format(row, 2, "Total", &total_fmt)?;
    let formula =
        Formula::new(format!("=SUM(D4:D{row})")).set_result(batch.total().to_plain_string());
    sheet.write_formula_with_format(row, 3, formula, &total_fmt)?;
    sheet.set_column_width(0, 12)?;
    sheet.set_column_width(1, 45)?;
    sheet.set_column_width(3, 16)?;
    sheet.set_column_width(4, 36)?;
    sheet.set_column_width(5, 12)?;
    sheet.set_freeze_panes(3, 0)?;
    sheet.set_landscape();
    sheet.set_print_fit_to_pages(1, 0);
    workbook.save_to_buffer()
}
