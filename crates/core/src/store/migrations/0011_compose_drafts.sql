-- 0011: what staff typed in a composer and have not sent yet, one draft per composer, account
-- and template (the customer-service composer has no template: ''). The body is the window's
-- own JSON (values, jump, recipients source) and may name recipients' openids, so it lives here
-- with the rest of the user's data (and in backups) rather than in the webview's storage.
CREATE TABLE compose_drafts (
    kind        TEXT    NOT NULL CHECK (kind IN ('template', 'subscribe', 'custom')),
    appid       TEXT    NOT NULL,
    template_id TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (kind, appid, template_id)
) WITHOUT ROWID;
