//! Payment batches (lots de paiement): the payment desk orders every payment due in a domain at once,
//! and the batch is recorded so it can be rewritten later from the ledger, ordering nothing.
//!
//! Stream `payment-batches/{DOMAIN}`: one `PaymentBatchIssued` per batch, listing the orders it made.
//! Running a batch twice orders nothing twice: a statement whose due is zero has nothing to order, and
//! each order carries the idempotency key `{batch}/{FINESS}`.

use super::ledger::{Access, Ledger, LedgerError, RequestMeta};
use super::repository::{Aggregate, EventInfo};
use crate::actor::Role;
use crate::clock::paris_date;
use crate::domain::statement::StatementCommand;
use crate::domain::{DomainId, Finess, Money};
use crate::store::{ReadBound, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

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
        let today = paris_date(self.store().clock().now());
        let batch_id = format!(
            "LOT-{}-{}-{:03}",
            domain,
            today.format("%Y%m%d"),
            history.batches.len() + 1
        );
        let mut batch = PaymentBatch {
            batch_id: batch_id.clone(),
            domain,
            issued_on: today,
            lines: Vec::new(),
            skipped: Vec::new(),
        };
        for (finess, d) in self.statements(access).await? {
            if d != domain {
                continue;
            }
            let view = self.statement(access, &finess, domain, None).await?;
            let due = match &view.subsidy {
                Ok(s) => s.due,
                Err(reason) => {
                    batch.skipped.push((finess.clone(), reason.clone()));
                    continue;
                }
            };
            if due.is_zero() || due.is_negative() {
                continue;
            }
            let reference = format!("{batch_id}/{finess}");
            let mut order_request = request.clone();
            order_request.idempotency_key = Some(reference.clone());
            order_request.expected_version = None;
            let command = StatementCommand::OrderPayment {
                payment_id: String::new(),
                amount: due.to_plain_string(),
                reference: reference.clone(),
            };
            match self
                .execute(access, &finess, domain, command, &order_request)
                .await
            {
                Ok((_, state)) => {
                    let payment_id = state
                        .payments
                        .payments
                        .values()
                        .rfind(|p| p.reference == reference)
                        .map(|p| p.id.as_str().to_string())
                        .unwrap_or_default();
                    batch.lines.push(BatchLine {
                        finess: finess.clone(),
                        candidate_name: view.candidate.name.clone(),
                        domain,
                        amount: due,
                        reference,
                        payment_id,
                    });
                }
                Err(LedgerError::Refused(refusal)) => {
                    batch.skipped.push((finess.clone(), refusal.to_string()));
                }
                Err(other) => return Err(other),
            }
        }
        if !batch.lines.is_empty() {
            let event = BatchEvent::PaymentBatchIssued {
                schema_version: 1,
                batch: batch.clone(),
            };
            self.batches
                .execute(
                    &stream,
                    Some(version),
                    &request.metadata_for(&access.actor),
                    &batch_id,
                    move |_: &BatchHistory, _| Ok::<_, std::convert::Infallible>(vec![event]),
                )
                .await?;
        }
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
        let found = tx.find_idempotency_key(key).await;
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
