-- 模板 of the shared workspace (team/templates.rs): each account's private templates as a desk
-- last synced them from WeChat, with the team's alias, note and approved const values, which a
-- sync keeps. Desks read them from here, so a note written at one desk shows at every desk.
CREATE TABLE team_templates (
    appid            text   NOT NULL,
    template_id      text   NOT NULL,
    title            text   NOT NULL DEFAULT '',
    primary_industry text   NOT NULL DEFAULT '',
    deputy_industry  text   NOT NULL DEFAULT '',
    content          text   NOT NULL DEFAULT '',
    example          text   NOT NULL DEFAULT '',
    alias            text   NOT NULL DEFAULT '',
    note             text   NOT NULL DEFAULT '',
    -- JSON object: keyword key -> approved values.
    const_values     text   NOT NULL DEFAULT '{}',
    synced_at        bigint NOT NULL,
    updated_by       text,
    PRIMARY KEY (appid, template_id)
);
