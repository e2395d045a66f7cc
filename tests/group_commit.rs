//! Group commit (`EventStore::write`): concurrent writes committed in one transaction, each answered
//! with its own result, on both engines.

mod common;

use care_ledger::app::{Aggregate, CommandError, EventInfo, Repository};
use care_ledger::store::verify::verify;
use care_ledger::store::{EventStore, ExpectedVersion, ReadBound, StoreError, WriteTx};
use common::{event, meta, Harness};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::sync::oneshot;

on_both_engines!(
    many_concurrent_commands_on_several_streams_are_all_acknowledged_once_with_contiguous_versions,
    a_refused_job_in_a_group_leaves_no_trace_while_the_others_commit,
    an_idempotent_replay_inside_a_group_returns_the_first_result,
    a_refused_command_and_a_replayed_command_share_a_group_with_accepted_ones,
    a_group_folds_every_earlier_write_of_the_stream_into_the_next_decision,
    the_writer_state_carried_to_the_next_group_catches_up_with_other_processes,
);

#[derive(Debug, Clone, Default, PartialEq)]
struct Counter {
    total: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type")]
enum CounterEvent {
    Added { n: i64 },
}

impl Aggregate for Counter {
    type Event = CounterEvent;
    fn apply(&mut self, event: &CounterEvent, _: &EventInfo) {
        let CounterEvent::Added { n } = event;
        self.total += n;
    }
    fn event_type(_: &CounterEvent) -> (&'static str, i32) {
        ("Added", 1)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("plafond de {limit} dépassé")]
struct OverLimit {
    limit: i64,
}

#[derive(Serialize)]
struct Add {
    n: i64,
}

async fn add(
    repo: &Repository<Counter>,
    stream: &str,
    n: i64,
    key: &str,
) -> Result<(i64, bool), CommandError<OverLimit>> {
    let outcome = repo
        .execute(
            stream,
            None,
            &meta(key).with_idempotency_key(key),
            &Add { n },
            move |state: &Counter, _| {
                if state.total + n > 1_000 {
                    return Err(OverLimit { limit: 1_000 });
                }
                Ok(vec![CounterEvent::Added { n }])
            },
        )
        .await?;
    let append = outcome.append.expect("an event or a replay");
    Ok((append.last_version, append.replayed))
}

/// Holds the writer inside a group (a job that waits) until `release` is sent: every write queued
/// meanwhile joins the next jobs of that same group.
async fn hold_the_writer(store: &EventStore) -> (oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let (started_tx, started) = oneshot::channel::<()>();
    let (release, released) = oneshot::channel::<()>();
    let writer = store.clone();
    let holder = tokio::spawn(async move {
        writer
            .write(move |tx: &mut WriteTx| {
                Box::pin(async move {
                    tx.append(
                        "holder",
                        ExpectedVersion::Any,
                        &[event("Held", 0)],
                        &meta("hold"),
                    )
                    .await?;
                    let _ = started_tx.send(());
                    let _ = released.await;
                    Ok::<_, StoreError>(())
                })
            })
            .await
            .unwrap();
    });
    started.await.unwrap();
    (release, holder)
}

async fn wait_until_queued(store: &EventStore, jobs: usize) {
    for _ in 0..500 {
        if store.queued_writes() >= jobs {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!(
        "{jobs} writes never queued ({} queued)",
        store.queued_writes()
    );
}

async fn many_concurrent_commands_on_several_streams_are_all_acknowledged_once_with_contiguous_versions(
    h: &Harness,
) {
    const STREAMS: usize = 6;
    const EACH: usize = 40;
    let repo = Repository::<Counter>::new(h.store.clone());
    let commits_before = h.store.commit_count();
    let mut tasks = Vec::new();
    for s in 0..STREAMS {
        for i in 0..EACH {
            let repo = repo.clone();
            tasks.push(tokio::spawn(async move {
                let key = format!("c{s}-{i}");
                let (version, replayed) =
                    add(&repo, &format!("counter-{s}"), 1, &key).await.unwrap();
                assert!(!replayed);
                (s, version, key)
            }));
        }
    }
    let mut versions: BTreeMap<usize, Vec<i64>> = BTreeMap::new();
    for task in tasks {
        let (s, version, _) = task.await.unwrap();
        versions.entry(s).or_default().push(version);
    }
    for (s, mut acknowledged) in versions {
        acknowledged.sort();
        assert_eq!(
            acknowledged,
            (1..=EACH as i64).collect::<Vec<_>>(),
            "stream {s}: each command acknowledged with its own version"
        );
        let events = h
            .store
            .read_stream(&format!("counter-{s}"), ReadBound::all())
            .await
            .unwrap();
        assert_eq!(events.len(), EACH, "stream {s}: each command appended once");
        let mut keys: Vec<String> = events
            .iter()
            .map(|e| e.idempotency_key.clone().unwrap())
            .collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), EACH, "stream {s}: no key twice");
        assert_eq!(
            repo.load(&format!("counter-{s}")).await.unwrap().1.total,
            EACH as i64
        );
    }
    let all = h.store.read_all_page(0, 10_000).await.unwrap();
    assert_eq!(
        all.iter().map(|e| e.position).collect::<Vec<_>>(),
        (1..=(STREAMS * EACH) as i64).collect::<Vec<_>>(),
        "contiguous global positions"
    );
    assert!(verify(&h.store, None).await.unwrap().is_ok());
    let commits = h.store.commit_count() - commits_before;
    assert!(commits >= 1 && commits <= (STREAMS * EACH) as u64);
    eprintln!(
        "{}: {} commands in {commits} commits",
        h.engine,
        STREAMS * EACH
    );
}

async fn a_refused_job_in_a_group_leaves_no_trace_while_the_others_commit(h: &Harness) {
    h.store
        .append("b", ExpectedVersion::Any, &[event("B", 1)], &meta("setup"))
        .await
        .unwrap();
    let commits_before = h.store.commit_count();
    let (release, holder) = hold_the_writer(&h.store).await;

    let first = {
        let store = h.store.clone();
        tokio::spawn(async move {
            store
                .append(
                    "a",
                    ExpectedVersion::Exact(0),
                    &[event("A", 1)],
                    &meta("first"),
                )
                .await
        })
    };
    wait_until_queued(&h.store, 1).await;
    // Writes one event, then is refused (a stale version on its second append): its savepoint is
    // rolled back, so the first event disappears with it.
    let refused = {
        let store = h.store.clone();
        tokio::spawn(async move {
            store
                .write(move |tx: &mut WriteTx| {
                    Box::pin(async move {
                        tx.append(
                            "c",
                            ExpectedVersion::Exact(0),
                            &[event("C", 1)],
                            &meta("refused"),
                        )
                        .await?;
                        tx.append(
                            "b",
                            ExpectedVersion::Exact(0),
                            &[event("B", 2)],
                            &meta("refused"),
                        )
                        .await?;
                        Ok::<_, StoreError>(())
                    })
                })
                .await
        })
    };
    wait_until_queued(&h.store, 2).await;
    let last = {
        let store = h.store.clone();
        tokio::spawn(async move {
            store
                .append(
                    "a",
                    ExpectedVersion::Exact(1),
                    &[event("A", 2)],
                    &meta("last"),
                )
                .await
        })
    };
    wait_until_queued(&h.store, 3).await;
    release.send(()).unwrap();
    holder.await.unwrap();

    let first = first.await.unwrap().unwrap();
    assert!(matches!(
        refused.await.unwrap(),
        Err(StoreError::Conflict { actual: 1, .. })
    ));
    let last = last.await.unwrap().unwrap();
    // One commit for the whole group: holder, first, the refused job's rollback, last.
    assert_eq!(h.store.commit_count() - commits_before, 1);
    // The positions the refused job had taken are taken again by the next job: no gap.
    assert_eq!((first.first_position, last.first_position), (3, 4));
    assert_eq!(last.last_version, 2);
    assert_eq!(
        h.store.stream_version("c").await.unwrap(),
        0,
        "no trace of the refused job"
    );
    assert_eq!(h.store.stream_version("b").await.unwrap(), 1);
    let all = h.store.read_all_page(0, 100).await.unwrap();
    assert_eq!(
        all.iter()
            .map(|e| (e.position, e.stream_id.as_str()))
            .collect::<Vec<_>>(),
        vec![(1, "b"), (2, "holder"), (3, "a"), (4, "a")]
    );
    assert!(verify(&h.store, None).await.unwrap().is_ok());
}

async fn an_idempotent_replay_inside_a_group_returns_the_first_result(h: &Harness) {
    let (release, holder) = hold_the_writer(&h.store).await;
    let m = meta("pay").with_idempotency_key("pay-1");
    let mut tasks = Vec::new();
    for (i, payload) in [1, 1, 2].into_iter().enumerate() {
        let store = h.store.clone();
        let m = m.clone();
        tasks.push(tokio::spawn(async move {
            store
                .append("p", ExpectedVersion::Any, &[event("Paid", payload)], &m)
                .await
        }));
        wait_until_queued(&h.store, i + 1).await;
    }
    release.send(()).unwrap();
    holder.await.unwrap();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    let first = results[0].as_ref().unwrap();
    let replay = results[1].as_ref().unwrap();
    assert!(!first.replayed);
    assert!(
        replay.replayed,
        "the same key and content in the same group: a replay"
    );
    assert_eq!(
        (replay.first_position, replay.last_version),
        (first.first_position, first.last_version)
    );
    assert!(matches!(
        results[2],
        Err(StoreError::IdempotencyConflict { ref key }) if key == "pay-1"
    ));
    assert_eq!(h.store.stream_version("p").await.unwrap(), 1);
    assert!(verify(&h.store, None).await.unwrap().is_ok());
}

async fn a_refused_command_and_a_replayed_command_share_a_group_with_accepted_ones(h: &Harness) {
    let repo = Repository::<Counter>::new(h.store.clone());
    add(&repo, "counter", 990, "setup").await.unwrap();
    let (release, holder) = hold_the_writer(&h.store).await;
    let plan = [(5, "k1"), (5, "k1"), (20, "k2"), (5, "k3")];
    let mut tasks = Vec::new();
    for (i, (n, key)) in plan.into_iter().enumerate() {
        let repo = repo.clone();
        tasks.push(tokio::spawn(
            async move { add(&repo, "counter", n, key).await },
        ));
        wait_until_queued(&h.store, i + 1).await;
    }
    release.send(()).unwrap();
    holder.await.unwrap();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    assert_eq!(results[0].as_ref().unwrap(), &(2, false));
    assert_eq!(
        results[1].as_ref().unwrap(),
        &(2, true),
        "replayed, not re-decided"
    );
    assert!(
        matches!(
            results[2],
            Err(CommandError::Rejected(OverLimit { limit: 1_000 }))
        ),
        "995 + 20 is over the limit: refused, decided on the state the group built"
    );
    assert_eq!(results[3].as_ref().unwrap(), &(3, false));
    let (version, state) = repo.load("counter").await.unwrap();
    assert_eq!((version, state.total), (3, 1_000));
    assert!(verify(&h.store, None).await.unwrap().is_ok());
}

/// (amount, idempotency key) of an `add`.
type Add1 = (i64, &'static str);
/// (version, replayed) of an acknowledged `add`.
type Acknowledged = (i64, bool);

async fn a_group_folds_every_earlier_write_of_the_stream_into_the_next_decision(h: &Harness) {
    let repo = Repository::<Counter>::new(h.store.clone());
    let (release, holder) = hold_the_writer(&h.store).await;
    // The plan, in queue order; `None`: another kind of write on the same stream (500).
    let plan: [(Option<Add1>, Option<Acknowledged>); 6] = [
        (Some((100, "a0")), Some((1, false))),
        (Some((200, "a1")), Some((2, false))),
        (None, None),
        // 100 + 200 + 500 + 300 is over the limit: the other write of the same group counts.
        (Some((300, "c")), None),
        (Some((100, "d")), Some((4, false))),
        (Some((100, "e")), Some((5, false))),
    ];
    let mut tasks = Vec::new();
    for (i, (command, _)) in plan.iter().enumerate() {
        let task = match *command {
            Some((n, key)) => {
                let repo = repo.clone();
                tokio::spawn(async move {
                    add(&repo, "counter", n, key)
                        .await
                        .map_err(|e| e.to_string())
                })
            }
            None => {
                let store = h.store.clone();
                tokio::spawn(async move {
                    store
                        .append(
                            "counter",
                            ExpectedVersion::Any,
                            &[care_ledger::store::NewEvent::new(
                                "Added",
                                1,
                                serde_json::json!({ "type": "Added", "n": 500 }),
                            )],
                            &meta("other"),
                        )
                        .await
                        .map(|r| (r.last_version, r.replayed))
                        .map_err(|e| e.to_string())
                })
            }
        };
        tasks.push(task);
        wait_until_queued(&h.store, i + 1).await;
    }
    release.send(()).unwrap();
    holder.await.unwrap();
    for (task, (command, expected)) in tasks.into_iter().zip(plan) {
        let result = task.await.unwrap();
        match (command, expected) {
            (None, _) => assert_eq!(result.unwrap(), (3, false)),
            (Some(_), Some(expected)) => assert_eq!(result.unwrap(), expected),
            (Some((_, key)), None) => {
                let refusal = result.unwrap_err();
                assert!(refusal.contains("plafond"), "{key}: {refusal}");
            }
        }
    }
    let (version, state) = repo.load("counter").await.unwrap();
    assert_eq!((version, state.total), (5, 1_000));
    let rebuilt = Repository::<Counter>::new(h.store.clone());
    assert_eq!(rebuilt.load("counter").await.unwrap(), (version, state));
    assert!(verify(&h.store, None).await.unwrap().is_ok());
}

async fn the_writer_state_carried_to_the_next_group_catches_up_with_other_processes(h: &Harness) {
    let repo = Repository::<Counter>::new(h.store.clone());
    // Two commands on one stream in one group: the second builds the writer's own state (v2), which
    // the writer keeps for its next groups.
    let (release, holder) = hold_the_writer(&h.store).await;
    let mut tasks = Vec::new();
    for (i, (n, key)) in [(100, "a"), (200, "b")].into_iter().enumerate() {
        let repo = repo.clone();
        tasks.push(tokio::spawn(async move {
            add(&repo, "counter", n, key).await.unwrap()
        }));
        wait_until_queued(&h.store, i + 1).await;
    }
    release.send(()).unwrap();
    holder.await.unwrap();
    for task in tasks {
        task.await.unwrap();
    }
    // Another process appends to the same stream.
    let other = h.reopen().await;
    other
        .append(
            "counter",
            ExpectedVersion::Exact(2),
            &[care_ledger::store::NewEvent::new(
                "Added",
                1,
                serde_json::json!({ "type": "Added", "n": 500 }),
            )],
            &meta("other process"),
        )
        .await
        .unwrap();
    other.close().await;
    // The next groups decide on 800, not on the 300 the writer's own state was at.
    assert!(matches!(
        add(&repo, "counter", 300, "c").await,
        Err(CommandError::Rejected(OverLimit { .. }))
    ));
    assert_eq!(add(&repo, "counter", 150, "d").await.unwrap(), (4, false));
    assert_eq!(add(&repo, "counter", 50, "e").await.unwrap(), (5, false));
    assert!(matches!(
        add(&repo, "counter", 1, "f").await,
        Err(CommandError::Rejected(OverLimit { .. }))
    ));
    let (version, state) = Repository::<Counter>::new(h.store.clone())
        .load("counter")
        .await
        .unwrap();
    assert_eq!((version, state.total), (5, 1_000));
    assert!(verify(&h.store, None).await.unwrap().is_ok());
}
