-- Counts moved by the send path off the job's row (team/jobs/worker.rs). With the counts on
-- `team_jobs`, every claim and every result write of every process updated that one row, so
-- they queued on its lock (held through each COMMIT's WAL flush) and a second relay process
-- added little throughput. Now each process writes deltas into rows of its own — one per lane
-- (`<worker>/claim`, `<worker>/write`, `delivery`), so no two sessions ever wait on the same
-- tally — and a job's counts are its row's plus the sum of its tallies (`team_jobs_now`).
-- Operator actions and the reaper still change the job's own row, under its lock.
CREATE TABLE team_job_tallies (
    job_id           bigint NOT NULL REFERENCES team_jobs (id) ON DELETE CASCADE,
    lane             text   NOT NULL,
    version          bigint NOT NULL DEFAULT 0,
    pending          bigint NOT NULL DEFAULT 0,
    in_flight        bigint NOT NULL DEFAULT 0,
    sent             bigint NOT NULL DEFAULT 0,
    failed_retryable bigint NOT NULL DEFAULT 0,
    failed_permanent bigint NOT NULL DEFAULT 0,
    uncertain        bigint NOT NULL DEFAULT 0,
    cancelled        bigint NOT NULL DEFAULT 0,
    delivered        bigint NOT NULL DEFAULT 0,
    user_block       bigint NOT NULL DEFAULT 0,
    system_failed    bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (job_id, lane)
);

-- A job as every reader sees it: its row with the tallies added. `version` stays monotonic
-- (every part only grows).
CREATE VIEW team_jobs_now AS
SELECT j.id, j.appid, j.kind, j.template_id, j.title, j.purpose, j.payload, j.path, j.status,
       j.pause_reason, j.concurrency, j.rate_per_sec, j.max_attempts, j.idempotent,
       j.created_by, j.created_at, j.started_at, j.finished_at,
       j.version + coalesce(t.version, 0) AS version,
       j.total,
       j.pending + coalesce(t.pending, 0) AS pending,
       j.in_flight + coalesce(t.in_flight, 0) AS in_flight,
       j.sent + coalesce(t.sent, 0) AS sent,
       j.failed_retryable + coalesce(t.failed_retryable, 0) AS failed_retryable,
       j.failed_permanent + coalesce(t.failed_permanent, 0) AS failed_permanent,
       j.uncertain + coalesce(t.uncertain, 0) AS uncertain,
       j.skipped,
       j.cancelled + coalesce(t.cancelled, 0) AS cancelled,
       j.delivered + coalesce(t.delivered, 0) AS delivered,
       j.user_block + coalesce(t.user_block, 0) AS user_block,
       j.system_failed + coalesce(t.system_failed, 0) AS system_failed
  FROM team_jobs j
  LEFT JOIN LATERAL (
       SELECT sum(x.version)::bigint AS version, sum(x.pending)::bigint AS pending,
              sum(x.in_flight)::bigint AS in_flight, sum(x.sent)::bigint AS sent,
              sum(x.failed_retryable)::bigint AS failed_retryable,
              sum(x.failed_permanent)::bigint AS failed_permanent,
              sum(x.uncertain)::bigint AS uncertain, sum(x.cancelled)::bigint AS cancelled,
              sum(x.delivered)::bigint AS delivered, sum(x.user_block)::bigint AS user_block,
              sum(x.system_failed)::bigint AS system_failed
         FROM team_job_tallies x WHERE x.job_id = j.id) t ON true;
