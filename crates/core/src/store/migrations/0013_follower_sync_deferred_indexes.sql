-- 0013: the `followers` indexes a large follower sync drops for its details phase and builds
-- again once at its end (audience::db::deferred). Their keys (unionid, subscribe_time, remark)
-- arrive in random order while the details are merged in openid order: maintained row by row,
-- every merge of a million-follower sync rewrote nearly every page of both big indexes.
-- Each row is an index's own CREATE statement as sqlite_master held it when it was dropped, so
-- the rebuild gives back exactly what the migrations made. A row here means the index is
-- missing (dropped in the same transaction as the row was written); queries are still correct
-- without it, only slower. A migration that changes one of these indexes must first run the
-- statements saved here and empty the table.
CREATE TABLE follower_sync_deferred_indexes (
    name TEXT PRIMARY KEY,
    sql  TEXT NOT NULL
) STRICT;
