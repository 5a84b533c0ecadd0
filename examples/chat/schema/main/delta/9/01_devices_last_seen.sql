-- Version 9 (old, already inside snapshot 10): devices remember when they
-- were last seen, backfilled from the newest use of one of their tokens.
ALTER TABLE devices ADD COLUMN last_seen_ts BIGINT;

UPDATE devices SET last_seen_ts = (
    SELECT MAX(t.last_validated_ts) FROM access_tokens t
    WHERE t.user_id = devices.user_id AND t.device_id = devices.device_id
);
