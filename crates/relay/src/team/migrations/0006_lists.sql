-- 名单 (recipient lists) of the shared workspace (team/lists.rs), made at any desk and the same
-- for every desk. A desk uploads a list in pieces (a list can hold a million members): the row is
-- created `ready = false`, members are added in chunks, and `ready` makes it visible at once.
-- An upload that never finished is removed by the next create after a day.
-- `source` and `variables` are the desk's JSON (where the members came from; the mail-merge
-- column names); the server only stores them. A member's `vars` is a JSON object of strings.
CREATE TABLE team_lists (
    id           bigserial PRIMARY KEY,
    appid        text    NOT NULL,
    name         text    NOT NULL,
    source       text    NOT NULL,
    variables    text    NOT NULL,
    created_by   text    NOT NULL,
    created_at   bigint  NOT NULL,
    updated_at   bigint  NOT NULL,
    ready        boolean NOT NULL DEFAULT false,
    member_count bigint  NOT NULL DEFAULT 0
);
-- Names are unique per account among visible lists; an unfinished upload holds no name.
CREATE UNIQUE INDEX team_lists_name ON team_lists (appid, name) WHERE ready;
CREATE INDEX team_lists_appid ON team_lists (appid, updated_at DESC, id DESC);

CREATE TABLE team_list_members (
    list_id bigint NOT NULL REFERENCES team_lists (id) ON DELETE CASCADE,
    openid  text   NOT NULL,
    vars    text   NOT NULL,
    PRIMARY KEY (list_id, openid)
);
