-- 0005: the customer-service window (客服消息 48 小时). WeChat accepts custom/send only after a
-- user action: a message opens 48 hours, a push-menu click / follow / QR scan a shorter window
-- (protocol E, "Customer service message"). The relay forwards those pushes but nothing kept
-- them, so the app could not say whom it may write to. One row per (account, user): the newest
-- action, a short preview of it, and when the window it opened closes.
CREATE TABLE interactions (
    appid        TEXT    NOT NULL,
    openid       TEXT    NOT NULL,
    -- CreateTime of the newest window-opening action (Unix seconds, WeChat's clock).
    last_at      INTEGER NOT NULL,
    -- text / image / voice / video / shortvideo / location / link / subscribe / scan / click /
    -- scancode_push / scancode_waitmsg.
    last_kind    TEXT    NOT NULL,
    -- The first characters of the last text message (or the menu key); never the whole message.
    preview      TEXT    NOT NULL DEFAULT '',
    -- When the latest open window ends; an unsubscribe closes it early.
    window_until INTEGER NOT NULL,
    -- CreateTime of the last unsubscribe (0: none): an action from before it opens nothing.
    closed_at    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (appid, openid)
) STRICT, WITHOUT ROWID;
-- "this account's users, newest first" is one index range walked backwards.
CREATE INDEX interactions_recent ON interactions (appid, last_at, openid);
-- Purging rows older than a week is a range delete.
CREATE INDEX interactions_last_at ON interactions (last_at);
