//! What each WeChat errcode means and what the user should do about it. Clients match on the
//! errcode only: errmsg carries a `rid:`/`hint:` trace suffix and sometimes details.

use serde::Serialize;

/// What kind of failure an errcode is; drives retry and the UI's wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrKind {
    /// WeChat is busy or failed internally: retry later (-1).
    Retryable,
    /// The access token is wrong, malformed or expired: refresh it and retry once.
    TokenInvalid,
    /// A daily quota (or the monthly clear_quota allowance) is used up.
    Quota,
    /// A per-minute limit: slow down and retry in the next minute.
    RateLimited,
    /// The caller's IP is not in the platform's / account's whitelist.
    IpNotWhitelisted,
    /// The account or the platform lacks this API / permission set.
    Permission,
    /// The account no longer authorizes the platform, or its refresh token is dead: re-authorize.
    AuthorizationRevoked,
    /// component_verify_ticket expired or wrong: wait for the next push or trigger one.
    TicketInvalid,
    /// appid / appsecret / grant_type is wrong: fix the configuration.
    BadCredentials,
    /// The recipient does not follow the account, or has no live subscription.
    NotSubscribed,
    /// Customer-service message outside the 48-hour window, or its quota there is used up.
    OutOfWindow,
    /// The API has been withdrawn by WeChat.
    Unsupported,
    /// This request is wrong (bad openid, template, value, code…): retrying the same one fails again.
    Permanent,
    /// A code we have no entry for.
    Unknown,
}

impl ErrKind {
    /// Whether sending the very same request again later may succeed.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            ErrKind::Retryable | ErrKind::RateLimited | ErrKind::TokenInvalid
        )
    }
}

/// One errcode explained, for the app and CLI to show next to the raw errmsg.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ErrInfo {
    pub errcode: i64,
    pub kind: ErrKind,
    /// Short zh-CN explanation.
    pub zh: &'static str,
    /// Short English explanation.
    pub en: &'static str,
    /// What to do, zh-CN.
    pub hint_zh: &'static str,
    /// What to do, English.
    pub hint_en: &'static str,
}

macro_rules! info {
    ($code:expr, $kind:ident, $zh:expr, $en:expr, $hzh:expr, $hen:expr) => {
        ErrInfo {
            errcode: $code,
            kind: ErrKind::$kind,
            zh: $zh,
            en: $en,
            hint_zh: $hzh,
            hint_en: $hen,
        }
    };
}

// After the macro: the code-management table uses it.
mod code;

/// Sorted by errcode (binary search relies on it; a test checks).
static TABLE: &[ErrInfo] = &[
    info!(
        -1,
        Retryable,
        "微信系统繁忙",
        "WeChat system busy",
        "稍后自动重试；持续出现请查看微信官方公告。",
        "Retry later; if it persists check WeChat's status announcements."
    ),
    info!(
        20002,
        Permanent,
        "参数错误（如订阅通知模板 ID 不存在）",
        "invalid argument (e.g. an unknown subscription template id)",
        "先列出账号的订阅通知模板（gettemplate）再删除其中的模板 ID。",
        "List the account's subscription templates (gettemplate) and delete one of their ids."
    ),
    info!(
        40001,
        TokenInvalid,
        "access_token 无效或不是最新的（获取 token 时则为 AppSecret 错误）",
        "access_token invalid or not the latest (on token APIs: wrong AppSecret)",
        "会自动刷新令牌并重试一次；若仍失败，请核对 AppSecret 是否正确、是否有其他系统在刷新同一令牌。",
        "The token is refreshed and the call retried once; if it still fails check the AppSecret and whether another system refreshes the same token."
    ),
    info!(
        40002,
        BadCredentials,
        "grant_type 不合法",
        "invalid grant_type",
        "属于程序错误，请反馈问题。",
        "A client bug: please report it."
    ),
    info!(
        40003,
        Permanent,
        "openid 无效或不属于该公众号",
        "invalid openid (not a user of this account)",
        "检查收件人列表是否来自该公众号；不同公众号的 openid 不通用。",
        "Check that the recipients come from this account; openids are per account."
    ),
    info!(
        40004,
        Permanent,
        "不合法的媒体文件类型（type 参数）",
        "invalid media type (the type parameter)",
        "属于程序错误（上传封面应为 type=image），请反馈问题。",
        "A client bug (a cover upload uses type=image): please report it."
    ),
    info!(
        40005,
        Permanent,
        "不合法的文件类型（微信不接受这种图片格式）",
        "invalid file type (WeChat does not take this image format)",
        "请换用 JPG 或 PNG 图片再上传。",
        "Upload a JPG or PNG image instead."
    ),
    info!(
        40006,
        Permanent,
        "不合法的文件大小",
        "invalid file size",
        "图片应大于 0、不超过 10 MB；请压缩后再上传（卡片封面建议 520×416）。",
        "The image must be non-empty and at most 10 MB: compress it and upload again (a card cover is best at 520×416)."
    ),
    info!(
        40007,
        Permanent,
        "不合法的 media_id（素材不存在、属于其他账号，或临时素材已过 3 天有效期）",
        "invalid media_id (unknown, of another account, or a temporary media older than 3 days)",
        "临时素材只保存 3 天：请重新上传封面图片（发送页「上传封面」）后再发送。",
        "Temporary media last 3 days: upload the cover image again (Upload cover on the compose page) and send again."
    ),
    info!(
        40009,
        Permanent,
        "图片尺寸或大小不合法",
        "invalid image size",
        "请压缩图片或换一张（不超过 10 MB；卡片封面建议 520×416）后再上传。",
        "Compress the image or choose another (at most 10 MB; a card cover is best at 520×416) and upload again."
    ),
    info!(
        40013,
        BadCredentials,
        "appid 无效",
        "invalid appid",
        "核对 AppID 是否填写正确；消息带小程序跳转时，该小程序须已与公众号关联（公众号后台：广告与服务 → 小程序管理 → 关联小程序）。",
        "Check the AppID; for a message that opens a mini program, the mini program must be linked to the official account (in the account console: Ads & Services → Mini Programs → Link a mini program)."
    ),
    info!(
        40014,
        TokenInvalid,
        "access_token 格式不合法",
        "malformed access_token",
        "会自动刷新令牌并重试一次。",
        "The token is refreshed and the call retried once."
    ),
    info!(
        40029,
        Permanent,
        "code 无效",
        "invalid code",
        "登录 code 只能使用一次且约 5 分钟过期，请让用户重新登录。",
        "Login codes are single-use and expire in ~5 minutes: log in again."
    ),
    info!(
        40036,
        Permanent,
        "template_id 长度不正确",
        "invalid template_id size",
        "检查模板 ID 是否完整复制。",
        "Check the template id was copied completely."
    ),
    info!(
        40037,
        Permanent,
        "template_id 无效",
        "invalid template_id",
        "模板可能已被删除；请重新同步模板列表。",
        "The template may have been deleted: re-sync the template list."
    ),
    info!(
        40125,
        BadCredentials,
        "AppSecret 无效",
        "invalid appsecret",
        "在开放平台/公众平台重置或核对 AppSecret 后重新填写。",
        "Check or reset the AppSecret on the platform and enter it again."
    ),
    info!(
        40163,
        Permanent,
        "code 已被使用",
        "code already used",
        "每个 js_code 只能换取一次会话；请在小程序里重新调用 wx.login 获取新的 code（约 5 分钟内有效）。",
        "Each js_code can be exchanged once: call wx.login again in the mini program for a new code (valid about 5 minutes)."
    ),
    info!(
        40164,
        IpNotWhitelisted,
        "调用方 IP 不在白名单中",
        "caller IP not in the whitelist",
        "把本机出口 IP 加入公众号的 IP 白名单，或通过中继服务器出口调用。",
        "Add this machine's egress IP to the account's IP whitelist, or call through the relay's egress."
    ),
    info!(
        40165,
        Permanent,
        "小程序页面路径无效（不是已发布版本中的页面）",
        "invalid mini-program page path (not a page of the released version)",
        "跳转路径须是该小程序已发布版本中的页面，如 pages/index/index（可带 ?参数）；小程序需先发布。",
        "The path must be a page of the mini program's released version, e.g. pages/index/index (query allowed); release the mini program first."
    ),
    info!(
        40246,
        Permanent,
        "模板关键词无效（为空或不存在）",
        "template keywords invalid (empty or unknown)",
        "从模板库中选择有效的关键词后再添加。",
        "Pick valid keywords from the template library and add again."
    ),
    info!(
        41001,
        TokenInvalid,
        "缺少 access_token",
        "access_token missing",
        "会自动获取令牌并重试一次；仍失败请反馈问题。",
        "A token is fetched and the call retried once; report it if it persists."
    ),
    info!(
        41004,
        BadCredentials,
        "缺少 AppSecret",
        "appsecret missing",
        "在设置中填写第三方平台 AppSecret。",
        "Enter the platform AppSecret in the settings."
    ),
    info!(
        41005,
        Permanent,
        "缺少多媒体文件数据",
        "media data missing",
        "上传请求里没有 media 文件字段：若经中继转发，请升级 wxdesk-relay；否则请反馈问题。",
        "The upload carried no media file part: if it goes through the relay, update wxdesk-relay; otherwise please report it."
    ),
    info!(
        41021,
        Permanent,
        "缺少 component_access_token",
        "missing component_access_token",
        "属于程序错误，请反馈问题。",
        "A client bug: please report it."
    ),
    info!(
        42001,
        TokenInvalid,
        "access_token 已过期",
        "access_token expired",
        "会自动刷新令牌并重试一次。",
        "The token is refreshed and the call retried once."
    ),
    info!(
        43004,
        NotSubscribed,
        "用户未关注该公众号",
        "recipient does not follow the account",
        "该用户已取消关注，无法接收消息；可从名单中移除。",
        "The user unfollowed and cannot receive messages; remove them from the list."
    ),
    info!(
        43101,
        NotSubscribed,
        "用户未订阅或拒绝接收该消息",
        "user refused to accept the message (no live subscription)",
        "该用户没有可用的订阅（从未同意、一次性订阅已用完或已关闭）；需用户在订阅弹窗中再次同意后才能发送（一次性订阅：同意一次发送一次）。",
        "The user has no live subscription (never accepted, a one-time subscription used up, or switched off); they must accept in the subscribe popup again (one-time: one accept, one send)."
    ),
    info!(
        43117,
        RateLimited,
        "对该用户发送过于频繁",
        "sending to this openid too frequently",
        "稍后自动重试；避免短时间内向同一用户重复发送。",
        "Retried later; avoid sending to one user repeatedly in a short time."
    ),
    info!(
        45001,
        Permanent,
        "多媒体文件大小超过限制",
        "media file too large",
        "请压缩图片后再上传（图片不超过 10 MB，卡片封面几百 KB 即可）。",
        "Compress the image and upload again (images up to 10 MB; a card cover needs a few hundred KB)."
    ),
    info!(
        45009,
        Quota,
        "接口调用已达每日上限",
        "daily API quota reached",
        "明天再试，或在后台/通过 clear_quota 清零（每月 10 次）。",
        "Try tomorrow, or reset with clear_quota (10 times a month)."
    ),
    info!(
        45011,
        RateLimited,
        "接口调用频率超过每分钟限制",
        "per-minute API limit reached",
        "放慢速度，下一分钟自动重试。",
        "Slow down; retried automatically in the next minute."
    ),
    info!(
        45015,
        OutOfWindow,
        "超出客服消息 48 小时回复时限，或用户已取消关注",
        "outside the 48-hour customer-service window, or the user unfollowed",
        "只能在用户最近一次互动后 48 小时内发送客服消息；改用模板消息。",
        "Customer-service messages are only allowed within 48 h of the user's last action; use a template message."
    ),
    info!(
        45047,
        OutOfWindow,
        "客服消息条数已达当前时段上限",
        "customer-service message count limit reached",
        "等待用户再次互动后再发送。",
        "Wait for the user to interact again."
    ),
    info!(
        45103,
        Unsupported,
        "该接口已停用",
        "this API has been withdrawn",
        "改用微信现行的接口（模板消息、订阅通知）。",
        "Use WeChat's current APIs (template messages, subscription notices)."
    ),
    info!(
        45109,
        Unsupported,
        "该接口已停用（统一服务消息已于 2023-09-20 下线）",
        "API withdrawn (uniform_send was removed on 2023-09-20)",
        "改用公众号模板消息并带小程序跳转（小程序须已与公众号关联），或订阅通知。",
        "Send an official-account template message that opens the mini program (linked to the account) instead, or a subscription notice."
    ),
    info!(
        47001,
        Permanent,
        "数据格式错误",
        "data format error",
        "请求内容不是合法的 JSON，属于程序错误，请反馈问题。",
        "The request body is not valid JSON: a client bug, please report it."
    ),
    info!(
        47003,
        Permanent,
        "模板参数值不符合规则",
        "a template value breaks its keyword rule",
        "按 errmsg 中指出的字段修改内容（如 thing 类不超过 20 字）。",
        "Fix the field named in errmsg (e.g. thing values at most 20 characters)."
    ),
    info!(
        48001,
        Permission,
        "该账号没有此接口权限",
        "the account lacks this API",
        "确认账号类型与认证状态（如模板消息仅认证服务号可用）。",
        "Check the account type and verification (e.g. template messages need a verified service account)."
    ),
    info!(
        48006,
        Quota,
        "本月清零次数已用完",
        "monthly clear_quota limit reached",
        "每个账号每月最多清零 10 次（后台与接口合计），请下月再试。",
        "At most 10 resets per account a month (console and API together): wait for next month."
    ),
    info!(
        61003,
        AuthorizationRevoked,
        "该账号已取消对第三方平台的授权",
        "the account no longer authorizes this platform",
        "请公众号管理员重新扫码授权。",
        "Ask the account's admin to authorize the platform again."
    ),
    info!(
        61004,
        IpNotWhitelisted,
        "调用方 IP 未加入第三方平台白名单",
        "caller IP not in the platform's whitelist",
        "在开放平台「开发资料」中把本机出口 IP 加入白名单，或通过中继服务器的出口（/api/v1/wechat）调用。",
        "Add this machine's egress IP to the platform whitelist in the Open Platform console, or send through the relay's egress route (/api/v1/wechat)."
    ),
    info!(
        61005,
        TicketInvalid,
        "component_verify_ticket 已过期",
        "component_verify_ticket expired",
        "检查授权事件接收 URL 是否正常返回 success；可调用 api_start_push_ticket 立即推送。",
        "Check that the authorization event URL answers `success`; call api_start_push_ticket to get a push now."
    ),
    info!(
        61006,
        TicketInvalid,
        "component_verify_ticket 无效",
        "component_verify_ticket invalid",
        "等待下一次推送（每 10 分钟）或调用 api_start_push_ticket。",
        "Wait for the next push (every 10 minutes) or call api_start_push_ticket."
    ),
    info!(
        61007,
        Permission,
        "第三方平台未获得该接口的权限集",
        "the platform was not granted this API's permission set",
        "请公众号管理员重新授权并勾选对应权限集。",
        "Ask the admin to re-authorize with the required permission set ticked."
    ),
    info!(
        61009,
        Permanent,
        "授权码无效或已使用",
        "authorization code invalid or already used",
        "授权码只能使用一次；请重新发起授权。",
        "Authorization codes are single-use: start the authorization again."
    ),
    info!(
        61010,
        Permanent,
        "授权码已过期",
        "authorization code expired",
        "请重新发起授权。",
        "Start the authorization again."
    ),
    info!(
        61011,
        BadCredentials,
        "无效的第三方平台 appid",
        "not a valid third-party platform appid",
        "核对第三方平台 AppID。",
        "Check the platform AppID."
    ),
    info!(
        61023,
        AuthorizationRevoked,
        "refresh_token 无效",
        "authorizer refresh_token invalid",
        "该授权已失效，请公众号管理员重新授权。",
        "The authorization is gone: ask the admin to authorize again."
    ),
    info!(
        61024,
        BadCredentials,
        "第三方平台账号须使用 api_component_token 获取令牌",
        "component accounts must use api_component_token",
        "第三方平台不能用 cgi-bin/token；请使用第三方平台模式。",
        "A component appid cannot use cgi-bin/token: use the platform mode."
    ),
    info!(
        76003,
        Permanent,
        "cgi_path 格式错误",
        "malformed cgi_path",
        "接口路径须以 / 开头，且不带 https://api.weixin.qq.com 前缀。",
        "The API path must start with / and carry no https://api.weixin.qq.com prefix."
    ),
    info!(
        76021,
        Permanent,
        "cgi_path 无效",
        "unknown cgi_path",
        "检查查询额度的接口路径（以 /cgi-bin/ 开头）。",
        "Check the API path (starting with /cgi-bin/)."
    ),
    info!(
        76022,
        Permission,
        "无权查询该接口的额度",
        "no permission to query this cgi_path",
        "用接口所属账号的令牌查询（公众号接口用公众号的 authorizer_access_token）；/sns/ 类接口不支持查询额度。",
        "Query with the token of the account the API belongs to (an official account's API: its authorizer_access_token); /sns/ APIs have no quota query."
    ),
    info!(
        200011,
        Permission,
        "此账号已被封禁，无法操作订阅通知模板",
        "the account is banned from subscription templates",
        "请在公众号后台查看封禁原因并申诉。",
        "Check the ban notice in the account's console and appeal."
    ),
    info!(
        200012,
        Permanent,
        "订阅通知私有模板数已达上限（50 个）",
        "private subscription template limit reached (50)",
        "先删除不再使用的订阅通知模板再添加。",
        "Delete subscription templates no longer used, then add again."
    ),
    info!(
        200013,
        Permanent,
        "此模板已被封禁，无法选用",
        "this library template is banned",
        "从模板库选用其他模板。",
        "Choose another library template."
    ),
    info!(
        200014,
        Permanent,
        "模板 tid 参数错误（不存在或缺失）",
        "invalid template tid (missing or unknown)",
        "tid 取自订阅通知模板库（getpubtemplatetitles）的列表。",
        "Take the tid from the subscription template library (getpubtemplatetitles)."
    ),
    info!(
        200016,
        Permanent, "start 参数错误", "invalid start", "start 从 0 开始。", "start counts from 0."
    ),
    info!(
        200017,
        Permanent, "limit 参数错误", "invalid limit", "limit 取 1–30。", "limit must be 1 to 30."
    ),
    info!(
        200018,
        Permanent,
        "类目 ids 缺失",
        "category ids missing",
        "先查询账号的类目（getcategory），再用逗号分隔的类目 id 查询模板库。",
        "Query the account's categories (getcategory), then pass their ids comma-separated."
    ),
    info!(
        200019,
        Permanent,
        "类目 ids 不合法",
        "invalid category ids",
        "ids 应为逗号分隔的数字（不要带引号）。",
        "ids must be comma-separated numbers (no quotes)."
    ),
    info!(
        200020,
        Permanent,
        "关键词列表 kidList 参数错误",
        "invalid keyword list (kidList)",
        "选 2–5 个该模板的关键词（kid 取自 getpubtemplatekeywords）。",
        "Choose 2 to 5 of the template's keywords (kids from getpubtemplatekeywords)."
    ),
    info!(
        200021,
        Permanent,
        "场景描述 sceneDesc 参数错误",
        "invalid scene description (sceneDesc)",
        "场景描述必填，不超过 15 个字。",
        "The scene description is required, at most 15 characters."
    ),
];

/// Explanation and hint for an errcode, if we know it.
pub fn explain(errcode: i64) -> Option<&'static ErrInfo> {
    [TABLE, code::CODE_TABLE].into_iter().find_map(|table| {
        table
            .binary_search_by_key(&errcode, |i| i.errcode)
            .ok()
            .and_then(|i| table.get(i))
    })
}

/// The kind of any errcode (unknown codes are `Unknown`).
pub fn kind_of(errcode: i64) -> ErrKind {
    explain(errcode).map_or(ErrKind::Unknown, |i| i.kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_unique_so_binary_search_finds_every_entry() {
        for w in TABLE.windows(2) {
            assert!(
                w[0].errcode < w[1].errcode,
                "{} before {}",
                w[0].errcode,
                w[1].errcode
            );
        }
        for i in TABLE {
            assert_eq!(explain(i.errcode).map(|x| x.errcode), Some(i.errcode));
        }
    }

    #[test]
    fn every_code_of_protocol_section_d_is_explained() {
        let codes = [
            -1, 40001, 40002, 40003, 40013, 40014, 40029, 40036, 40037, 40125, 40164, 40246, 41001,
            42001, 43004, 43101, 45009, 45011, 45015, 45047, 45109, 47001, 47003, 48001, 48006,
            61003, 61004, 61005, 61006, 61007, 61009, 61010, 61011, 61023, 61024,
        ];
        for c in codes {
            let i = explain(c).unwrap_or_else(|| panic!("no entry for {c}"));
            assert!(
                !i.zh.is_empty()
                    && !i.en.is_empty()
                    && !i.hint_zh.is_empty()
                    && !i.hint_en.is_empty()
            );
        }
    }

    #[test]
    fn token_codes_are_token_invalid_and_quota_codes_are_quota() {
        for c in [40001, 40014, 42001] {
            assert_eq!(kind_of(c), ErrKind::TokenInvalid);
        }
        assert_eq!(kind_of(45009), ErrKind::Quota);
        assert_eq!(kind_of(43004), ErrKind::NotSubscribed);
        assert_eq!(kind_of(45015), ErrKind::OutOfWindow);
        assert_eq!(kind_of(48001), ErrKind::Permission);
        assert_eq!(kind_of(47003), ErrKind::Permanent);
        assert_eq!(kind_of(-1), ErrKind::Retryable);
        assert_eq!(kind_of(99999), ErrKind::Unknown);
        assert_eq!(explain(0), None);
    }

    #[test]
    fn quota_get_codes_are_explained_wrong_paths_permanent_and_a_foreign_path_a_permission() {
        for c in [76003, 76021, 76022] {
            let i = explain(c).unwrap_or_else(|| panic!("no entry for {c}"));
            assert!(!i.zh.is_empty() && !i.hint_zh.is_empty() && !i.hint_en.is_empty());
        }
        assert_eq!(kind_of(76003), ErrKind::Permanent);
        assert_eq!(kind_of(76021), ErrKind::Permanent);
        assert_eq!(kind_of(76022), ErrKind::Permission);
    }

    #[test]
    fn the_code_management_table_is_sorted_disjoint_and_covers_section_l6() {
        for w in code::CODE_TABLE.windows(2) {
            assert!(
                w[0].errcode < w[1].errcode,
                "{} before {}",
                w[0].errcode,
                w[1].errcode
            );
        }
        for i in code::CODE_TABLE {
            assert!(
                TABLE
                    .binary_search_by_key(&i.errcode, |t| t.errcode)
                    .is_err(),
                "{} is in both tables",
                i.errcode
            );
            assert_eq!(explain(i.errcode).map(|x| x.errcode), Some(i.errcode));
        }
        let l6 = [
            -1, 44002, 47001, 61007, 61039, 61040, 85006, 85007, 85008, 85009, 85010, 85011, 85012,
            85013, 85014, 85015, 85016, 85017, 85018, 85019, 85020, 85021, 85022, 85023, 85043,
            85044, 85045, 85046, 85047, 85048, 85051, 85052, 85058, 85064, 85065, 85077, 85079,
            85080, 85081, 85082, 85085, 85086, 85087, 85092, 85093, 85094, 85301, 86000, 86001,
            86002, 86007, 86008, 86009, 86010, 87006, 87011, 87012, 87013, 89019, 89020, 89021,
            89022, 89029, 89401, 89402, 89403, 89404, 89405,
        ];
        for c in l6 {
            let i = explain(c).unwrap_or_else(|| panic!("no entry for {c}"));
            assert!(
                !i.zh.is_empty()
                    && !i.en.is_empty()
                    && !i.hint_zh.is_empty()
                    && !i.hint_en.is_empty(),
                "{c}"
            );
        }
    }

    #[test]
    fn code_quotas_are_quota_and_the_privacy_check_is_a_retry_in_a_minute() {
        for c in [85085, 87013, 89405] {
            assert_eq!(kind_of(c), ErrKind::Quota, "{c}");
        }
        assert_eq!(kind_of(61039), ErrKind::RateLimited);
        assert_eq!(kind_of(89401), ErrKind::Retryable);
        assert_eq!(kind_of(85009), ErrKind::Permanent);
        assert_eq!(kind_of(86000), ErrKind::Permission);
        assert!(explain(85085).unwrap().hint_zh.contains("queryquota"));
    }

    #[test]
    fn every_code_of_the_addendum_to_section_d_is_explained() {
        for c in [
            200011, 200012, 200013, 200014, 200016, 200017, 200018, 200019, 200020, 200021, 40013,
            40163, 40165, 41021, 43117, 45103, 45109,
        ] {
            let i = explain(c).unwrap_or_else(|| panic!("no entry for {c}"));
            assert!(!i.zh.is_empty() && !i.hint_zh.is_empty() && !i.hint_en.is_empty());
        }
        // 45109 names the replacement; 40013 says how a mini program gets linked.
        assert!(explain(45109).unwrap().hint_zh.contains("小程序跳转"));
        assert!(explain(40013).unwrap().hint_zh.contains("关联小程序"));
        assert_eq!(kind_of(45103), ErrKind::Unsupported);
        assert_eq!(kind_of(40165), ErrKind::Permanent);
    }

    #[test]
    fn media_upload_codes_are_explained_and_an_expired_cover_says_upload_again() {
        for c in [40004, 40005, 40006, 40007, 40009, 41005, 45001] {
            let i = explain(c).unwrap_or_else(|| panic!("no entry for {c}"));
            assert_eq!(i.kind, ErrKind::Permanent, "{c}");
        }
        let i = explain(40007).unwrap();
        assert!(i.zh.contains("3 天") && i.hint_zh.contains("重新上传"));
        assert!(i.en.contains("3 days") && i.hint_en.contains("upload the cover"));
    }

    #[test]
    fn ip_whitelist_hint_mentions_the_whitelist_and_the_relay_egress() {
        let i = explain(61004).unwrap();
        assert_eq!(i.kind, ErrKind::IpNotWhitelisted);
        assert!(i.hint_zh.contains("白名单") && i.hint_zh.contains("中继"));
        assert!(i.hint_en.contains("whitelist") && i.hint_en.contains("relay"));
    }
}
