//! Group commit: one writer task per store runs the writes that are waiting in ONE transaction and
//! commits once, so N concurrent commands cost one durable commit (one fsync with SQLite
//! `synchronous = FULL`) instead of N.
//!
//! - each job runs inside its own savepoint: a job that fails is rolled back to it and leaves nothing,
//!   while the other jobs of the group commit;
//! - jobs run one after the other, in arrival order, each seeing what the jobs before it wrote (the
//!   idempotency keys, stream versions, positions and hash chains are computed inside the
//!   transaction, exactly as for a transaction of its own);
//! - a caller is answered after the commit: `Ok` only once the group is durable;
//! - the group is bounded ([`MAX_GROUP_JOBS`]) and so is the queue ([`WRITE_QUEUE_CAPACITY`]: callers
//!   wait for room, which is the back-pressure);
//! - a caller that goes away (a dropped request) does not disturb the group: its job still runs and
//!   its answer is dropped, as for a client that disconnects after the commit.

use super::{StoreError, TxFactory, WriteTx};
use futures::future::BoxFuture;
use futures::FutureExt;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// The most jobs one group transaction runs before it commits.
pub const MAX_GROUP_JOBS: usize = 256;
/// The most jobs waiting for the writer; callers beyond it wait for room.
pub const WRITE_QUEUE_CAPACITY: usize = 4_096;

/// A job with its result type erased, as the writer task runs it.
pub(super) trait GroupJob: Send {
    /// Runs the job on the group's transaction; true when it succeeded (its writes are kept).
    fn run<'t>(&'t mut self, tx: &'t mut WriteTx) -> BoxFuture<'t, bool>;
    /// Answers the caller once the group's fate is known.
    fn finish(self: Box<Self>, group: Result<(), Arc<StoreError>>);
}

struct TypedJob<T, E, F> {
    job: Option<F>,
    result: Option<Result<T, E>>,
    reply: oneshot::Sender<Result<T, E>>,
}

impl<T, E, F> GroupJob for TypedJob<T, E, F>
where
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
    F: for<'t> FnOnce(&'t mut WriteTx) -> BoxFuture<'t, Result<T, E>> + Send + 'static,
{
    fn run<'t>(&'t mut self, tx: &'t mut WriteTx) -> BoxFuture<'t, bool> {
        Box::pin(async move {
            let Some(job) = self.job.take() else {
                return false;
            };
            let result = job(tx).await;
            let kept = result.is_ok();
            self.result = Some(result);
            kept
        })
    }

    fn finish(self: Box<Self>, group: Result<(), Arc<StoreError>>) {
        let answer = match (self.result, group) {
            // Refused: its own answer, whatever became of the group (it left nothing in it).
            (Some(Err(refused)), _) => Err(refused),
            (Some(Ok(value)), Ok(())) => Ok(value),
            (Some(Ok(_)), Err(cause)) | (None, Err(cause)) => {
                Err(E::from(StoreError::GroupFailed(cause)))
            }
            (None, Ok(())) => Err(E::from(StoreError::WriterStopped)),
        };
        // The caller may have gone away; its job's fate is in the ledger either way.
        let _ = self.reply.send(answer);
    }
}

/// Queues `job` for the writer and waits for its answer.
pub(super) async fn submit<T, E, F>(queue: &mpsc::Sender<Box<dyn GroupJob>>, job: F) -> Result<T, E>
where
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
    F: for<'t> FnOnce(&'t mut WriteTx) -> BoxFuture<'t, Result<T, E>> + Send + 'static,
{
    let (reply, answer) = oneshot::channel();
    let job: Box<dyn GroupJob> = Box::new(TypedJob {
        job: Some(job),
        result: None,
        reply,
    });
    if queue.send(job).await.is_err() {
        return Err(E::from(StoreError::WriterStopped));
    }
    answer
        .await
        .unwrap_or_else(|_| Err(E::from(StoreError::WriterStopped)))
}

/// Starts the writer task of a store (on the current runtime); it stops when every sender (every
/// clone of the store) is gone.
pub(super) fn spawn_writer(factory: TxFactory) -> mpsc::Sender<Box<dyn GroupJob>> {
    let (sender, receiver) = mpsc::channel(WRITE_QUEUE_CAPACITY);
    tokio::spawn(run_writer(factory, receiver));
    sender
}

async fn run_writer(factory: TxFactory, mut queue: mpsc::Receiver<Box<dyn GroupJob>>) {
    // What the jobs kept in the scratch space of the last committed group (see `WriteTx::scratch`).
    let mut carried = std::collections::HashMap::new();
    while let Some(first) = queue.recv().await {
        let mut group = vec![first];
        take_waiting(&mut group, &mut queue);
        let mut tx = match factory.begin().await {
            Ok(tx) => tx,
            Err(err) => {
                tracing::error!(error = %err, jobs = group.len(), "group write could not begin");
                let cause = Arc::new(err);
                for job in group {
                    job.finish(Err(cause.clone()));
                }
                continue;
            }
        };
        tx.put_scratch(std::mem::take(&mut carried));
        let started = std::time::Instant::now();
        let mut ran = 0;
        let mut broken = tx.savepoint().await.err();
        while broken.is_none() && ran < group.len() {
            let kept = run_one(&mut tx, group[ran].as_mut()).await;
            ran += 1;
            if ran == group.len() {
                // Writes that arrived while this group ran join it, up to the limit.
                take_waiting(&mut group, &mut queue);
            }
            let next = ran < group.len();
            broken = match kept {
                Ok(kept) => tx.end_savepoint(kept, next).await.err(),
                Err(err) => Some(err),
            };
        }
        let ran_for = started.elapsed();
        let scratch = tx.take_scratch();
        let outcome = match broken {
            None => match tx.commit().await {
                Ok(()) => {
                    carried = scratch;
                    Ok(())
                }
                Err(err) => {
                    tracing::error!(error = %err, jobs = group.len(), "group commit failed");
                    Err(Arc::new(err))
                }
            },
            Some(err) => {
                tracing::error!(error = %err, jobs = group.len(), "group write rolled back");
                if let Err(rollback) = tx.rollback().await {
                    tracing::error!(error = %rollback, "rollback of a broken group failed");
                }
                Err(Arc::new(err))
            }
        };
        tracing::debug!(
            jobs = group.len(),
            committed = outcome.is_ok(),
            run_us = ran_for.as_micros() as u64,
            commit_us = (started.elapsed() - ran_for).as_micros() as u64,
            "group done"
        );
        for job in group {
            job.finish(outcome.clone());
        }
    }
}

fn take_waiting(group: &mut Vec<Box<dyn GroupJob>>, queue: &mut mpsc::Receiver<Box<dyn GroupJob>>) {
    while group.len() < MAX_GROUP_JOBS {
        match queue.try_recv() {
            Ok(job) => group.push(job),
            Err(_) => break,
        }
    }
}

/// One job, inside the savepoint the writer opened for it: whether its writes are kept. A panic
/// breaks the whole group (its transaction is in an unknown state).
async fn run_one(tx: &mut WriteTx, job: &mut dyn GroupJob) -> Result<bool, StoreError> {
    AssertUnwindSafe(job.run(tx))
        .catch_unwind()
        .await
        .map_err(|_| StoreError::WriterStopped)
}
