-- The ledger: one row per event, append-only (SPEC.md §4).
CREATE TABLE events (
    position          INTEGER PRIMARY KEY NOT NULL,  -- global order, contiguous from 1
    stream_id         TEXT    NOT NULL,
    stream_version    INTEGER NOT NULL,              -- contiguous from 1 within the stream
    event_type        TEXT    NOT NULL,
    schema_version    INTEGER NOT NULL,
    payload           TEXT    NOT NULL,              -- canonical JSON (sorted keys)
    actor             TEXT    NOT NULL,
    role              TEXT    NOT NULL,
    request_id        TEXT    NOT NULL,
    idempotency_key   TEXT,
    comment           TEXT,
    recorded_at_us    INTEGER NOT NULL,              -- UTC, microseconds since the Unix epoch
    prev_hash         TEXT    NOT NULL,
    hash              TEXT    NOT NULL,
    global_prev_hash  TEXT    NOT NULL,
    global_hash       TEXT    NOT NULL,
    CHECK (actor <> '' AND role <> ''),
    CHECK (stream_version >= 1 AND position >= 1)
);
CREATE UNIQUE INDEX events_stream_version ON events (stream_id, stream_version);
CREATE INDEX events_stream_recorded ON events (stream_id, recorded_at_us);

-- Idempotency keys: the first request's fingerprint and result; append-only as well.
CREATE TABLE idempotency_keys (
    idempotency_key   TEXT PRIMARY KEY NOT NULL,
    stream_id         TEXT    NOT NULL,
    request_hash      TEXT    NOT NULL,
    first_position    INTEGER NOT NULL,
    last_position     INTEGER NOT NULL,
    first_version     INTEGER NOT NULL,
    last_version      INTEGER NOT NULL,
    recorded_at_us    INTEGER NOT NULL
);

CREATE TRIGGER events_refuse_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'care-ledger: events are append-only (UPDATE refused)'); END;
CREATE TRIGGER events_refuse_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'care-ledger: events are append-only (DELETE refused)'); END;
CREATE TRIGGER idempotency_refuse_update BEFORE UPDATE ON idempotency_keys
BEGIN SELECT RAISE(ABORT, 'care-ledger: idempotency keys are append-only (UPDATE refused)'); END;
CREATE TRIGGER idempotency_refuse_delete BEFORE DELETE ON idempotency_keys
BEGIN SELECT RAISE(ABORT, 'care-ledger: idempotency keys are append-only (DELETE refused)'); END;
