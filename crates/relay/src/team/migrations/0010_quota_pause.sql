-- When a job was paused for the account's daily quota (45009): the server resumes it after the
-- next midnight Beijing time, when WeChat's daily quotas reset (team/jobs/worker.rs), as a
-- desk's engine does for its own jobs.
ALTER TABLE team_jobs ADD COLUMN paused_at bigint;
-- Jobs already paused count from now: at worst they wait one day longer than needed, never
-- spend calls on a quota that has not reset.
UPDATE team_jobs SET paused_at = extract(epoch FROM now())::bigint WHERE status = 'paused_quota';
