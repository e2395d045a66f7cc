//! The event store's guarantees, each run against SQLite and PostgreSQL (SPEC.md §4).

mod common;

use care_ledger::actor::Actor;
use care_ledger::actor::Role;
use care_ledger::store::checkpoint::{Checkpoint, CheckpointError};
use care_ledger::store::verify::{verify, ProblemKind};
use care_ledger::store::{
    hash, AppendResult, EventMetadata, EventStore, ExpectedVersion, IdempotencyScope, NewEvent,
    ReadBound, StoreError, TokenRecord, GENESIS_HASH,
};
use common::{event, meta, Harness};
use futures::StreamExt;
use serde_json::json;
use std::collections::BTreeSet;

const KEY: &[u8] = b"auditor-checkpoint-key-0123456789";

on_both_engines!(
    appended_events_read_back_in_order_with_their_metadata,
    a_stale_expected_version_is_a_conflict_and_appends_nothing,
    a_failed_transaction_appends_nothing_on_any_stream,
    an_oversized_event_in_a_batch_appends_nothing,
    an_append_without_actor_or_request_is_refused,
    the_same_idempotency_key_twice_appends_once,
    the_same_idempotency_key_with_other_content_is_a_conflict,
    the_database_refuses_update_and_delete_on_events,
    a_reader_never_skips_an_event_that_commits_late,
    stream_reads_stop_at_a_version_or_an_instant,
    global_reads_page_through_every_event_once,
    recorded_time_never_goes_backwards,
    verify_accepts_an_untouched_ledger_and_its_checkpoint,
    verify_finds_an_edited_event,
    verify_finds_a_deleted_event,
    verify_with_checkpoint_finds_a_truncated_tail,
    verify_with_checkpoint_finds_a_recomputed_history,
    a_checkpoint_signed_with_another_key_is_rejected,
    eight_writers_on_one_stream_end_with_contiguous_versions,
    eight_writers_on_eight_streams_all_succeed,
    an_idempotency_key_is_scoped_to_who_may_use_it,
    a_token_row_is_written_with_its_event_or_not_at_all,
    a_busy_or_closed_database_is_unavailable_not_an_internal_error,
);

async fn append_n(store: &EventStore, stream: &str, n: i64) -> AppendResult {
    let events: Vec<NewEvent> = (1..=n).map(|i| event("Sample", i)).collect();
    store
        .append(stream, ExpectedVersion::Any, &events, &meta("req"))
        .await
        .unwrap()
}

async fn appended_events_read_back_in_order_with_their_metadata(h: &Harness) {
    let m = meta("req-1")
        .with_comment("première saisie")
        .with_idempotency_key("k-1");
    let r = h
        .store
        .append(
            "statement-A",
            ExpectedVersion::Exact(0),
            &[event("Opened", 1), event("Declared", 2)],
            &m,
        )
        .await
        .unwrap();
    assert_eq!((r.first_version, r.last_version), (1, 2));
    assert_eq!((r.first_position, r.last_position), (1, 2));
    assert!(!r.replayed);

    let events = h
        .store
        .read_stream("statement-A", ReadBound::all())
        .await
        .unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].event_type, "Opened");
    assert_eq!(events[1].event_type, "Declared");
    assert_eq!(events[0].stream_version, 1);
    assert_eq!(events[1].position, 2);
    assert_eq!(events[0].actor, "ops");
    assert_eq!(events[0].role, Role::Admin.as_str());
    assert_eq!(events[0].request_id, "req-1");
    assert_eq!(events[0].comment.as_deref(), Some("première saisie"));
    assert_eq!(events[0].idempotency_key.as_deref(), Some("k-1"));
    assert_eq!(events[0].recorded_at(), h.now());
    assert_eq!(events[0].prev_hash, GENESIS_HASH);
    assert_eq!(events[1].prev_hash, events[0].hash);
    assert_eq!(events[1].global_prev_hash, events[0].global_hash);
    // Payload stored as canonical JSON (sorted keys) and hashed as stored.
    assert_eq!(events[0].payload, r#"{"label":"événement 1","n":1}"#);
    assert_eq!(
        events[0].hash,
        hash::event_hash(GENESIS_HASH, &events[0].hashed_fields())
    );
    assert_eq!(h.store.stream_version("statement-A").await.unwrap(), 2);
    assert_eq!(h.store.stream_version("nothing").await.unwrap(), 0);
}

async fn a_stale_expected_version_is_a_conflict_and_appends_nothing(h: &Harness) {
    append_n(&h.store, "s", 2).await;
    let err = h
        .store
        .append(
            "s",
            ExpectedVersion::Exact(1),
            &[event("Late", 9)],
            &meta("r"),
        )
        .await
        .unwrap_err();
    match err {
        StoreError::Conflict {
            stream_id,
            expected,
            actual,
        } => {
            assert_eq!(stream_id, "s");
            assert_eq!(expected, ExpectedVersion::Exact(1));
            assert_eq!(actual, 2);
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    // A new stream expected at 0 but already there: also a conflict.
    assert!(matches!(
        h.store
            .append(
                "s",
                ExpectedVersion::Exact(0),
                &[event("Again", 1)],
                &meta("r")
            )
            .await,
        Err(StoreError::Conflict { actual: 2, .. })
    ));
    assert_eq!(h.store.stream_version("s").await.unwrap(), 2);
    assert_eq!(h.store.head().await.unwrap().unwrap().position, 2);
}

async fn a_failed_transaction_appends_nothing_on_any_stream(h: &Harness) {
    append_n(&h.store, "b", 1).await;
    let mut tx = h.store.begin_write().await.unwrap();
    tx.append("a", ExpectedVersion::Exact(0), &[event("A", 1)], &meta("r"))
        .await
        .unwrap();
    let err = tx
        .append("b", ExpectedVersion::Exact(0), &[event("B", 1)], &meta("r"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }));
    tx.rollback().await.unwrap();
    assert_eq!(h.store.stream_version("a").await.unwrap(), 0);
    assert_eq!(h.store.stream_version("b").await.unwrap(), 1);
    assert_eq!(h.store.head().await.unwrap().unwrap().position, 1);
    // A dropped (never committed) transaction appends nothing either.
    {
        let mut tx = h.store.begin_write().await.unwrap();
        tx.append("a", ExpectedVersion::Any, &[event("A", 2)], &meta("r"))
            .await
            .unwrap();
    }
    assert_eq!(h.store.stream_version("a").await.unwrap(), 0);
    append_n(&h.store, "a", 1).await;
    assert_eq!(h.store.head().await.unwrap().unwrap().position, 2);
}

async fn an_oversized_event_in_a_batch_appends_nothing(h: &Harness) {
    let big = "x".repeat(care_ledger::store::MAX_PAYLOAD_BYTES + 1);
    let events = vec![
        event("A", 1),
        event("B", 2),
        NewEvent::new("C", 1, json!({ "text": big })),
    ];
    let err = h
        .store
        .append("s", ExpectedVersion::Any, &events, &meta("r"))
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        StoreError::InvalidAppend {
            field: "payload",
            ..
        }
    ));
    assert!(h.store.head().await.unwrap().is_none());
}

async fn an_append_without_actor_or_request_is_refused(h: &Harness) {
    let mut m = meta("r");
    m.actor = "  ".into();
    assert!(matches!(
        h.store
            .append("s", ExpectedVersion::Any, &[event("A", 1)], &m)
            .await,
        Err(StoreError::InvalidAppend { field: "actor", .. })
    ));
    let m = meta("");
    assert!(matches!(
        h.store
            .append("s", ExpectedVersion::Any, &[event("A", 1)], &m)
            .await,
        Err(StoreError::InvalidAppend {
            field: "request_id",
            ..
        })
    ));
    assert!(matches!(
        h.store
            .append("s", ExpectedVersion::Any, &[], &meta("r"))
            .await,
        Err(StoreError::InvalidAppend {
            field: "events",
            ..
        })
    ));
    assert!(h.store.head().await.unwrap().is_none());
}

async fn the_same_idempotency_key_twice_appends_once(h: &Harness) {
    let m = meta("r1").with_idempotency_key("pay-42");
    let first = h
        .store
        .append("s", ExpectedVersion::Exact(0), &[event("Paid", 1)], &m)
        .await
        .unwrap();
    // The retry carries another request id and a stale expected version: still the first result.
    let mut retry = meta("r2").with_idempotency_key("pay-42");
    retry.request_id = "r2".into();
    let second = h
        .store
        .append("s", ExpectedVersion::Exact(0), &[event("Paid", 1)], &retry)
        .await
        .unwrap();
    assert!(second.replayed);
    assert_eq!(second.first_position, first.first_position);
    assert_eq!(second.last_version, first.last_version);
    assert_eq!(h.store.stream_version("s").await.unwrap(), 1);
    assert_eq!(h.store.head().await.unwrap().unwrap().position, 1);
}

async fn the_same_idempotency_key_with_other_content_is_a_conflict(h: &Harness) {
    let m = meta("r1").with_idempotency_key("pay-43");
    h.store
        .append("s", ExpectedVersion::Any, &[event("Paid", 1)], &m)
        .await
        .unwrap();
    let err = h
        .store
        .append("s", ExpectedVersion::Any, &[event("Paid", 2)], &m)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::IdempotencyConflict { key } if key == "pay-43"));
    // Same content on another stream is another request too.
    assert!(matches!(
        h.store
            .append("t", ExpectedVersion::Any, &[event("Paid", 1)], &m)
            .await,
        Err(StoreError::IdempotencyConflict { .. })
    ));
    assert_eq!(h.store.head().await.unwrap().unwrap().position, 1);
}

async fn the_database_refuses_update_and_delete_on_events(h: &Harness) {
    append_n(&h.store, "s", 2).await;
    h.store
        .append(
            "s",
            ExpectedVersion::Any,
            &[event("Keyed", 3)],
            &meta("r").with_idempotency_key("k"),
        )
        .await
        .unwrap();
    let update = h
        .store
        .execute_raw("UPDATE events SET payload = '{}' WHERE position = 2")
        .await;
    assert!(update.is_err(), "UPDATE must be refused");
    let delete = h
        .store
        .execute_raw("DELETE FROM events WHERE position = 3")
        .await;
    assert!(delete.is_err(), "DELETE must be refused");
    assert!(h
        .store
        .execute_raw("DELETE FROM idempotency_scoped_keys")
        .await
        .is_err());
    if h.engine == "postgres" {
        let truncate = h.store.execute_raw("TRUNCATE events").await;
        assert!(truncate.is_err(), "TRUNCATE must be refused");
        let err = format!("{:?}", truncate.unwrap_err());
        assert!(err.contains("append-only"), "{err}");
    }
    let report = verify(&h.store, None).await.unwrap();
    assert!(report.is_ok());
    assert_eq!(report.events_checked, 3);
}

async fn a_reader_never_skips_an_event_that_commits_late(h: &Harness) {
    append_n(&h.store, "before", 1).await;
    let reader = h.store.clone();
    let late_writer = h.reopen().await;
    let other_writer = h.reopen().await;

    // 1. A transaction appends and stays open (the test hook: we hold it).
    let mut slow = late_writer.begin_write().await.unwrap();
    let slow_result = slow
        .append(
            "slow",
            ExpectedVersion::Any,
            &[event("Slow", 1)],
            &meta("slow"),
        )
        .await
        .unwrap();
    assert_eq!(slow_result.first_position, 2);

    // 2. A later append starts; it cannot commit ahead of the open one.
    let fast = tokio::spawn(async move {
        other_writer
            .append(
                "fast",
                ExpectedVersion::Any,
                &[event("Fast", 1)],
                &meta("fast"),
            )
            .await
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    // 3. A reader following the global order sees neither: nothing visible beyond position 1.
    let seen = reader.read_all_page(0, 100).await.unwrap();
    assert_eq!(seen.iter().map(|e| e.position).collect::<Vec<_>>(), vec![1]);
    assert!(
        !fast.is_finished(),
        "the later append must wait for the open one"
    );

    // 4. The first commits; the second follows; the reader resumes after position 1 and misses nothing.
    slow.commit().await.unwrap();
    let fast_result = fast.await.unwrap().unwrap();
    assert_eq!(fast_result.first_position, 3);
    let resumed = reader.read_all_page(1, 100).await.unwrap();
    let order: Vec<(i64, String)> = resumed
        .iter()
        .map(|e| (e.position, e.stream_id.clone()))
        .collect();
    assert_eq!(
        order,
        vec![(2, "slow".to_string()), (3, "fast".to_string())]
    );
    late_writer.close().await;
}

async fn stream_reads_stop_at_a_version_or_an_instant(h: &Harness) {
    let t0 = h.now();
    append_n(&h.store, "s", 2).await;
    h.clock.advance(chrono::Duration::days(1));
    let t1 = h.now();
    append_n(&h.store, "s", 3).await;
    append_n(&h.store, "other", 1).await;

    let all = h.store.read_stream("s", ReadBound::all()).await.unwrap();
    assert_eq!(all.len(), 5);
    let up_to_3 = h
        .store
        .read_stream("s", ReadBound::up_to_version(3))
        .await
        .unwrap();
    assert_eq!(
        up_to_3.iter().map(|e| e.stream_version).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    let as_of_t0 = h
        .store
        .read_stream("s", ReadBound::as_of(t0))
        .await
        .unwrap();
    assert_eq!(as_of_t0.len(), 2);
    let just_before_t1 = t1 - chrono::Duration::microseconds(1);
    assert_eq!(
        h.store
            .read_stream("s", ReadBound::as_of(just_before_t1))
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        h.store
            .read_stream("s", ReadBound::as_of(t1))
            .await
            .unwrap()
            .len(),
        5
    );
    let before_anything = t0 - chrono::Duration::seconds(1);
    assert!(h
        .store
        .read_stream("s", ReadBound::as_of(before_anything))
        .await
        .unwrap()
        .is_empty());
}

async fn global_reads_page_through_every_event_once(h: &Harness) {
    for i in 0..5 {
        append_n(&h.store, &format!("s{}", i % 3), 7).await;
    }
    let mut after = 0;
    let mut seen = Vec::new();
    loop {
        let page = h.store.read_all_page(after, 4).await.unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 4);
        after = page.last().unwrap().position;
        seen.extend(page.into_iter().map(|e| e.position));
    }
    assert_eq!(seen, (1..=35).collect::<Vec<i64>>());
    let streamed: Vec<i64> = h
        .store
        .stream_all(30)
        .map(|e| e.unwrap().position)
        .collect()
        .await;
    assert_eq!(streamed, vec![31, 32, 33, 34, 35]);
    assert_eq!(
        h.store.stream_ids("s").await.unwrap(),
        vec!["s0".to_string(), "s1".into(), "s2".into()]
    );
}

async fn recorded_time_never_goes_backwards(h: &Harness) {
    append_n(&h.store, "s", 1).await;
    let first = h.now();
    h.clock.advance(chrono::Duration::hours(-2));
    append_n(&h.store, "s", 1).await;
    let events = h.store.read_stream("s", ReadBound::all()).await.unwrap();
    assert_eq!(events[1].recorded_at(), first);
}

async fn verify_accepts_an_untouched_ledger_and_its_checkpoint(h: &Harness) {
    let empty = verify(&h.store, None).await.unwrap();
    assert!(empty.is_ok());
    assert_eq!(empty.events_checked, 0);
    append_n(&h.store, "a", 3).await;
    append_n(&h.store, "b", 2).await;
    let cp = Checkpoint::take(&h.store, KEY).await.unwrap();
    assert_eq!(cp.global_position, 5);
    assert_eq!(cp.streams.len(), 2);
    let parsed = Checkpoint::parse_and_check(&cp.to_json(), KEY).unwrap();
    assert_eq!(parsed, cp);
    // More events after the checkpoint are fine.
    append_n(&h.store, "a", 1).await;
    let report = verify(&h.store, Some(&parsed)).await.unwrap();
    assert!(report.is_ok(), "{:?}", report.problem);
    assert_eq!(report.events_checked, 6);
    assert_eq!(report.streams, 2);
    assert_eq!(report.head_position, 6);
    assert_eq!(
        report.head_hash,
        h.store.head().await.unwrap().unwrap().global_hash
    );
}

async fn verify_finds_an_edited_event(h: &Harness) {
    append_n(&h.store, "a", 4).await;
    let copy = h.copy().await;
    copy.disable_protection().await;
    copy.store
        .execute_raw(
            r#"UPDATE events SET payload = '{"label":"événement 3","n":300}' WHERE position = 3"#,
        )
        .await
        .unwrap();
    let report = verify(&copy.store, None).await.unwrap();
    let problem = report.problem.expect("the edit must be found");
    assert_eq!(problem.kind, ProblemKind::ContentAltered);
    assert_eq!(problem.position, 3);
    assert_eq!(problem.stream_version, Some(3));
    copy.cleanup().await;
}

async fn verify_finds_a_deleted_event(h: &Harness) {
    append_n(&h.store, "a", 2).await;
    append_n(&h.store, "b", 2).await;
    let copy = h.copy().await;
    copy.disable_protection().await;
    copy.store
        .execute_raw("DELETE FROM events WHERE position = 2")
        .await
        .unwrap();
    let problem = verify(&copy.store, None).await.unwrap().problem.unwrap();
    assert_eq!(problem.kind, ProblemKind::MissingEvent);
    assert_eq!(problem.position, 2);
    copy.cleanup().await;
}

async fn verify_with_checkpoint_finds_a_truncated_tail(h: &Harness) {
    append_n(&h.store, "a", 5).await;
    let cp = Checkpoint::take(&h.store, KEY).await.unwrap();
    let copy = h.copy().await;
    copy.disable_protection().await;
    copy.store
        .execute_raw("DELETE FROM events WHERE position > 3")
        .await
        .unwrap();
    // Without the checkpoint a clean prefix looks valid: that is what checkpoints are for.
    assert!(verify(&copy.store, None).await.unwrap().is_ok());
    let problem = verify(&copy.store, Some(&cp))
        .await
        .unwrap()
        .problem
        .unwrap();
    assert_eq!(problem.kind, ProblemKind::Truncated);
    assert_eq!(problem.position, 4);
    copy.cleanup().await;
}

async fn verify_with_checkpoint_finds_a_recomputed_history(h: &Harness) {
    append_n(&h.store, "a", 3).await;
    append_n(&h.store, "b", 2).await;
    let cp = Checkpoint::take(&h.store, KEY).await.unwrap();
    let copy = h.copy().await;
    copy.disable_protection().await;
    // Rewrite event 2 and recompute every hash after it, as a forger without the key would.
    copy.store
        .execute_raw(
            r#"UPDATE events SET payload = '{"label":"falsifié","n":2}' WHERE position = 2"#,
        )
        .await
        .unwrap();
    let events: Vec<_> = copy.store.read_all_page(0, 100).await.unwrap();
    let mut stream_prev: std::collections::HashMap<String, String> = Default::default();
    let mut global_prev = GENESIS_HASH.to_string();
    for e in events {
        let prev = stream_prev
            .get(&e.stream_id)
            .cloned()
            .unwrap_or_else(|| GENESIS_HASH.to_string());
        let h1 = hash::event_hash(&prev, &e.hashed_fields());
        let g = hash::global_hash(&global_prev, e.position, &h1);
        copy.store
            .execute_raw(&format!(
                "UPDATE events SET prev_hash = '{prev}', hash = '{h1}', global_prev_hash = '{global_prev}', \
                 global_hash = '{g}' WHERE position = {}",
                e.position
            ))
            .await
            .unwrap();
        stream_prev.insert(e.stream_id.clone(), h1);
        global_prev = g;
    }
    assert!(
        verify(&copy.store, None).await.unwrap().is_ok(),
        "a consistent recomputation passes without a checkpoint"
    );
    let problem = verify(&copy.store, Some(&cp))
        .await
        .unwrap()
        .problem
        .unwrap();
    assert_eq!(problem.kind, ProblemKind::CheckpointMismatch);
    assert_eq!(problem.stream_id.as_deref(), Some("a"));
    copy.cleanup().await;
}

async fn a_checkpoint_signed_with_another_key_is_rejected(h: &Harness) {
    append_n(&h.store, "a", 1).await;
    let cp = Checkpoint::take(&h.store, b"another-key-for-a-forger-000000")
        .await
        .unwrap();
    assert!(matches!(
        Checkpoint::parse_and_check(&cp.to_json(), KEY),
        Err(CheckpointError::BadSignature)
    ));
    // An edited checkpoint file is rejected too.
    let good = Checkpoint::take(&h.store, KEY).await.unwrap();
    let edited = good
        .to_json()
        .replace("\"global_position\": 1", "\"global_position\": 0");
    assert!(matches!(
        Checkpoint::parse_and_check(&edited, KEY),
        Err(CheckpointError::BadSignature)
    ));
    assert!(matches!(
        Checkpoint::take(&h.store, b"short").await,
        Err(CheckpointError::WeakKey)
    ));
}

async fn eight_writers_on_one_stream_end_with_contiguous_versions(h: &Harness) {
    const WRITERS: i64 = 8;
    const EACH: i64 = 10;
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let store = h.store.clone();
        tasks.push(tokio::spawn(async move {
            let mut conflicts = 0;
            for i in 0..EACH {
                loop {
                    let version = store.stream_version("shared").await.unwrap();
                    let payload = json!({ "writer": w, "i": i });
                    match store
                        .append(
                            "shared",
                            ExpectedVersion::Exact(version),
                            &[NewEvent::new("Written", 1, payload)],
                            &meta(&format!("w{w}-{i}")),
                        )
                        .await
                    {
                        Ok(_) => break,
                        Err(StoreError::Conflict { .. }) => conflicts += 1,
                        Err(other) => panic!("unexpected error: {other:?}"),
                    }
                }
            }
            conflicts
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let events = h
        .store
        .read_stream("shared", ReadBound::all())
        .await
        .unwrap();
    assert_eq!(
        events.iter().map(|e| e.stream_version).collect::<Vec<_>>(),
        (1..=WRITERS * EACH).collect::<Vec<_>>()
    );
    let distinct: BTreeSet<String> = events.iter().map(|e| e.payload.clone()).collect();
    assert_eq!(
        distinct.len() as i64,
        WRITERS * EACH,
        "no lost or duplicated event"
    );
    assert!(verify(&h.store, None).await.unwrap().is_ok());
}

async fn eight_writers_on_eight_streams_all_succeed(h: &Harness) {
    let mut tasks = Vec::new();
    for w in 0..8 {
        let store = h.store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..10 {
                store
                    .append(
                        &format!("stream-{w}"),
                        ExpectedVersion::Exact(i),
                        &[event("Written", i)],
                        &meta("r"),
                    )
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    for w in 0..8 {
        assert_eq!(
            h.store
                .stream_version(&format!("stream-{w}"))
                .await
                .unwrap(),
            10
        );
    }
    let report = verify(&h.store, None).await.unwrap();
    assert!(report.is_ok());
    assert_eq!(report.events_checked, 80);
}

fn as_role(role: Role, id: &str, request: &str) -> EventMetadata {
    EventMetadata::new(&Actor::new(role, id).unwrap(), request)
}

async fn an_idempotency_key_is_scoped_to_who_may_use_it(h: &Harness) {
    let key = "LOT-D1bis-20270510-001/130004526";
    // The payment desk orders on A's statement with the batch's key.
    let desk = as_role(Role::Paiement, "desk", "r1").with_idempotency_key(key);
    let paid = h
        .store
        .append(
            "statement/A/D1bis",
            ExpectedVersion::Any,
            &[event("PaymentOrdered", 1)],
            &desk,
        )
        .await
        .unwrap();
    assert!(!paid.replayed);
    // Establishment A, then establishment B, use the same key with other content: each is a new key
    // in its own scope (no 409 to learn from, nothing blocked).
    for (stream, n) in [("statement/A/D1bis", 2), ("statement/B/D1bis", 3)] {
        let establishment = as_role(Role::Etablissement, "daf", "r2").with_idempotency_key(key);
        let result = h
            .store
            .append(
                stream,
                ExpectedVersion::Any,
                &[event("InvoiceDeclared", n)],
                &establishment,
            )
            .await
            .unwrap();
        assert!(!result.replayed, "{stream}");
    }
    // An establishment cannot take the desk's future keys either: the desk's next order with a key
    // an establishment used first is its own.
    let future = "LOT-D1bis-20270511-001/130004526";
    let squatter = as_role(Role::Etablissement, "daf", "r3").with_idempotency_key(future);
    h.store
        .append(
            "statement/A/D1bis",
            ExpectedVersion::Any,
            &[event("Note", 4)],
            &squatter,
        )
        .await
        .unwrap();
    let desk_next = as_role(Role::Paiement, "desk", "r4").with_idempotency_key(future);
    let ordered = h
        .store
        .append(
            "statement/A/D1bis",
            ExpectedVersion::Any,
            &[event("PaymentOrdered", 5)],
            &desk_next,
        )
        .await
        .unwrap();
    assert!(!ordered.replayed);
    // Inside one scope a key keeps its meaning: the desk's key again with other content is a
    // conflict, on any stream, from any agent of the desk.
    let other_agent = as_role(Role::Paiement, "desk-2", "r5").with_idempotency_key(key);
    assert!(matches!(
        h.store
            .append(
                "payment-batches/D1bis",
                ExpectedVersion::Any,
                &[event("Batch", 6)],
                &other_agent
            )
            .await,
        Err(StoreError::IdempotencyConflict { .. })
    ));
    // The lookups a command handler makes see the same scopes.
    let mut tx = h.store.begin_write().await.unwrap();
    let desk_scope = IdempotencyScope::of("statement/A/D1bis", Role::Paiement);
    let b_scope = IdempotencyScope::of("statement/B/D1bis", Role::Etablissement);
    let c_scope = IdempotencyScope::of("statement/C/D1bis", Role::Etablissement);
    let found = tx
        .find_idempotency_key(&desk_scope, key)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.0.first_position, paid.first_position);
    let found_b = tx
        .find_idempotency_key(&b_scope, key)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found_b.0.stream_id, "statement/B/D1bis");
    assert!(tx
        .find_idempotency_key(&c_scope, key)
        .await
        .unwrap()
        .is_none());
    tx.rollback().await.unwrap();
    assert_eq!(h.store.head().await.unwrap().unwrap().position, 5);
}

async fn a_token_row_is_written_with_its_event_or_not_at_all(h: &Harness) {
    let record = TokenRecord {
        id: "t-1".into(),
        role: Role::Controleur,
        candidate: None,
        label: "Marie".into(),
        created_by: "admin:ops".into(),
        created_at_us: 1,
        revoked_at_us: None,
        expires_at_us: Some(2_000_000),
    };
    // A job that writes the row and then fails to append: neither is kept.
    let failed = h
        .store
        .write({
            let record = record.clone();
            move |tx| {
                Box::pin(async move {
                    tx.insert_token(&record, "hash-1").await?;
                    tx.append(
                        "tokens",
                        ExpectedVersion::Exact(7),
                        &[event("TokenCreated", 1)],
                        &meta("r"),
                    )
                    .await
                })
            }
        })
        .await;
    assert!(matches!(failed, Err(StoreError::Conflict { .. })));
    assert!(h.store.token("t-1").await.unwrap().is_none());
    assert!(h.store.head().await.unwrap().is_none());
    // Both in one job: both kept.
    h.store
        .write({
            let record = record.clone();
            move |tx| {
                Box::pin(async move {
                    tx.insert_token(&record, "hash-1").await?;
                    tx.append(
                        "tokens",
                        ExpectedVersion::Any,
                        &[event("TokenCreated", 1)],
                        &meta("r"),
                    )
                    .await
                })
            }
        })
        .await
        .unwrap();
    assert_eq!(
        h.store.token_by_hash("hash-1").await.unwrap(),
        Some(record.clone())
    );
    assert_eq!(h.store.tokens().await.unwrap(), vec![record]);
    let revoked = h
        .store
        .write(|tx| Box::pin(async move { tx.revoke_token("t-1", 5).await }))
        .await
        .unwrap();
    assert!(revoked);
    assert_eq!(
        h.store.token("t-1").await.unwrap().unwrap().revoked_at_us,
        Some(5)
    );
}

async fn a_busy_or_closed_database_is_unavailable_not_an_internal_error(h: &Harness) {
    append_n(&h.store, "s", 1).await;
    assert!(StoreError::Busy { attempts: 5 }.is_unavailable());
    assert!(!StoreError::IdempotencyConflict { key: "k".into() }.is_unavailable());
    h.store.close().await;
    let err = h
        .store
        .append("s", ExpectedVersion::Any, &[event("Late", 2)], &meta("r"))
        .await
        .unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
    let read = h.store.stream_version("s").await.unwrap_err();
    assert!(read.is_unavailable(), "{read:?}");
}

/// The ledger of 2026-12-05 (issue 13's very key): the payment desk's order keys recorded before
/// scopes existed keep answering in the desk's scope, and mean nothing in an establishment's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_recorded_before_scopes_answer_in_the_scope_of_who_used_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("golden.db");
    std::fs::copy("tests/golden/demo-20261205.db", &path).unwrap();
    let clock = care_ledger::clock::FixedClock::at(common::start_instant());
    let store = EventStore::open(path.to_str().unwrap(), std::sync::Arc::new(clock))
        .await
        .unwrap();
    let key = "LOT-D1bis-20270510-001/130004526";
    let stream = "statement/130004526/D1bis";
    let mut tx = store.begin_write().await.unwrap();
    let (first, _) = tx
        .find_idempotency_key(&IdempotencyScope::of(stream, Role::Paiement), key)
        .await
        .unwrap()
        .expect("the desk's key kept its scope");
    assert_eq!(first.stream_id, stream);
    assert!(tx
        .find_idempotency_key(&IdempotencyScope::of(stream, Role::Etablissement), key)
        .await
        .unwrap()
        .is_none());
    tx.rollback().await.unwrap();
    let report = verify(&store, None).await.unwrap();
    assert!(report.is_ok());
}
