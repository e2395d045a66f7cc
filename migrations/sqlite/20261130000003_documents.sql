-- Supporting documents (pièces justificatives, SPEC.md §7): file contents by SHA-256, stored once per
-- content. Which document justifies what is an event of the statement (DocumentAttached); this table only
-- keeps the bytes. Append-only like the events: a replaced document stays on file.
CREATE TABLE documents (
    sha256         TEXT    PRIMARY KEY NOT NULL,   -- hex, lower case, of content
    media_type     TEXT    NOT NULL,               -- MIME type of the first upload
    size_bytes     INTEGER NOT NULL,
    content        BLOB    NOT NULL,
    stored_at_us   INTEGER NOT NULL,               -- UTC, microseconds since the Unix epoch
    CHECK (length(sha256) = 64 AND size_bytes = length(content) AND size_bytes > 0)
);

CREATE TRIGGER documents_refuse_update BEFORE UPDATE ON documents
BEGIN SELECT RAISE(ABORT, 'care-ledger: documents are append-only (UPDATE refused)'); END;
CREATE TRIGGER documents_refuse_delete BEFORE DELETE ON documents
BEGIN SELECT RAISE(ABORT, 'care-ledger: documents are append-only (DELETE refused)'); END;
