/*
 * Version 11: users can report abusive events to the server admins.
 *
 * Admins work through the unresolved reports, oldest first; resolved ones
 * are never listed again, hence the partial index. event_reports is created
 * in this same version, so its indexes can be built right here; an index
 * on an existing table would have to be a background update instead.
 */
CREATE TABLE event_reports (
    id BIGINT NOT NULL PRIMARY KEY,
    received_ts BIGINT NOT NULL,
    room_id TEXT NOT NULL REFERENCES rooms (room_id),
    event_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (name),
    reason TEXT,
    content TEXT,
    resolved_ts BIGINT,
    resolved_by TEXT
);

CREATE INDEX event_reports_unresolved_idx ON event_reports (received_ts)
    WHERE resolved_ts IS NULL;

CREATE INDEX event_reports_room_idx ON event_reports (room_id, received_ts);
