-- Version 10 (old, already inside snapshot 10): the current membership of
-- every user in every room, one row per (room, user).
CREATE TABLE room_memberships (
    room_id TEXT NOT NULL REFERENCES rooms (room_id),
    user_id TEXT NOT NULL REFERENCES users (name),
    event_id TEXT NOT NULL,
    sender TEXT NOT NULL,
    membership TEXT NOT NULL,
    stream_ordering BIGINT NOT NULL,
    PRIMARY KEY (room_id, user_id)
);

-- The table is new in this version, so a plain index is fine here.
CREATE INDEX room_memberships_user_idx ON room_memberships (user_id, membership);
