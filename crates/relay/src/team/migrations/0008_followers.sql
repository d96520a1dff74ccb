-- 用户与标签 of the shared workspace (team/followers.rs). A desk syncs an account's followers
-- from WeChat (through the server, which adds the token) and publishes what it synced here; every
-- desk reads the same followers and tags, and the server keeps them current from the team's
-- event log (follow / unfollow) by a cursor pass, whether or not a desk is running.
CREATE TABLE team_followers (
    appid           text     NOT NULL,
    openid          text     COLLATE "C" NOT NULL,
    unionid         text,
    subscribed      boolean  NOT NULL,
    subscribe_time  bigint,
    remark          text     NOT NULL DEFAULT '',
    tagids          bigint[] NOT NULL DEFAULT '{}',
    language        text     NOT NULL DEFAULT '',
    subscribe_scene text     NOT NULL DEFAULT '',
    has_details     boolean  NOT NULL DEFAULT false,
    -- Which publication last wrote the row: rows an account's newest publication did not carry
    -- are no longer following.
    published       bigint   NOT NULL DEFAULT 0,
    updated_at      bigint   NOT NULL,
    PRIMARY KEY (appid, openid)
);
CREATE INDEX team_followers_unionid ON team_followers (appid, unionid) WHERE unionid IS NOT NULL;
CREATE INDEX team_followers_tags ON team_followers USING gin (tagids);

CREATE TABLE team_tags (
    appid     text   NOT NULL,
    tag_id    bigint NOT NULL,
    name      text   NOT NULL,
    count     bigint NOT NULL,
    synced_at bigint NOT NULL,
    PRIMARY KEY (appid, tag_id)
);

-- One row per publication: who synced which account when, and how many followers it carried.
CREATE TABLE team_follower_publications (
    id          bigserial PRIMARY KEY,
    appid       text    NOT NULL,
    member      text    NOT NULL,
    started_at  bigint  NOT NULL,
    finished_at bigint,
    followers   bigint  NOT NULL DEFAULT 0
);
CREATE INDEX team_follower_publications_appid ON team_follower_publications (appid, id DESC);

CREATE TABLE team_follower_cursor (
    id        integer PRIMARY KEY CHECK (id = 1),
    after_seq bigint  NOT NULL
);
INSERT INTO team_follower_cursor (id, after_seq) VALUES (1, 0);
