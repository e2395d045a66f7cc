-- API bearer tokens: credentials, not ledger facts (their creation and revocation are also events on
-- the stream `tokens`, without the secret or its hash). Only the SHA-256 of a token is stored.
CREATE TABLE api_tokens (
    id             TEXT PRIMARY KEY NOT NULL,
    token_hash     TEXT    NOT NULL UNIQUE,   -- SHA-256 (hex) of the whole token string
    role           TEXT    NOT NULL,
    candidate      TEXT,                      -- FINESS, for role etablissement only
    label          TEXT    NOT NULL,
    created_by     TEXT    NOT NULL,
    created_at_us  INTEGER NOT NULL,
    revoked_at_us  INTEGER,
    CHECK ((role = 'etablissement') = (candidate IS NOT NULL))
);
