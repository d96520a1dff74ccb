-- 0008: mini-program code management. A rollout (批量发版) takes one template to many clients'
-- mini programs: the job and one row per mini program are written before anything is sent to
-- WeChat, and each row moves through its state machine (pending → committing → committed →
-- submitting → auditing [→ audit_delayed] → audit_passed → releasing → released; or
-- audit_failed / failed / cancelled). The `-ing` states are written before the call they name, so
-- a restart knows the call may have reached WeChat and checks before repeating it.
CREATE TABLE code_rollouts (
    id           INTEGER PRIMARY KEY,
    template_id  INTEGER NOT NULL,
    user_version TEXT    NOT NULL,
    user_desc    TEXT    NOT NULL,
    -- committed | audited | released: how far each mini program is taken.
    target       TEXT    NOT NULL,
    -- The submit_audit body sent for every mini program (JSON object).
    audit_json   TEXT    NOT NULL,
    -- draft | running | paused | cancelled | completed
    status       TEXT    NOT NULL,
    -- Why it is paused: operator | audit_quota | interrupted | error (NULL when not paused).
    pause_code   TEXT,
    pause_detail TEXT    NOT NULL DEFAULT '',
    -- The client table's file name, or empty.
    source       TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    finished_at  INTEGER
) STRICT;

CREATE TABLE code_rollout_rows (
    rollout_id   INTEGER NOT NULL REFERENCES code_rollouts (id) ON DELETE CASCADE,
    appid        TEXT    NOT NULL,
    -- Line of the client table (0 when given directly).
    line         INTEGER NOT NULL,
    -- The ext.json committed for this client (no secret: merchant configuration).
    ext_json     TEXT    NOT NULL,
    state        TEXT    NOT NULL,
    auditid      INTEGER,
    -- When submit_audit was about to be called (unix s): an audit push older than this is
    -- about an earlier audit.
    submitted_at INTEGER,
    -- Rejection or delay reason and screenshot media ids, from a push or get_auditstatus.
    reason       TEXT,
    screenshot   TEXT,
    -- The last failure (Chinese, no secrets) and WeChat's errcode.
    error        TEXT,
    errcode      INTEGER,
    attempts     INTEGER NOT NULL DEFAULT 0,
    -- Not before this (unix ms): retry backoff and the audit polling schedule.
    next_at      INTEGER NOT NULL DEFAULT 0,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (rollout_id, appid)
) STRICT;
-- The feed finds the rows an audit push is about by appid.
CREATE INDEX code_rollout_rows_appid ON code_rollout_rows (appid, state);

-- Audit pushes (weapp_audit_success / _fail / _delay) as the relay feed delivered them.
CREATE TABLE code_audit_events (
    -- The relay's sequence number: applying an event twice records it once.
    seq         INTEGER PRIMARY KEY,
    appid       TEXT    NOT NULL,
    -- success | fail | delay
    event       TEXT    NOT NULL,
    -- SuccTime / FailTime / DelayTime (unix s, WeChat's clock).
    at          INTEGER NOT NULL,
    reason      TEXT,
    screenshot  TEXT,
    received_at INTEGER NOT NULL
) STRICT;
CREATE INDEX code_audit_events_appid ON code_audit_events (appid, seq);
