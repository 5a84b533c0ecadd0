-- Version 14: per-user overrides of the message rate limit (NULL = default).
-- Server admins start exempt (0 = unlimited).
CREATE TABLE ratelimit_override (
    user_id TEXT NOT NULL PRIMARY KEY REFERENCES users (name),
    messages_per_second BIGINT,
    burst_count BIGINT,
    updated_ts BIGINT NOT NULL DEFAULT 0
);

-- The WHERE clause also keeps SQLite from reading ON CONFLICT as a join
-- constraint of the SELECT.
INSERT INTO ratelimit_override (user_id, messages_per_second, burst_count)
    SELECT name, 0, 0 FROM users WHERE admin = TRUE
    ON CONFLICT (user_id) DO NOTHING;
