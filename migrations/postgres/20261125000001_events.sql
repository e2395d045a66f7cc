-- The ledger: one row per event, append-only (SPEC.md §4).
CREATE TABLE events (
    position          BIGINT  PRIMARY KEY,           -- global order, contiguous from 1
    stream_id         TEXT    NOT NULL,
    stream_version    BIGINT  NOT NULL,              -- contiguous from 1 within the stream
    event_type        TEXT    NOT NULL,
    schema_version    INTEGER NOT NULL,
    payload           TEXT    NOT NULL,              -- canonical JSON (sorted keys), hashed as text
    actor             TEXT    NOT NULL,
    role              TEXT    NOT NULL,
    request_id        TEXT    NOT NULL,
    idempotency_key   TEXT,
    comment           TEXT,
    recorded_at_us    BIGINT  NOT NULL,              -- UTC, microseconds since the Unix epoch
    prev_hash         TEXT    NOT NULL,
    hash              TEXT    NOT NULL,
    global_prev_hash  TEXT    NOT NULL,
    global_hash       TEXT    NOT NULL,
    CHECK (actor <> '' AND role <> ''),
    CHECK (stream_version >= 1 AND position >= 1)
);
CREATE UNIQUE INDEX events_stream_version ON events (stream_id, stream_version);
CREATE INDEX events_stream_recorded ON events (stream_id, recorded_at_us);

CREATE TABLE idempotency_keys (
    idempotency_key   TEXT PRIMARY KEY,
    stream_id         TEXT    NOT NULL,
    request_hash      TEXT    NOT NULL,
    first_position    BIGINT  NOT NULL,
    last_position     BIGINT  NOT NULL,
    first_version     BIGINT  NOT NULL,
    last_version      BIGINT  NOT NULL,
    recorded_at_us    BIGINT  NOT NULL
);

CREATE FUNCTION care_ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'care-ledger: % is append-only (% refused)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER events_refuse_update_delete BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION care_ledger_refuse_change();
CREATE TRIGGER events_refuse_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION care_ledger_refuse_change();
CREATE TRIGGER idempotency_refuse_update_delete BEFORE UPDATE OR DELETE ON idempotency_keys
    FOR EACH ROW EXECUTE FUNCTION care_ledger_refuse_change();
CREATE TRIGGER idempotency_refuse_truncate BEFORE TRUNCATE ON idempotency_keys
    FOR EACH STATEMENT EXECUTE FUNCTION care_ledger_refuse_change();
