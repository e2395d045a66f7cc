-- Supporting documents (pièces justificatives, SPEC.md §7): file contents by SHA-256, stored once per
-- content. Which document justifies what is an event of the statement (DocumentAttached); this table only
-- keeps the bytes. Append-only like the events: a replaced document stays on file.
CREATE TABLE documents (
    sha256         TEXT    PRIMARY KEY,            -- hex, lower case, of content
    media_type     TEXT    NOT NULL,               -- MIME type of the first upload
    size_bytes     BIGINT  NOT NULL,
    content        BYTEA   NOT NULL,
    stored_at_us   BIGINT  NOT NULL,               -- UTC, microseconds since the Unix epoch
    CHECK (length(sha256) = 64 AND size_bytes = octet_length(content) AND size_bytes > 0)
);

CREATE TRIGGER documents_refuse_update_delete BEFORE UPDATE OR DELETE ON documents
    FOR EACH ROW EXECUTE FUNCTION care_ledger_refuse_change();
CREATE TRIGGER documents_refuse_truncate BEFORE TRUNCATE ON documents
    FOR EACH STATEMENT EXECUTE FUNCTION care_ledger_refuse_change();
