//! The ledger's read models, fed by one follower of the global order, and what current reads compute
//! from them (SPEC.md §4: "current reads come from read models kept up to date from the events").
//!
//! - One path updates every read model of the ledger (catalogue, candidate base, statements, payroll
//!   books, payment batches): [`ReadModels::catch_up`] reads the global order after the last position
//!   applied (`read_all_page`) and applies each event to its stream's state with the same decode and
//!   fold as a rebuild ([`Repository::apply_recorded`]). Positions are assigned under the store's
//!   write lock and an event becomes visible only after every event before it, so reading "after
//!   position p" never skips an event that commits late.
//! - Freshness. The store counts its local commits ([`EventStore::commit_count`]). A current read
//!   first compares that count with the one the read models last caught up to; when a write
//!   acknowledged in this process is not applied yet it catches up before answering (read-your-writes,
//!   across every `Ledger` on the same store), and otherwise touches no database at all. Writes by
//!   another process are applied by the follower task ([`ReadModels::spawn_follower`], started by
//!   `serve`), woken by every local commit and polling every [`FOLLOW_POLL_INTERVAL`]: such a write is
//!   readable at most that long (plus the time to apply it) after its commit.
//! - Derived models, recomputed lazily by the read that needs them: the computed statement view
//!   (subsidy, flags, and its JSON per audience) keyed by the versions of everything it was computed
//!   from, and the active external invoices of every statement by normalised (supplier, number) key
//!   for the cross-candidate duplicate flag.
//! - As-of reads do not use any of this: they replay the stream up to the instant asked.

use super::batches::{BatchHistory, BATCH_STREAM_PREFIX};
use super::ledger::{
    CandidateBase, CatalogueHistory, StatementView, CANDIDATES_STREAM, CATALOGUE_STREAM,
    STATEMENT_STREAM_PREFIX,
};
use super::payroll_service::{PayrollBook, PAYROLL_STREAM_PREFIX};
use super::repository::{Aggregate, Applied, Observer, Repository};
use crate::actor::Role;
use crate::domain::statement::flags::{
    establishment_view, normalise_invoice_number, normalise_supplier,
};
use crate::domain::statement::{ForeignInvoice, LineContent, Statement};
use crate::domain::Finess;
use crate::store::{EventStore, RecordedEvent, StoreError};
use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Duration;
use tokio::task::JoinHandle;

/// How often the follower looks for events written by another process.
pub const FOLLOW_POLL_INTERVAL: Duration = Duration::from_millis(100);
/// Events read per page when catching up.
pub const FOLLOW_PAGE_EVENTS: i64 = 1_000;

/// The (supplier, invoice number) key two invoices are compared on, both normalised.
type InvoiceKey = (String, String);

fn invoice_keys_of(statement: &Statement) -> BTreeSet<InvoiceKey> {
    statement
        .active_lines()
        .filter_map(|line| match &line.content {
            LineContent::External(invoice) => Some((
                normalise_supplier(&invoice.supplier),
                normalise_invoice_number(&invoice.invoice_number),
            )),
            _ => None,
        })
        .collect()
}

/// One statement's active external invoices in line order.
#[derive(Debug, Clone, Default, PartialEq)]
struct StreamInvoices {
    candidate: Option<Finess>,
    invoices: Vec<(InvoiceKey, ForeignInvoice)>,
}

impl StreamInvoices {
    fn of(statement: &Statement) -> StreamInvoices {
        let Some(candidate) = &statement.candidate else {
            return StreamInvoices::default();
        };
        let invoices = statement
            .active_lines()
            .filter_map(|line| match &line.content {
                LineContent::External(invoice) => Some((
                    (
                        normalise_supplier(&invoice.supplier),
                        normalise_invoice_number(&invoice.invoice_number),
                    ),
                    ForeignInvoice {
                        candidate: candidate.clone(),
                        line_id: line.id.clone(),
                        supplier: invoice.supplier.clone(),
                        invoice_number: invoice.invoice_number.clone(),
                    },
                )),
                _ => None,
            })
            .collect();
        StreamInvoices {
            candidate: Some(candidate.clone()),
            invoices,
        }
    }
}

/// Every statement's invoices by key, and per statement a generation that changes whenever another
/// statement's invoices sharing one of its keys change (so its duplicate flags must be recomputed).
#[derive(Default)]
struct InvoiceIndex {
    streams: HashMap<String, StreamInvoices>,
    by_key: HashMap<InvoiceKey, BTreeSet<String>>,
    generation: HashMap<String, u64>,
}

impl InvoiceIndex {
    fn replace(&mut self, stream: &str, new: StreamInvoices) {
        let old = self.streams.remove(stream).unwrap_or_default();
        if old == new {
            self.streams.insert(stream.to_string(), new);
            return;
        }
        // The keys whose invoices changed (added, removed or edited); a pure reordering changes
        // the order of the other statements' flags: every key then.
        let mut affected: BTreeSet<&InvoiceKey> = BTreeSet::new();
        for (key, invoice) in &old.invoices {
            if !new.invoices.iter().any(|(k, i)| k == key && i == invoice) {
                affected.insert(key);
            }
        }
        for (key, invoice) in &new.invoices {
            if !old.invoices.iter().any(|(k, i)| k == key && i == invoice) {
                affected.insert(key);
            }
        }
        if affected.is_empty() {
            affected.extend(old.invoices.iter().map(|(k, _)| k));
            affected.extend(new.invoices.iter().map(|(k, _)| k));
        }
        for key in affected {
            if let Some(streams) = self.by_key.get(key) {
                for other in streams.iter().filter(|s| s.as_str() != stream) {
                    *self.generation.entry(other.clone()).or_default() += 1;
                }
            }
        }
        for (key, _) in &old.invoices {
            if let Some(streams) = self.by_key.get_mut(key) {
                streams.remove(stream);
                if streams.is_empty() {
                    self.by_key.remove(key);
                }
            }
        }
        for (key, _) in &new.invoices {
            self.by_key
                .entry(key.clone())
                .or_default()
                .insert(stream.to_string());
        }
        self.streams.insert(stream.to_string(), new);
    }

    /// The invoices of other candidates' statements with one of `keys`, in the order the flags
    /// expect them (statement stream id, then line order): the same list, filtered to the keys that
    /// can match, as every other candidate's invoices.
    fn foreign(
        &self,
        own_stream: &str,
        candidate: &Finess,
        keys: &BTreeSet<InvoiceKey>,
    ) -> Vec<ForeignInvoice> {
        let streams: BTreeSet<&String> = keys
            .iter()
            .filter_map(|key| self.by_key.get(key))
            .flatten()
            .filter(|s| s.as_str() != own_stream)
            .collect();
        let mut out = Vec::new();
        for stream in streams {
            let Some(other) = self.streams.get(stream) else {
                continue;
            };
            if other.candidate.as_ref() == Some(candidate) {
                continue;
            }
            out.extend(
                other
                    .invoices
                    .iter()
                    .filter(|(key, _)| keys.contains(key))
                    .map(|(_, invoice)| invoice.clone()),
            );
        }
        out
    }
}

/// What a current statement view was computed from: it is served again only while all are unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ViewKey {
    pub statement_version: i64,
    pub candidates_version: i64,
    pub payroll_version: i64,
    pub invoices_generation: u64,
}

/// A computed current view and its JSON per audience, serialised once per version.
pub(crate) struct CachedView {
    pub key: ViewKey,
    /// Every flag (controllers, payment desk, administrators).
    pub view: StatementView,
    establishment: OnceLock<StatementView>,
    json_all: OnceLock<Arc<[u8]>>,
    json_establishment: OnceLock<Arc<[u8]>>,
}

impl CachedView {
    pub fn new(key: ViewKey, view: StatementView) -> CachedView {
        CachedView {
            key,
            view,
            establishment: OnceLock::new(),
            json_all: OnceLock::new(),
            json_establishment: OnceLock::new(),
        }
    }

    /// The view as this role may see it (an establishment never sees controller-only flags).
    pub fn view_for(&self, role: Role) -> &StatementView {
        match role {
            Role::Etablissement => self.establishment.get_or_init(|| {
                let mut view = self.view.clone();
                view.flags = establishment_view(std::mem::take(&mut view.flags));
                view
            }),
            Role::Controleur | Role::Paiement | Role::Admin => &self.view,
        }
    }

    /// The view's JSON for this role, as `serde_json` writes the view.
    pub fn json_for(&self, role: Role) -> Result<Arc<[u8]>, serde_json::Error> {
        let cell = match role {
            Role::Etablissement => &self.json_establishment,
            Role::Controleur | Role::Paiement | Role::Admin => &self.json_all,
        };
        if let Some(json) = cell.get() {
            return Ok(json.clone());
        }
        let json: Arc<[u8]> = serde_json::to_vec(self.view_for(role))?.into();
        Ok(cell.get_or_init(|| json).clone())
    }
}

/// The ledger's read models and the follower state (see the module documentation).
pub(crate) struct ReadModels {
    store: EventStore,
    pub catalogue_history: Repository<CatalogueHistory>,
    pub candidates: Repository<CandidateBase>,
    pub statements: Repository<Statement>,
    pub payroll: Repository<PayrollBook>,
    pub batches: Repository<BatchHistory>,
    /// The last global position applied.
    position: AtomicI64,
    /// The store's commit count read when the last completed catch-up started.
    synced_commits: AtomicU64,
    catching_up: tokio::sync::Mutex<()>,
    /// Streams no read model folds, whose last event position someone watches (e.g. `tokens`).
    watched: RwLock<HashMap<String, Arc<AtomicI64>>>,
    /// Statement streams whose invoices changed since the index last looked.
    invoices_dirty: Arc<Mutex<BTreeSet<String>>>,
    invoices: Mutex<InvoiceIndex>,
    views: RwLock<HashMap<String, Arc<CachedView>>>,
}

impl ReadModels {
    pub fn new(store: EventStore) -> ReadModels {
        let invoices_dirty: Arc<Mutex<BTreeSet<String>>> = Arc::default();
        let dirty = invoices_dirty.clone();
        let observer: Observer<Statement> = Arc::new(move |stream, _| {
            if let Ok(mut dirty) = dirty.lock() {
                dirty.insert(stream.to_string());
            }
        });
        ReadModels {
            catalogue_history: Repository::new(store.clone()),
            candidates: Repository::new(store.clone()),
            statements: Repository::with_observer(store.clone(), observer),
            payroll: Repository::new(store.clone()),
            batches: Repository::new(store.clone()),
            store,
            position: AtomicI64::new(0),
            synced_commits: AtomicU64::new(0),
            catching_up: tokio::sync::Mutex::new(()),
            watched: RwLock::new(HashMap::new()),
            invoices_dirty,
            invoices: Mutex::new(InvoiceIndex::default()),
            views: RwLock::new(HashMap::new()),
        }
    }

    /// Applies every event committed after the last position applied. With `Some(count)`, returns
    /// at once when a catch-up that started after the store's commit count reached `count` has
    /// completed (concurrent reads wait for one catch-up instead of each running their own).
    pub async fn catch_up(&self, commits_seen: Option<u64>) -> Result<(), StoreError> {
        let _guard = self.catching_up.lock().await;
        if let Some(target) = commits_seen {
            if self.synced_commits.load(Ordering::Acquire) >= target {
                return Ok(());
            }
        }
        // Every commit counted here is visible to the reads below.
        let commits = self.store.commit_count();
        loop {
            let after = self.position.load(Ordering::Acquire);
            let page = self.store.read_all_page(after, FOLLOW_PAGE_EVENTS).await?;
            for event in &page {
                self.apply(event).await?;
                self.position.store(event.position, Ordering::Release);
            }
            if (page.len() as i64) < FOLLOW_PAGE_EVENTS {
                break;
            }
        }
        self.synced_commits.fetch_max(commits, Ordering::AcqRel);
        Ok(())
    }

    /// Makes sure every write acknowledged in this process before now is applied: no database
    /// access when it already is.
    pub async fn ensure_fresh(&self) -> Result<(), StoreError> {
        let commits = self.store.commit_count();
        if self.synced_commits.load(Ordering::Acquire) >= commits {
            return Ok(());
        }
        self.catch_up(Some(commits)).await
    }

    async fn apply(&self, event: &RecordedEvent) -> Result<(), StoreError> {
        let id = event.stream_id.as_str();
        if id == CATALOGUE_STREAM {
            apply_to(&self.catalogue_history, event).await
        } else if id == CANDIDATES_STREAM {
            apply_to(&self.candidates, event).await
        } else if id.starts_with(STATEMENT_STREAM_PREFIX) {
            apply_to(&self.statements, event).await
        } else if id.starts_with(PAYROLL_STREAM_PREFIX) {
            apply_to(&self.payroll, event).await
        } else if id.starts_with(BATCH_STREAM_PREFIX) {
            apply_to(&self.batches, event).await
        } else {
            if let Some(last) = self.watched.read().ok().and_then(|w| w.get(id).cloned()) {
                last.store(event.position, Ordering::Release);
            }
            Ok(())
        }
    }

    /// The position of the last event applied on a stream no read model folds (0 before any), kept
    /// up to date by the follower from now on.
    pub fn watch_stream(&self, stream_id: &str) -> Arc<AtomicI64> {
        let mut watched = self.watched.write().unwrap_or_else(|p| p.into_inner());
        watched
            .entry(stream_id.to_string())
            .or_insert_with(|| Arc::new(AtomicI64::new(0)))
            .clone()
    }

    /// Starts the task that applies writes of other processes (polling every
    /// [`FOLLOW_POLL_INTERVAL`]) and of this one (woken by every local commit).
    pub fn spawn_follower(self: &Arc<Self>) -> JoinHandle<()> {
        let models = self.clone();
        let mut commits = self.store.subscribe_commits();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    changed = commits.changed() => {
                        if changed.is_err() {
                            break;
                        }
                    }
                    _ = tokio::time::sleep(FOLLOW_POLL_INTERVAL) => {}
                }
                if let Err(err) = models.catch_up(None).await {
                    if matches!(err, StoreError::Database(sqlx::Error::PoolClosed)) {
                        break;
                    }
                    tracing::warn!(error = %err, "read model follower: catch-up failed, retrying");
                }
            }
        })
    }

    fn refresh_invoices(&self, index: &mut InvoiceIndex) {
        let dirty = match self.invoices_dirty.lock() {
            Ok(mut dirty) => std::mem::take(&mut *dirty),
            Err(_) => return,
        };
        for stream in dirty {
            let invoices = self
                .statements
                .snapshot(&stream)
                .map(|cached| StreamInvoices::of(&cached.state))
                .unwrap_or_default();
            index.replace(&stream, invoices);
        }
    }

    /// The generation of a statement's duplicate-invoice inputs (see [`InvoiceIndex`]).
    pub fn invoices_generation(&self, stream: &str) -> u64 {
        let mut index = self.invoices.lock().unwrap_or_else(|p| p.into_inner());
        self.refresh_invoices(&mut index);
        index.generation.get(stream).copied().unwrap_or(0)
    }

    /// The other candidates' invoices that may duplicate one of `statement`'s, and the generation
    /// they belong to.
    pub fn foreign_invoices(
        &self,
        stream: &str,
        candidate: &Finess,
        statement: &Statement,
    ) -> (u64, Vec<ForeignInvoice>) {
        let keys = invoice_keys_of(statement);
        let mut index = self.invoices.lock().unwrap_or_else(|p| p.into_inner());
        self.refresh_invoices(&mut index);
        let generation = index.generation.get(stream).copied().unwrap_or(0);
        (generation, index.foreign(stream, candidate, &keys))
    }

    pub fn view(&self, stream: &str) -> Option<Arc<CachedView>> {
        self.views.read().ok().and_then(|v| v.get(stream).cloned())
    }

    pub fn keep_view(&self, stream: &str, view: Arc<CachedView>) {
        if let Ok(mut views) = self.views.write() {
            views.insert(stream.to_string(), view);
        }
    }
}

async fn apply_to<A: Aggregate>(
    repository: &Repository<A>,
    event: &RecordedEvent,
) -> Result<(), StoreError> {
    if repository.apply_recorded(event)? == Applied::Gap {
        // The read model misses earlier events of this stream: fold it from the database.
        repository.load_shared(&event.stream_id).await?;
    }
    Ok(())
}
