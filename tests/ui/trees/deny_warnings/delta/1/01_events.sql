CREATE TABLE events (id BIGINT PRIMARY KEY, origin_ts INT);
