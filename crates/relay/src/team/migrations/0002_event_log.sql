-- The relay's event log in team mode (store/pg.rs): every relay process on this database appends
-- here and serves its long-polls from here. Same rows as the single-desk SQLite log.

-- `dedup_key` is the identity of the underlying push (a retry has the same key). It lives on the
-- event row rather than in a table of its own as in SQLite: both are pruned together by
-- received_at anyway, and one row per push instead of two is most of the write cost.
-- `data` is the JSON text the relay wrote; text, not jsonb, because jsonb refuses the \u0000
-- escape that a message's content may carry, and nothing here queries inside it.
CREATE TABLE relay_events (
    seq         bigint PRIMARY KEY,
    dedup_key   text   NOT NULL UNIQUE,
    kind        text   NOT NULL,
    appid       text,
    received_at bigint NOT NULL,
    data        text   NOT NULL
);
CREATE INDEX relay_events_received_at ON relay_events (received_at);

-- One row: the highest seq ever assigned (kept across retention, so numbers are never reused).
-- Every write batch of every process locks it FOR UPDATE until its COMMIT: that serialises seq
-- assignment, makes seqs visible in commit order and lets the dedup check see every key.
CREATE TABLE relay_log_head (
    id  integer PRIMARY KEY CHECK (id = 1),
    seq bigint  NOT NULL
);
INSERT INTO relay_log_head (id, seq) VALUES (1, 0);

-- One row: the newest component_verify_ticket, sealed with the component EncodingAESKey.
CREATE TABLE relay_ticket (
    id          integer PRIMARY KEY CHECK (id = 1),
    sealed      text    NOT NULL,
    create_time bigint  NOT NULL,
    received_at bigint  NOT NULL
);
