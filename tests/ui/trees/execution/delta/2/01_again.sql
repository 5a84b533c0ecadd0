-- a column that already exists
ALTER TABLE events ADD COLUMN id BIGINT;
