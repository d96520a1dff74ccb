-- 0001: platform settings, authorized accounts, the relay cursor, the audit log.
-- Secrets and access tokens never go in here (they live in the keychain / in memory).

CREATE TABLE platform_settings (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    mode            TEXT    NOT NULL CHECK (mode IN ('sandbox', 'production')),
    component_appid TEXT    NOT NULL DEFAULT '',
    relay_url       TEXT    NOT NULL DEFAULT '',
    egress          TEXT    NOT NULL DEFAULT 'direct' CHECK (egress IN ('direct', 'relay')),
    api_base        TEXT    NOT NULL DEFAULT 'https://api.weixin.qq.com',
    updated_at      INTEGER NOT NULL
) STRICT;

CREATE TABLE accounts (
    appid         TEXT    PRIMARY KEY,
    kind          TEXT    NOT NULL CHECK (kind IN ('oa', 'mini')),
    nickname      TEXT    NOT NULL DEFAULT '',
    head_img      TEXT    NOT NULL DEFAULT '',
    user_name     TEXT    NOT NULL DEFAULT '',
    principal     TEXT    NOT NULL DEFAULT '',
    service_type  INTEGER,
    verify_type   INTEGER,
    func_info     TEXT    NOT NULL DEFAULT '[]',
    status        TEXT    NOT NULL CHECK (status IN ('authorized', 'unauthorized', 'needs_reauth')),
    authorized_at INTEGER,
    updated_at    INTEGER NOT NULL
) STRICT;

-- The last relay event sequence number this data dir has applied.
CREATE TABLE relay_cursor (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    last_seq   INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

-- Authorization codes already exchanged, by SHA-1 so the code itself is not kept: the same code
-- arrives twice (browser redirect and the relay's push) and WeChat refuses a second exchange.
CREATE TABLE consumed_auth_codes (
    code_sha1   TEXT    PRIMARY KEY,
    appid       TEXT    NOT NULL,
    consumed_at INTEGER NOT NULL
) STRICT;

-- What happened, for the operator: authorizations, revocations, feed problems.
CREATE TABLE audit_log (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    at     INTEGER NOT NULL,
    kind   TEXT    NOT NULL,
    appid  TEXT,
    detail TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX audit_log_at ON audit_log (at);
