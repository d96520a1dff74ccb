-- 0006: staging tables for the follower sync.
--
-- user/get lists openids in WeChat's order and batchget answers come back in chunks of 100; a
-- million of them written one by one into `followers` (clustered by openid, five indexes) dirty
-- nearly every B-tree page on every commit. Each page or batch is instead appended here, in the
-- same transaction as the sync's checkpoint (cheap, sequential, durable), and merged into
-- `followers` and `follower_tags` a few hundred thousand rows at a time in openid order. Rows
-- live here only between a checkpoint and the next merge; a crash in between leaves them for
-- the resume to merge.

-- Openids listed by user/get in run `run_id`, not yet merged into `followers`.
CREATE TABLE follower_sync_listed (
    appid  TEXT    NOT NULL,
    run_id INTEGER NOT NULL,
    openid TEXT    NOT NULL
) STRICT;

-- batchget answers of run `run_id`, not yet merged. `state`: 1 following (with details),
-- 0 batchget says not following, 2 WeChat refused the openid as invalid (40003).
CREATE TABLE follower_sync_fetched (
    appid           TEXT    NOT NULL,
    run_id          INTEGER NOT NULL,
    openid          TEXT    NOT NULL,
    state           INTEGER NOT NULL CHECK (state IN (0, 1, 2)),
    unionid         TEXT,
    subscribe_time  INTEGER,
    remark          TEXT    NOT NULL DEFAULT '',
    tagid_list      TEXT    NOT NULL DEFAULT '[]',
    language        TEXT    NOT NULL DEFAULT '',
    subscribe_scene TEXT    NOT NULL DEFAULT '',
    fetched_at      INTEGER NOT NULL
) STRICT;
