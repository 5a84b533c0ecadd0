-- Version 11: messages of shadow-banned users are accepted but never sent
-- to anyone else. NOT NULL is allowed on SQLite's ADD COLUMN because the
-- default is a constant.
ALTER TABLE users ADD COLUMN shadow_banned BOOLEAN NOT NULL DEFAULT FALSE;
