-- 发送记录 on the team server (team/history.rs): the per-day outcomes of 概览 read the rows of a
-- date window, and a search by recipient looks one openid up across jobs.
CREATE INDEX team_job_rows_updated ON team_job_rows (updated_at);
CREATE INDEX team_job_rows_openid ON team_job_rows (openid);
