-- Version 13: the room directory sorts rooms by their last activity.
-- Computing it means scanning events per room, which is only cheap once the
-- (room_id, origin_server_ts) index of version 12 exists: the backfill is a
-- background update that waits for that index build to complete.
ALTER TABLE rooms ADD COLUMN last_activity_ts BIGINT;

INSERT INTO strata_background_updates (update_name, progress_json, depends_on, ordering) VALUES ('rooms_last_activity_ts_backfill', '{}', 'events_origin_ts_idx', 1301);
