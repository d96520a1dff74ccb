-- 0007: relay events the app could not apply yet. An effect that calls WeChat can fail in a way
-- that may pass later (quota used up, WeChat or the relay unreachable, no ticket yet); the feed
-- used to stop on such an event and retry it forever, holding up every event behind it. Such an
-- event is now parked here, in the same transaction that moves the relay cursor past it, and
-- retried with a backoff between polls; it is removed when it finally applies or becomes
-- impossible (the audit log says which).
--
-- `data` is the event's JSON without its one-time codes (authorization_code, auth_code,
-- query_auth_code): no secret goes into SQLite. A retry fetches the code from the relay again
-- (it keeps its log for weeks), checking that the seq still holds the same event.
CREATE TABLE parked_events (
    seq           INTEGER PRIMARY KEY,
    kind          TEXT    NOT NULL,
    appid         TEXT,
    -- The relay's received_at: with `kind`, what a re-fetched event must match.
    received_at   INTEGER NOT NULL,
    data          TEXT    NOT NULL,
    -- The last failure: message (Chinese, no secrets), the core's error code (`wechat`,
    -- `relay`, `keychain`…) and WeChat's errcode when WeChat answered.
    error         TEXT    NOT NULL,
    error_code    TEXT    NOT NULL,
    errcode       INTEGER,
    attempts      INTEGER NOT NULL,
    parked_at     INTEGER NOT NULL,
    next_retry_at INTEGER NOT NULL
) STRICT;
-- "what is due now" and "when is the next one due" are one index range.
CREATE INDEX parked_events_due ON parked_events (next_retry_at);
