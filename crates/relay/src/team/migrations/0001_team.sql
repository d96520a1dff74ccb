-- Team mode, first schema: members, the token authority's tokens, accounts and the audit log.
-- Secrets are never stored in clear: access and refresh tokens are sealed with the server key
-- (team/seal.rs); member keys are stored as their SHA-256.

CREATE TABLE team_members (
    name       text PRIMARY KEY,
    role       text NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
    key_hash   bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Access tokens (component, authorizer), one row per (kind, appid). `version` grows on every
-- write; a write never replaces a token that expires later than it (an older refresh finishing
-- late cannot overwrite a newer one). `value_hash` lets a 40001 expire exactly the token that
-- failed (compare-and-expire) without opening the sealed value.
CREATE TABLE team_tokens (
    kind       text   NOT NULL,
    appid      text   NOT NULL,
    sealed     text   NOT NULL,
    value_hash bytea  NOT NULL,
    expires_at bigint NOT NULL,
    expires_in bigint NOT NULL,
    version    bigint NOT NULL DEFAULT 1,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, appid)
);

CREATE TABLE team_refresh_tokens (
    appid      text PRIMARY KEY,
    sealed     text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- How often the sim or WeChat was asked for a token, per kind: an operator's view of the
-- authority at work (and what the tests count).
CREATE TABLE team_token_issues (
    kind  text   NOT NULL,
    appid text   NOT NULL,
    at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE team_accounts (
    appid         text PRIMARY KEY,
    authorized    boolean NOT NULL DEFAULT true,
    func_info     jsonb   NOT NULL DEFAULT '[]',
    authorized_at bigint  NOT NULL,
    updated_by    text,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE team_audit (
    id     bigserial PRIMARY KEY,
    at     timestamptz NOT NULL DEFAULT now(),
    member text,
    action text NOT NULL,
    detail jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX team_audit_at ON team_audit (at);

-- Authorization codes redeemed (their SHA-256): WeChat pushes one to every process behind the
-- load balancer's retries and the browser brings it back too, but it redeems only once.
CREATE TABLE team_auth_codes (
    code_hash   bytea PRIMARY KEY,
    appid       text  NOT NULL,
    redeemed_at timestamptz NOT NULL DEFAULT now()
);

-- Which member asked for a pre_auth_code (its SHA-256), so the authorization it leads to is
-- recorded as theirs.
CREATE TABLE team_pre_auth (
    code_hash  bytea PRIMARY KEY,
    member     text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
