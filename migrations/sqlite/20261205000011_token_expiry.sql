-- Tokens can expire (issue 13, hardening): after this instant (UTC, microseconds since the Unix epoch)
-- the token is refused. NULL: it does not expire (every token created before this column).
ALTER TABLE api_tokens ADD COLUMN expires_at_us INTEGER;
