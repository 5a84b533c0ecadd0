-- Version 13: settings get a human-readable description for the admin API.
ALTER TABLE instance_settings ADD COLUMN description TEXT;

-- The last statement of this file deliberately has no trailing semicolon.
UPDATE instance_settings
    SET description = 'Base URL handed to clients; no trailing slash -- see the docs'
    WHERE setting_name = 'public_baseurl'
