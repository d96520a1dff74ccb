-- 0010: why a job exists, as a code. Jobs wxdesk makes itself (先发给自己, a customer-service or
-- unified message from the composer) were titled in Chinese by core ("测试：X", "客服消息",
-- "统一服务消息"), which an English window then showed as is. The title now holds only what the
-- operator typed (or the template's title) and the faces render the purpose in their language.
ALTER TABLE send_jobs ADD COLUMN purpose TEXT NOT NULL DEFAULT 'plain'
    CHECK (purpose IN ('plain', 'test', 'custom', 'uniform'));

-- Jobs written before: the titles core gave them become their purpose. Only the kinds core made
-- them for, so an operator's own bulk job that happens to be called 客服消息 keeps its title.
-- ('测试：' is three characters: substr counts characters in a TEXT value.)
UPDATE send_jobs SET purpose = 'test', title = substr(title, 4)
    WHERE kind = 'template' AND substr(title, 1, 3) = '测试：';
UPDATE send_jobs SET purpose = 'custom', title = ''
    WHERE kind IN ('custom_text', 'custom_news', 'custom_mini') AND title = '客服消息';
UPDATE send_jobs SET purpose = 'uniform', title = ''
    WHERE kind = 'uniform' AND title = '统一服务消息';
