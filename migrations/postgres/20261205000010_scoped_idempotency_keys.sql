-- Idempotency keys scoped to who may use them (issue 13, item 4): a key is looked up and recorded
-- under (scope, key), so an establishment's key never meets another party's. The scope is the role,
-- and for an establishment the role and the stream it writes (which belongs to its one candidate):
-- `store::IdempotencyScope::of` is the rule; the copy below gives the keys recorded before this table
-- the scope that rule gives them. The old table stays as it was (append-only), read by nothing.
CREATE TABLE idempotency_scoped_keys (
    scope             TEXT    NOT NULL,
    idempotency_key   TEXT    NOT NULL,
    stream_id         TEXT    NOT NULL,
    request_hash      TEXT    NOT NULL,
    first_position    BIGINT  NOT NULL,
    last_position     BIGINT  NOT NULL,
    first_version     BIGINT  NOT NULL,
    last_version      BIGINT  NOT NULL,
    recorded_at_us    BIGINT  NOT NULL,
    PRIMARY KEY (scope, idempotency_key)
);

INSERT INTO idempotency_scoped_keys (scope, idempotency_key, stream_id, request_hash,
    first_position, last_position, first_version, last_version, recorded_at_us)
SELECT CASE WHEN e.role = 'etablissement' THEN e.role || ':' || k.stream_id ELSE e.role END,
       k.idempotency_key, k.stream_id, k.request_hash, k.first_position, k.last_position,
       k.first_version, k.last_version, k.recorded_at_us
FROM idempotency_keys k JOIN events e ON e.position = k.first_position;

CREATE TRIGGER idempotency_scoped_refuse_update_delete BEFORE UPDATE OR DELETE ON idempotency_scoped_keys
    FOR EACH ROW EXECUTE FUNCTION care_ledger_refuse_change();
CREATE TRIGGER idempotency_scoped_refuse_truncate BEFORE TRUNCATE ON idempotency_scoped_keys
    FOR EACH STATEMENT EXECUTE FUNCTION care_ledger_refuse_change();
