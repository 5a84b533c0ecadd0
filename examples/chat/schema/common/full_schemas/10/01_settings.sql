-- common, full schema at version 10 (both engines).
-- Every physical database gets this table, whichever stores it hosts.
CREATE TABLE instance_settings (
    setting_name TEXT NOT NULL PRIMARY KEY,
    setting_value TEXT NOT NULL,
    updated_ts BIGINT NOT NULL DEFAULT 0
);

-- Seed row the server reads at startup to recognise its own databases.
INSERT INTO instance_settings (setting_name, setting_value, updated_ts)
    VALUES ('server_name', 'chat.example.org', 0);
