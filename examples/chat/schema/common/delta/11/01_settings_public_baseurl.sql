/*
 * Version 11: record the public base URL and the notice shown at registration.
 * Both values carry ';' and '--' inside string literals (and this comment
 * has a ; too): a statement splitter must neither cut nor strip them.
 */
INSERT INTO instance_settings (setting_name, setting_value, updated_ts)
    VALUES ('public_baseurl', 'https://chat.example.org/_matrix;v=1', 0)
    ON CONFLICT (setting_name) DO UPDATE SET setting_value = excluded.setting_value;

INSERT INTO instance_settings (setting_name, setting_value, updated_ts)
    VALUES ('registration_notice', 'Welcome -- read http://x;y first; it''s short', 0)
    ON CONFLICT (setting_name) DO NOTHING;
