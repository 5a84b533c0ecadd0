-- Version 12: /timestamp_to_event looks events up by (room_id, origin_server_ts).
-- events is one of the largest tables, so the index is not built here: the
-- background updater builds it (concurrently on PostgreSQL).
INSERT INTO strata_background_updates (update_name, progress_json, depends_on, ordering) VALUES ('events_origin_ts_idx', '{}', NULL, 1201);
