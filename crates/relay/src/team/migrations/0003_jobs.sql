-- Bulk-send jobs run on the team server (team/jobs.rs): every relay process runs a worker that
-- claims rows, so any number of processes share a job and a killed process's work is carried on.

-- One job. The counts live on the job row and move in the same transaction as the rows they
-- count (pending and in_flight too, so "nothing left" is a read of one row). `version` grows on
-- every change of counts or status; watchers compare it. `payload` is the desk's opaque JSON as
-- text (jsonb refuses the \u0000 escape).
CREATE TABLE team_jobs (
    id               bigserial PRIMARY KEY,
    appid            text    NOT NULL,
    kind             text    NOT NULL,
    template_id      text    NOT NULL,
    title            text    NOT NULL,
    purpose          text    NOT NULL,
    payload          text    NOT NULL,
    path             text    NOT NULL,
    status           text    NOT NULL CHECK (status IN
                         ('running', 'paused', 'paused_quota', 'cancelled', 'completed')),
    pause_reason     text,
    concurrency      integer NOT NULL,
    rate_per_sec     integer NOT NULL,
    max_attempts     integer NOT NULL,
    idempotent       boolean NOT NULL,
    created_by       text    NOT NULL,
    created_at       bigint  NOT NULL,
    started_at       bigint,
    finished_at      bigint,
    version          bigint  NOT NULL DEFAULT 1,
    total            bigint  NOT NULL DEFAULT 0,
    pending          bigint  NOT NULL DEFAULT 0,
    in_flight        bigint  NOT NULL DEFAULT 0,
    sent             bigint  NOT NULL DEFAULT 0,
    failed_retryable bigint  NOT NULL DEFAULT 0,
    failed_permanent bigint  NOT NULL DEFAULT 0,
    uncertain        bigint  NOT NULL DEFAULT 0,
    skipped          bigint  NOT NULL DEFAULT 0,
    cancelled        bigint  NOT NULL DEFAULT 0,
    delivered        bigint  NOT NULL DEFAULT 0,
    user_block       bigint  NOT NULL DEFAULT 0,
    system_failed    bigint  NOT NULL DEFAULT 0
);
CREATE INDEX team_jobs_running ON team_jobs (id) WHERE status = 'running';

-- One recipient of a job. `body` is the full JSON WeChat gets (client_msg_id already in it for
-- idempotent jobs, written before any send). `worker` names the process holding an in_flight
-- row; `not_before` (unix ms) delays a retry.
CREATE TABLE team_job_rows (
    job_id        bigint  NOT NULL REFERENCES team_jobs (id) ON DELETE CASCADE,
    seq           integer NOT NULL,
    openid        text    NOT NULL,
    body          text    NOT NULL,
    client_msg_id text,
    state         text    NOT NULL CHECK (state IN ('pending', 'in_flight', 'sent',
                      'failed_retryable', 'failed_permanent', 'uncertain', 'skipped', 'cancelled')),
    attempts      integer NOT NULL DEFAULT 0,
    worker        text,
    not_before    bigint  NOT NULL DEFAULT 0,
    errcode       bigint,
    errmsg        text,
    msgid         bigint,
    -- The TEMPLATESENDJOBFINISH outcome of a sent row: delivered, user_block, system_failed,
    -- unknown (jobs/delivery.rs).
    delivery      text,
    updated_at    bigint  NOT NULL,
    PRIMARY KEY (job_id, seq)
);
CREATE INDEX team_job_rows_pending ON team_job_rows (job_id, seq) WHERE state = 'pending';
CREATE INDEX team_job_rows_in_flight ON team_job_rows (worker) WHERE state = 'in_flight';
CREATE INDEX team_job_rows_msgid ON team_job_rows (msgid) WHERE msgid IS NOT NULL;

-- How far the delivery join has read the event log (one row; locked by the process joining).
CREATE TABLE team_job_delivery_cursor (
    id        integer PRIMARY KEY CHECK (id = 1),
    after_seq bigint  NOT NULL
);
INSERT INTO team_job_delivery_cursor (id, after_seq) VALUES (1, 0);

-- Reports that arrived before their send's result was recorded (or of messages no job sent);
-- matched again on every pass, forgotten after a day.
CREATE TABLE team_job_delivery_orphans (
    appid       text   NOT NULL,
    msgid       bigint NOT NULL,
    status      text   NOT NULL,
    received_at bigint NOT NULL,
    PRIMARY KEY (appid, msgid)
);

-- Live workers, one per relay process; a row whose heartbeat is old is a dead process, and the
-- rows it held become uncertain.
CREATE TABLE team_workers (
    id           text PRIMARY KEY,
    started_at   timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now()
);

-- Per-account send pacing shared by every process: the next free send slot (unix µs, by the
-- database's clock so processes on different hosts agree).
CREATE TABLE team_rates (
    appid   text   PRIMARY KEY,
    next_at bigint NOT NULL
);
