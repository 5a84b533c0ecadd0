-- Version 12: /timestamp_to_event looks events up by (room_id, origin_server_ts).
-- events is one of the largest tables, so the index is not built here: the
-- background updater builds it (concurrently on PostgreSQL). It is a built-in
-- update, described in progress_json, so no application handler is needed.
INSERT INTO strata_background_updates (update_name, progress_json, depends_on, ordering)
VALUES ('events_origin_ts_idx',
        '{"builtin": "index", "index": "events_room_origin_ts", "table": "events", "columns": ["room_id", "origin_server_ts"]}',
        NULL, 1201);
