-- 0014: staged batchget answers found by openid.
--
-- A first sync (or a refresh) asks for details while it still lists (`sync::fetch_early`), so
-- when the details phase starts, answers for openids scattered over the whole table are
-- already staged. The details phase passes over them (it looks each of its openids up here)
-- and merges each with the answers of its own openid range, so no merge has to write rows
-- scattered over the whole table; the merges also read their range through this index.
CREATE INDEX follower_sync_fetched_openid ON follower_sync_fetched (appid, run_id, openid);
