-- Version 15: a user reports an event once. Older clients could send the same
-- report twice, so existing rows have duplicates: a built-in background update
-- removes them first (keeping the earliest report, the lowest id), then builds
-- the unique index (concurrently on PostgreSQL). Code that relies on the index
-- (ON CONFLICT (event_id, user_id) upserts) waits for it in its start-up gate.
INSERT INTO strata_background_updates (update_name, progress_json, depends_on, ordering)
VALUES ('event_reports_unique_idx',
        '{"builtin": "index", "index": "event_reports_event_user", "table": "event_reports", "columns": ["event_id", "user_id"], "unique": true, "dedupe_key": "id"}',
        NULL, 1501);
