-- 0003: the send engine's durable jobs, one row per recipient (which is also the send history),
-- per-day outcome counts for the overview chart, and delivery reports that arrived before the
-- send that caused them was recorded.
-- Times are unix seconds (`*_at`), except `next_at` (milliseconds, for sub-second backoff).

CREATE TABLE send_jobs (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    appid          TEXT    NOT NULL,
    kind           TEXT    NOT NULL CHECK (kind IN
                       ('template', 'custom_text', 'custom_news', 'custom_mini', 'subscribe', 'uniform')),
    template_id    TEXT    NOT NULL DEFAULT '',
    title          TEXT    NOT NULL DEFAULT '',
    -- The message with `{{变量}}` placeholders, as JSON (send::Payload).
    payload        TEXT    NOT NULL,
    -- Random per job: part of every client_msg_id so two data dirs never collide.
    nonce          TEXT    NOT NULL,
    status         TEXT    NOT NULL CHECK (status IN
                       ('draft', 'running', 'paused', 'paused_quota', 'cancelled', 'completed')),
    -- Why the engine paused it (zh-CN), empty when the operator did or when not paused.
    pause_reason   TEXT    NOT NULL DEFAULT '',
    concurrency    INTEGER NOT NULL CHECK (concurrency > 0),
    rate_per_sec   INTEGER NOT NULL CHECK (rate_per_sec > 0),
    max_attempts   INTEGER NOT NULL CHECK (max_attempts > 0),
    copied_from    INTEGER,
    -- Counters kept in the same transactions that move recipient rows.
    total          INTEGER NOT NULL DEFAULT 0,
    sent           INTEGER NOT NULL DEFAULT 0,
    failed_retryable INTEGER NOT NULL DEFAULT 0,
    failed_permanent INTEGER NOT NULL DEFAULT 0,
    uncertain      INTEGER NOT NULL DEFAULT 0,
    skipped        INTEGER NOT NULL DEFAULT 0,
    cancelled      INTEGER NOT NULL DEFAULT 0,
    delivered      INTEGER NOT NULL DEFAULT 0,
    user_block     INTEGER NOT NULL DEFAULT 0,
    system_failed  INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    started_at     INTEGER,
    finished_at    INTEGER,
    updated_at     INTEGER NOT NULL
) STRICT;
CREATE INDEX send_jobs_appid_created ON send_jobs (appid, created_at DESC);
CREATE INDEX send_jobs_status ON send_jobs (status);

-- One row per recipient of a job: its whole life, and the history record. appid, kind and
-- template_id are copied from the job so history filters use one table's indexes.
CREATE TABLE send_recipients (
    id            INTEGER PRIMARY KEY,
    job_id        INTEGER NOT NULL REFERENCES send_jobs (id) ON DELETE CASCADE,
    seq           INTEGER NOT NULL,
    appid         TEXT    NOT NULL,
    kind          TEXT    NOT NULL,
    template_id   TEXT    NOT NULL DEFAULT '',
    openid        TEXT    NOT NULL,
    vars          TEXT    NOT NULL DEFAULT '{}',
    state         TEXT    NOT NULL CHECK (state IN
                      ('pending', 'in_flight', 'sent', 'failed_retryable', 'failed_permanent',
                       'uncertain', 'skipped', 'cancelled')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_at       INTEGER NOT NULL DEFAULT 0,
    msgid         INTEGER,
    errcode       INTEGER,
    errmsg        TEXT,
    -- The last response as received (errcode/errmsg/msgid JSON, or the transport error); never
    -- a token (tokens travel in the URL, which is not kept).
    response      TEXT,
    delivery      TEXT CHECK (delivery IS NULL OR delivery IN
                      ('pending', 'delivered', 'user_block', 'system_failed', 'unknown')),
    delivery_raw  TEXT,
    delivered_at  INTEGER,
    created_at    INTEGER NOT NULL,
    attempted_at  INTEGER,
    done_at       INTEGER,
    UNIQUE (job_id, seq)
) STRICT;
-- The claim query: a job's pending rows whose backoff has passed, oldest first.
CREATE INDEX send_recipients_claim ON send_recipients (job_id, next_at, seq) WHERE state = 'pending';
CREATE INDEX send_recipients_job_state ON send_recipients (job_id, state);
-- History filters; each index ends in the rowid, so `ORDER BY id DESC` walks it backwards
-- (keyset pagination, never OFFSET).
CREATE INDEX send_recipients_appid ON send_recipients (appid);
CREATE INDEX send_recipients_template ON send_recipients (template_id);
CREATE INDEX send_recipients_state ON send_recipients (state);
CREATE INDEX send_recipients_openid ON send_recipients (openid);
CREATE INDEX send_recipients_created ON send_recipients (created_at);
CREATE INDEX send_recipients_msgid ON send_recipients (msgid) WHERE msgid IS NOT NULL;
CREATE INDEX send_recipients_delivery ON send_recipients (delivery) WHERE delivery IS NOT NULL;

-- Outcomes per Beijing-time day and account, kept with the rows so the overview chart reads a
-- few dozen rows instead of scanning a million.
CREATE TABLE send_daily (
    day     TEXT    NOT NULL,
    appid   TEXT    NOT NULL,
    outcome TEXT    NOT NULL,
    n       INTEGER NOT NULL,
    PRIMARY KEY (day, appid, outcome)
) STRICT, WITHOUT ROWID;

-- TEMPLATESENDJOBFINISH reports whose msgid no row carries yet: the push can overtake the batch
-- commit of the send. Applied (and removed) when the send is recorded.
CREATE TABLE send_delivery_orphans (
    appid       TEXT    NOT NULL,
    msgid       INTEGER NOT NULL,
    status      TEXT    NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (appid, msgid)
) STRICT, WITHOUT ROWID;
