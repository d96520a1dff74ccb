-- 0002: templates, followers and tags, the follower-sync checkpoint, recipient lists (名单).

-- The account's private templates as last synced (get_all_private_template), plus local-only
-- columns (alias, note, const_values) that a sync never overwrites.
CREATE TABLE templates (
    appid            TEXT    NOT NULL,
    template_id      TEXT    NOT NULL,
    title            TEXT    NOT NULL DEFAULT '',
    primary_industry TEXT    NOT NULL DEFAULT '',
    deputy_industry  TEXT    NOT NULL DEFAULT '',
    content          TEXT    NOT NULL DEFAULT '',
    example          TEXT    NOT NULL DEFAULT '',
    alias            TEXT    NOT NULL DEFAULT '',
    note             TEXT    NOT NULL DEFAULT '',
    -- JSON object: keyword key -> the approved values of a const/enum keyword, entered locally.
    const_values     TEXT    NOT NULL DEFAULT '{}',
    synced_at        INTEGER NOT NULL,
    PRIMARY KEY (appid, template_id)
) STRICT;

-- Followers of each official account. Clustered by (appid, openid) for keyset pages.
-- seen_run / info_run: the follower-sync run that last listed the openid / fetched its details.
CREATE TABLE followers (
    appid           TEXT    NOT NULL,
    openid          TEXT    NOT NULL,
    unionid         TEXT,
    subscribe       INTEGER NOT NULL DEFAULT 1 CHECK (subscribe IN (0, 1)),
    subscribe_time  INTEGER,
    remark          TEXT    NOT NULL DEFAULT '',
    tagid_list      TEXT    NOT NULL DEFAULT '[]',
    language        TEXT    NOT NULL DEFAULT '',
    subscribe_scene TEXT    NOT NULL DEFAULT '',
    seen_run        INTEGER NOT NULL DEFAULT 0,
    info_run        INTEGER NOT NULL DEFAULT 0,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (appid, openid)
) STRICT, WITHOUT ROWID;
CREATE INDEX followers_unionid ON followers (appid, unionid) WHERE unionid IS NOT NULL;
CREATE INDEX followers_remark ON followers (appid, remark) WHERE remark <> '';
CREATE INDEX followers_subscribe_time ON followers (appid, subscribe_time);
-- Details still to fetch in a sync run are found through this instead of a full scan.
CREATE INDEX followers_info_run ON followers (appid, info_run, openid);

-- tagid_list exploded, so "followers with tag N" is an index range.
CREATE TABLE follower_tags (
    appid  TEXT    NOT NULL,
    tag_id INTEGER NOT NULL,
    openid TEXT    NOT NULL,
    PRIMARY KEY (appid, tag_id, openid)
) STRICT, WITHOUT ROWID;
-- A follower's tags are replaced when its details are fetched again.
CREATE INDEX follower_tags_openid ON follower_tags (appid, openid);

CREATE TABLE tags (
    appid     TEXT    NOT NULL,
    tag_id    INTEGER NOT NULL,
    name      TEXT    NOT NULL,
    count     INTEGER NOT NULL DEFAULT 0,
    synced_at INTEGER NOT NULL,
    PRIMARY KEY (appid, tag_id)
) STRICT;

-- Where a follower sync stands, so a restart continues instead of starting over.
CREATE TABLE follower_sync (
    appid         TEXT    PRIMARY KEY,
    run_id        INTEGER NOT NULL,
    phase         TEXT    NOT NULL CHECK (phase IN ('listing', 'details', 'done')),
    refresh_all   INTEGER NOT NULL DEFAULT 0 CHECK (refresh_all IN (0, 1)),
    next_openid   TEXT    NOT NULL DEFAULT '',
    total         INTEGER NOT NULL DEFAULT 0,
    listed        INTEGER NOT NULL DEFAULT 0,
    -- What this run changed so far (kept across a resume).
    added         INTEGER NOT NULL DEFAULT 0,
    resubscribed  INTEGER NOT NULL DEFAULT 0,
    unsubscribed  INTEGER NOT NULL DEFAULT 0,
    started_at    INTEGER NOT NULL,
    finished_at   INTEGER,
    updated_at    INTEGER NOT NULL
) STRICT;

-- Saved recipient lists (名单) and their members with per-recipient mail-merge variables.
CREATE TABLE recipient_lists (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    appid      TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    source     TEXT    NOT NULL,
    -- JSON array of the variable names every member's vars object has.
    variables  TEXT    NOT NULL DEFAULT '[]',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (appid, name)
) STRICT;

CREATE TABLE list_members (
    list_id INTEGER NOT NULL REFERENCES recipient_lists (id) ON DELETE CASCADE,
    openid  TEXT    NOT NULL,
    -- JSON object variable -> value; '{}' when the list has no variables.
    vars    TEXT    NOT NULL DEFAULT '{}',
    PRIMARY KEY (list_id, openid)
) STRICT, WITHOUT ROWID;
