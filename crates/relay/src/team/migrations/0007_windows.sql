-- 客服消息窗口 of the shared workspace (team/windows.rs): who may be sent a customer-service
-- message now, per account. The server folds the team event log into it (a cursor like the
-- delivery join's), so every desk reads the same windows whether or not any desk was running
-- when the user wrote. Same rules as a desk's `interactions` table: the newest action names the
-- row, the window only grows, an unsubscribe closes it.
CREATE TABLE team_windows (
    appid        text   NOT NULL,
    openid       text   NOT NULL,
    last_at      bigint NOT NULL,
    last_kind    text   NOT NULL,
    preview      text   NOT NULL DEFAULT '',
    window_until bigint NOT NULL,
    closed_at    bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (appid, openid)
);
CREATE INDEX team_windows_newest ON team_windows (appid, last_at DESC, openid DESC);
CREATE INDEX team_windows_last_at ON team_windows (last_at);

CREATE TABLE team_window_cursor (
    id        integer PRIMARY KEY CHECK (id = 1),
    after_seq bigint  NOT NULL
);
INSERT INTO team_window_cursor (id, after_seq) VALUES (1, 0);
