-- 0012: the platform (component appid) each account was authorized under. An account belongs to
-- one third-party platform: its refresh token means nothing to another, and the sandbox's
-- simulated accounts mean nothing to WeChat (a sandbox account used in production got 40013).
-- Existing rows take the current platform's appid here; the Rust step that follows this file
-- (migrate::FIXUPS) gives the sandbox's simulated accounts the sandbox's appid.
ALTER TABLE accounts ADD COLUMN component_appid TEXT NOT NULL DEFAULT '';
UPDATE accounts
SET component_appid = coalesce((SELECT component_appid FROM platform_settings WHERE id = 1), '');
CREATE INDEX accounts_component_appid ON accounts (component_appid);
