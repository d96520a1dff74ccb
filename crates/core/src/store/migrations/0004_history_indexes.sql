-- 发送记录 at a million rows: the common filters are an account with an outcome (state or
-- delivery), newest first. Single-column indexes made SQLite walk all of an account's rows to
-- find, say, its failures (62 ms measured at 1M rows); these composite indexes end in the rowid,
-- so a filtered page is one index range walked backwards from the keyset bound.
CREATE INDEX send_recipients_appid_state ON send_recipients (appid, state);
CREATE INDEX send_recipients_appid_delivery ON send_recipients (appid, delivery) WHERE delivery IS NOT NULL;
