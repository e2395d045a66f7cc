//! Payments and recoveries of a statement (SPEC.md §8), as kept in its state. The rules that accept or
//! refuse them are in `commands.rs`; the totals feed `subsidy::compute_subsidy`.

use super::subsidy::PaymentTotals;
use crate::domain::money::Money;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Longest payment or recovery id accepted.
pub const MAX_PAYMENT_ID_LEN: usize = 64;

/// The identity of a payment order (`PAY-0001`) or of a recovery order (`REC-PAY-0001`): chosen by the
/// client or generated from the state (`next_payment_id`, `next_recovery_id`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PaymentId(String);

impl PaymentId {
    pub fn parse(text: &str) -> Option<PaymentId> {
        let t = text.trim();
        let ok = !t.is_empty()
            && t.len() <= MAX_PAYMENT_ID_LEN
            && t.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
        ok.then(|| PaymentId(t.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PaymentId {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        PaymentId::parse(&value)
            .ok_or_else(|| format!("identifiant de paiement \"{value}\" invalide"))
    }
}

impl From<PaymentId> for String {
    fn from(value: PaymentId) -> String {
        value.0
    }
}

impl fmt::Display for PaymentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    Ordered,
    Disbursed,
    Cancelled,
}

impl PaymentStatus {
    pub fn label_fr(self) -> &'static str {
        match self {
            PaymentStatus::Ordered => "ordonnancé",
            PaymentStatus::Disbursed => "versé",
            PaymentStatus::Cancelled => "annulé",
        }
    }
}

/// One payment order and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    pub id: PaymentId,
    pub amount: Money,
    pub reference: String,
    pub status: PaymentStatus,
    /// Paris date of the recorded time of the order.
    pub ordered_on: NaiveDate,
    pub bank_reference: Option<String>,
    /// The bank's value date, as given (informational).
    pub value_date: Option<NaiveDate>,
    /// Paris date of the recorded time of the confirmation.
    pub disbursed_on: Option<NaiveDate>,
    pub cancel_reason: Option<String>,
    pub cancelled_on: Option<NaiveDate>,
}

/// One amount received against a recovery order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryReceipt {
    pub amount: Money,
    pub bank_reference: String,
    pub received_on: NaiveDate,
}

/// One recovery order (ordre de reversement) for an overpayment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recovery {
    pub id: PaymentId,
    pub ordered: Money,
    pub reason: String,
    pub ordered_on: NaiveDate,
    pub receipts: Vec<RecoveryReceipt>,
}

impl Recovery {
    pub fn received(&self) -> Money {
        self.receipts.iter().map(|r| r.amount).sum()
    }

    /// Ordered and not yet received.
    pub fn outstanding(&self) -> Money {
        self.ordered - self.received()
    }
}

/// The payments and recoveries of one statement.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PaymentLedger {
    pub payments: BTreeMap<PaymentId, Payment>,
    pub recoveries: BTreeMap<PaymentId, Recovery>,
}

impl PaymentLedger {
    /// The totals of SPEC.md §8. `recovered` counts the amounts RECEIVED against recovery orders (SPEC:
    /// "recovered = recovery orders received"); what is ordered and not yet received is
    /// `recovery_outstanding` and does not change the amount due.
    pub fn totals(&self) -> PaymentTotals {
        let live = || {
            self.payments
                .values()
                .filter(|p| p.status != PaymentStatus::Cancelled)
        };
        PaymentTotals {
            committed: live().map(|p| p.amount).sum(),
            disbursed: live()
                .filter(|p| p.status == PaymentStatus::Disbursed)
                .map(|p| p.amount)
                .sum(),
            recovered: self.recoveries.values().map(Recovery::received).sum(),
            recovery_outstanding: self.recoveries.values().map(Recovery::outstanding).sum(),
        }
    }

    /// The next free `PAY-nnnn`, numbered from the count of payment orders.
    pub fn next_payment_id(&self) -> PaymentId {
        next_free("PAY", self.payments.len(), |id| {
            self.payments.contains_key(id)
        })
    }

    /// The next free `REC-PAY-nnnn`, numbered from the count of recovery orders.
    pub fn next_recovery_id(&self) -> PaymentId {
        next_free("REC-PAY", self.recoveries.len(), |id| {
            self.recoveries.contains_key(id)
        })
    }
}

fn next_free(prefix: &str, count: usize, taken: impl Fn(&PaymentId) -> bool) -> PaymentId {
    let mut n = count + 1;
    loop {
        if let Some(id) = PaymentId::parse(&format!("{prefix}-{n:04}")) {
            if !taken(&id) {
                return id;
            }
        }
        n += 1;
    }
}
