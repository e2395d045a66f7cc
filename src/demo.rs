//! `care-ledger demo`: the main job on the embedded default. A fresh SQLite ledger under the output
//! folder, a pinned clock, sample events appended and the whole ledger verified.

use crate::actor::{Actor, Role};
use crate::clock::{paris_noon, FixedClock};
use crate::store::checkpoint::Checkpoint;
use crate::store::verify::verify;
use crate::store::{EventMetadata, EventStore, ExpectedVersion, NewEvent};
use anyhow::Context;
use chrono::NaiveDate;
use serde_json::json;
use std::path::Path;
use std::sync::Arc;

/// The demo's pinned date: every figure it prints is the same on any day.
pub const DEMO_DATE: (i32, u32, u32) = (2027, 3, 15);
/// The demo's checkpoint key (a demo value, never a production secret).
pub const DEMO_CHECKPOINT_KEY: &[u8] = b"demo-checkpoint-key-not-for-production";

pub async fn run(out: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let db = out.join("demo.db");
    for suffix in ["", "-wal", "-shm"] {
        let path = format!("{}{suffix}", db.display());
        if Path::new(&path).exists() {
            std::fs::remove_file(&path).with_context(|| format!("cannot remove {path}"))?;
        }
    }
    let (y, m, d) = DEMO_DATE;
    let date = NaiveDate::from_ymd_opt(y, m, d).context("demo date")?;
    let clock = FixedClock::at(paris_noon(date));
    let store = EventStore::open(&db.to_string_lossy(), Arc::new(clock.clone())).await?;
    let admin = Actor::new(Role::Admin, "demo")?;
    store
        .append(
            "catalogue",
            ExpectedVersion::Exact(0),
            &[NewEvent::new(
                "CatalogueLoaded",
                1,
                json!({ "domains": ["D1bis", "D2"] }),
            )],
            &EventMetadata::new(&admin, "demo-1"),
        )
        .await?;
    let report = verify(&store, None).await?;
    let checkpoint = Checkpoint::take(&store, DEMO_CHECKPOINT_KEY).await?;
    crate::cli::write_new_file(
        &out.join("checkpoint.json"),
        checkpoint.to_json().as_bytes(),
    )?;
    println!(
        "Registre de démonstration : {} ({} événements, tête {})",
        db.display(),
        report.events_checked,
        report.head_hash
    );
    store.close().await;
    Ok(())
}
