//! What-if figures of a statement for a caller (issue 16 §2): the domain's pure computation over the
//! statement the caller sees, with the flags the caller sees.

use super::ledger::{Access, Ledger, LedgerError};
use crate::domain::statement::what_if::{what_if, WhatIf};
use crate::domain::{DomainId, Finess};
use chrono::{DateTime, Utc};

impl Ledger {
    /// The statement's what-if figures now or as of an instant: the subsidy if each objective not
    /// attained were reached, if every flagged unreviewed line (among the flags this access sees)
    /// were refused, and the eligible cost the capped ceiling still funds.
    pub async fn what_if(
        &self,
        access: &Access,
        finess: &Finess,
        domain: DomainId,
        as_of: Option<DateTime<Utc>>,
    ) -> Result<WhatIf, LedgerError> {
        let view = self.statement(access, finess, domain, as_of).await?;
        Ok(what_if(
            &view.statement,
            self.catalogue().domain(domain),
            &view.candidate,
            &view.flags,
        ))
    }
}
