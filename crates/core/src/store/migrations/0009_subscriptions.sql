-- 0009: 订阅通知 (protocol G). The official accounts' chosen subscription templates, as
-- gettemplate last showed them, and what each user granted each template: WeChat has no API
-- that says who subscribed, the app only learns it from the pushes the relay forwards
-- (subscribe_msg_popup_event / _change_event / _sent_event), kept here per (account, user,
-- template) so the recipient picker can say who can receive a notice and 43101 is explained
-- before sending.
CREATE TABLE subscribe_templates (
    appid       TEXT    NOT NULL,
    template_id TEXT    NOT NULL,
    title       TEXT    NOT NULL,
    -- `{{thing1.DATA}}` lines.
    content     TEXT    NOT NULL,
    example     TEXT    NOT NULL DEFAULT '',
    -- WeChat's type: 2 one-time (一次性), 3 long-term (长期).
    type        INTEGER NOT NULL,
    synced_at   INTEGER NOT NULL,
    PRIMARY KEY (appid, template_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE subscriptions (
    appid        TEXT    NOT NULL,
    openid       TEXT    NOT NULL,
    template_id  TEXT    NOT NULL,
    -- One-time accepts not yet used by a send (each accept adds one, each sent event takes one).
    remaining    INTEGER NOT NULL DEFAULT 0,
    -- Accepted since the last switch-off (what a long-term template needs).
    accepted     INTEGER NOT NULL DEFAULT 0,
    -- The user's last choice: accept / reject (popup) / switch_off (management page).
    last_action  TEXT    NOT NULL,
    -- CreateTime of the newest event applied (WeChat's clock).
    updated_at   INTEGER NOT NULL,
    -- Notices WeChat reported sent (subscribe_msg_sent_event), and the last one's result.
    sent         INTEGER NOT NULL DEFAULT 0,
    last_sent_at INTEGER,
    last_errcode INTEGER,
    -- Relay seq of the newest event applied: applying one twice changes nothing.
    last_seq     INTEGER NOT NULL,
    PRIMARY KEY (appid, template_id, openid)
) STRICT, WITHOUT ROWID;
-- "who subscribed to this account" for one user across templates.
CREATE INDEX subscriptions_by_user ON subscriptions (appid, openid);
