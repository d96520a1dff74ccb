//! Errcodes of mini-program code management (protocol L.2, L.3, L.6): the template library,
//! domains, commit, audit, release and rollback. Kept beside the main table (same structure,
//! searched after it) so each stays a readable size. Codes the main table already explains
//! (-1, 47001, 61007…) are not repeated here.

use super::{ErrInfo, ErrKind};

/// Sorted by errcode (binary search relies on it; a test checks), disjoint from `TABLE`.
pub(super) static CODE_TABLE: &[ErrInfo] = &[
    info!(
        40097,
        Permanent,
        "参数错误",
        "invalid args",
        "检查请求参数；版本回退时 app_version 须取自可回退版本列表。",
        "Check the arguments; a rollback's app_version must come from the history version list."
    ),
    info!(
        44002,
        Permanent,
        "POST 数据为空",
        "empty post data",
        "这些接口必须带 {} 请求体，属于程序错误，请反馈问题。",
        "These APIs need a `{}` body: a client bug, please report it."
    ),
    info!(
        61039,
        RateLimited,
        "隐私接口检查任务未完成，请稍等一分钟再重试",
        "privacy API check after the commit is not finished yet",
        "上传代码后微信要约一分钟检测隐私接口；稍等一分钟再提交审核（不要重新上传代码）。",
        "WeChat checks privacy APIs for about a minute after a commit: submit again in a minute (do not commit again)."
    ),
    info!(
        61040,
        Permanent,
        "代码使用了未在 ext.json 配置或无权限的隐私接口",
        "the code uses a privacy API not declared in ext.json or not permitted",
        "在 ext.json 的 requiredPrivateInfos 中声明并申请该接口权限，或确认未使用时提审带 privacy_api_not_use。",
        "Declare the API in ext.json's requiredPrivateInfos and apply for it, or submit with privacy_api_not_use if it is not used."
    ),
    info!(
        85006,
        Permanent,
        "审核项标签格式错误",
        "invalid tag in the audit items",
        "标签用空格分隔，最多 10 个，每个不超过 20 字。",
        "Tags are space-separated, at most 10, each at most 20 characters."
    ),
    info!(
        85007,
        Permanent,
        "审核项页面路径错误",
        "invalid page path in the audit items",
        "页面路径须取自「已上传代码的页面列表」（get_page）。",
        "Take page paths from the uploaded code's page list (get_page)."
    ),
    info!(
        85008,
        Permanent,
        "审核项类目无效",
        "invalid category in the audit items",
        "类目名称与 ID 须取自 get_category，且是小程序已审核通过的类目。",
        "Take category names and ids from get_category; the category must be approved for the mini program."
    ),
    info!(
        85009,
        Permanent,
        "已有版本在审核中",
        "a version is already under audit",
        "等待当前审核结束，或先撤回审核（每天最多 5 次）再提交。",
        "Wait for the current audit to end, or withdraw it first (at most 5 times a day)."
    ),
    info!(
        85010,
        Permanent,
        "审核项有必填内容为空",
        "an audit item has an empty required field",
        "补全审核项的页面、类目和标题。",
        "Fill in every audit item's page, category and title."
    ),
    info!(
        85011,
        Permanent,
        "审核项标题填写错误",
        "invalid audit item title",
        "标题不超过 32 个字。",
        "Titles are at most 32 characters."
    ),
    info!(
        85012,
        Permanent,
        "审核单 ID 无效",
        "invalid audit id",
        "使用该小程序自己的 auditid（提交审核时返回）。",
        "Use this mini program's own auditid (returned by submit_audit)."
    ),
    info!(
        85013,
        Permanent,
        "ext.json 自定义配置无效",
        "invalid custom configuration (ext_json)",
        "检查 ext.json 的内容与字段类型。",
        "Check ext.json's content and field types."
    ),
    info!(
        85014,
        Permanent,
        "代码模板不存在",
        "template does not exist",
        "template_id 须是模板库中现有模板的数字编号；重新同步模板库后再选。",
        "template_id must be the number of a template in the library: list the library again and pick one."
    ),
    info!(
        85015,
        Permanent,
        "版本输入错误（或该账号不是小程序）",
        "invalid version (or the account is not a mini program)",
        "检查版本号，并确认目标账号是已授权的小程序。",
        "Check the version string and that the account is an authorized mini program."
    ),
    info!(
        85016,
        Permanent,
        "域名数量超过限制",
        "too many domains",
        "每类服务器域名最多 200 个；删去不用的域名后再添加。",
        "At most 200 domains per list: remove unused ones first."
    ),
    info!(
        85017,
        Permanent,
        "过滤后没有可修改的域名",
        "no domain to modify after filtering",
        "域名须先在第三方平台「小程序服务器域名」中登记，且与现有配置不同。",
        "Register the domains in the platform's mini-program server domains first, and change something."
    ),
    info!(
        85018,
        Permanent,
        "域名没有在第三方平台设置",
        "domain not registered on the platform",
        "在开放平台的第三方平台设置中登记该域名后再配置。",
        "Register the domain in the platform's settings on the Open Platform first."
    ),
    info!(
        85019,
        Permanent,
        "没有审核通过的版本可发布",
        "no version under audit (nothing approved to release)",
        "先提交审核，等审核通过后再发布。",
        "Submit for audit and wait for approval before releasing."
    ),
    info!(
        85020,
        Permanent,
        "审核状态不满足发布条件",
        "audit status does not allow releasing",
        "最近一次审核须为「审核成功」；查看审核状态后再发布。",
        "The latest audit must have succeeded: check the audit status first."
    ),
    info!(
        85021,
        Permanent,
        "状态不可变",
        "status not allowed",
        "当前状态下不能修改服务状态，查看版本与审核状态后再试。",
        "The visit status cannot change in this state: check the versions and audit first."
    ),
    info!(
        85022,
        Permanent,
        "action 非法",
        "invalid action",
        "action 只能是 open 或 close，属于程序错误，请反馈问题。",
        "action must be open or close: a client bug, please report it."
    ),
    info!(
        85023,
        Permanent,
        "审核项数量不在 1 到 5 之间",
        "audit item count not within 1-5",
        "审核项最多 5 个。",
        "Give at most 5 audit items."
    ),
    info!(
        85043,
        Permanent,
        "代码模板错误",
        "template error",
        "该模板可能已损坏，请在开发者工具重新上传并加入模板库。",
        "The template may be broken: upload again from DevTools and add it to the library."
    ),
    info!(
        85044,
        Permanent,
        "代码包超过大小限制",
        "code package too large",
        "缩小代码包或改用分包后重新上传模板。",
        "Shrink the package or use subpackages, then upload the template again."
    ),
    info!(
        85045,
        Permanent,
        "ext.json 中有不存在的页面路径",
        "some path in ext_json does not exist",
        "ext.json 的 pages、extPages、tabBar 只能使用模板中已有的页面。",
        "pages, extPages and tabBar in ext.json may only name pages the template has."
    ),
    info!(
        85046,
        Permanent,
        "tabBar 中缺少 path",
        "tabBar item without a path",
        "给 ext.json 中 tabBar.list 的每一项填写 pagePath。",
        "Give every tabBar.list item in ext.json a pagePath."
    ),
    info!(
        85047,
        Permanent,
        "ext.json 的 pages 字段为空",
        "pages in ext_json is empty",
        "pages 至少列出一个模板中的页面，或删去该字段。",
        "List at least one of the template's pages in pages, or leave the field out."
    ),
    info!(
        85048,
        Permanent,
        "ext.json 解析失败",
        "parse ext.json failed",
        "ext_json 必须是合法的 JSON 对象（以字符串形式提交）。",
        "ext_json must be a valid JSON object (sent as a string)."
    ),
    info!(
        85051,
        Permanent,
        "版本说明或预览信息超出限制",
        "version_desc or preview_info too long",
        "缩短版本说明，减少预览图片或视频。",
        "Shorten the version description and use fewer preview pictures or videos."
    ),
    info!(
        85052,
        Permanent,
        "该版本已经发布",
        "app is already released",
        "审核通过的版本已经发布过；要再发布需要新的审核通过版本。",
        "The approved version is already released; releasing again needs a new approved audit."
    ),
    info!(
        85058,
        Permanent,
        "没有有效的审核单",
        "no valid audit_id exist",
        "该小程序还没有提交过审核。",
        "The mini program has never been submitted for audit."
    ),
    info!(
        85064,
        Permanent,
        "找不到草稿或模板",
        "draft or template not found",
        "重新获取草稿箱或模板库列表后再选择。",
        "List the drafts or templates again and pick an existing one."
    ),
    info!(
        85065,
        Permanent,
        "模板库已满",
        "template library is full",
        "模板库最多 200 个模板；删除不用的模板后再添加。",
        "The library holds at most 200 templates: delete unused ones first."
    ),
    info!(
        85077,
        Permanent,
        "小程序类目信息失效（含官方下架类目）",
        "mini-program category no longer valid (incl. withdrawn ones)",
        "在小程序后台重新选择有效类目后再提交审核。",
        "Choose a valid category for the mini program again, then submit."
    ),
    info!(
        85079,
        Permanent,
        "小程序没有线上版本，不能灰度发布",
        "no online version, gray release not possible",
        "先完成一次全量发布。",
        "Release fully once first."
    ),
    info!(
        85080,
        Permanent,
        "审核未通过，不能灰度发布",
        "the audit has not passed, gray release not possible",
        "等审核通过后再灰度发布。",
        "Wait for the audit to pass first."
    ),
    info!(
        85081,
        Permanent,
        "无效的灰度发布比例",
        "invalid gray release percentage",
        "比例须在 1 到 100 之间。",
        "The percentage must be 1 to 100."
    ),
    info!(
        85082,
        Permanent,
        "灰度比例须高于之前的设置",
        "gray percentage must exceed the previous one",
        "设置比之前更高的发布比例。",
        "Set a higher percentage than before."
    ),
    info!(
        85085,
        Quota,
        "本月提审次数已达上限",
        "monthly audit quota used up",
        "查询审核额度（queryquota）；可在「小程序服务商助手」申请临时额度，或等下月额度恢复。",
        "Check the audit quota (queryquota); request a temporary increase in 小程序服务商助手 or wait for next month."
    ),
    info!(
        85086,
        Permanent,
        "提交审核前须先上传代码",
        "must commit before submit audit",
        "先上传代码（commit）；也请确认已设置用户隐私保护指引。",
        "Commit the code first; also check that the privacy guide is set."
    ),
    info!(
        85087,
        Permanent,
        "使用了 navigateToMiniProgram 但未声明跳转 appid 列表",
        "navigateToMiniProgram used without declaring the appid list",
        "在 ext.json 的 navigateToMiniProgramAppIdList 中声明要跳转的小程序后再提交。",
        "Declare the target appids in ext.json's navigateToMiniProgramAppIdList, then submit again."
    ),
    info!(
        85092,
        Permanent,
        "预览信息格式错误",
        "invalid preview_info",
        "preview_info 的图片和视频须是 uploadmedia 返回的 mediaid 数组。",
        "preview_info must hold arrays of media ids from uploadmedia."
    ),
    info!(
        85093,
        Permanent,
        "预览图片或视频数量超过限制",
        "too many preview pictures or videos",
        "减少预览图片或视频。",
        "Use fewer preview pictures or videos."
    ),
    info!(
        85094,
        Permanent,
        "需要提供审核机制说明（UGC 声明）",
        "an audit-mechanism declaration (ugc_declare) is required",
        "所选类目涉及用户生成内容，提审时填写 ugc_declare。",
        "The categories involve user content: fill in ugc_declare when submitting."
    ),
    info!(
        85301,
        Permanent,
        "域名没有在第三方平台设置，或不符合域名规则",
        "domain not registered on the platform or breaks the domain rules",
        "登记到第三方平台并去掉 IP、端口错误等后再配置；返回的 invalid_* 列出了被拒的域名。",
        "Register the domains on the platform and fix them (no IPs…); the invalid_* lists name the refused ones."
    ),
    info!(
        86000,
        Permission,
        "只能由第三方平台调用",
        "should be called only from third party",
        "使用第三方平台代小程序调用的令牌（authorizer_access_token），不要用小程序自己的令牌。",
        "Call with the platform's authorizer_access_token, not the mini program's own token."
    ),
    info!(
        86001,
        Permanent,
        "还没有上传代码（没有体验版）",
        "component experience version not exists",
        "先上传代码生成体验版。",
        "Commit code first to create the trial version."
    ),
    info!(
        86002,
        Permanent,
        "小程序还未设置昵称、头像或简介",
        "the mini program has no name, avatar or introduction yet",
        "请商家先在小程序后台完善名称、头像和简介。",
        "Have the merchant set the name, avatar and introduction first."
    ),
    info!(
        86007,
        Permission,
        "该小程序被禁止提交审核",
        "the mini program may not submit",
        "小程序受限，请商家在小程序后台查看违规通知。",
        "The mini program is restricted: the merchant should check its violation notices."
    ),
    info!(
        86008,
        Permission,
        "服务商被处罚，暂停提审",
        "the platform is penalized: submissions suspended",
        "在开放平台查看第三方平台的处罚通知。",
        "Check the platform's penalty notices on the Open Platform."
    ),
    info!(
        86009,
        Permission,
        "服务商被处罚，暂停新小程序提审",
        "the platform is penalized: new mini programs may not submit",
        "在开放平台查看第三方平台的处罚通知。",
        "Check the platform's penalty notices on the Open Platform."
    ),
    info!(
        86010,
        Permission,
        "服务商被处罚，暂停小程序迭代提审",
        "the platform is penalized: updates may not be submitted",
        "在开放平台查看第三方平台的处罚通知。",
        "Check the platform's penalty notices on the Open Platform."
    ),
    info!(
        87006,
        Permanent,
        "小游戏不能通过此接口提交",
        "mini games cannot be submitted here",
        "小游戏请走小游戏的提审流程。",
        "Submit mini games through their own process."
    ),
    info!(
        87011,
        Permanent,
        "正在灰度发布，不能版本回退",
        "a gray release is running, rollback not possible",
        "先完成或撤销灰度发布，再回退。",
        "Finish or cancel the gray release first."
    ),
    info!(
        87012,
        Permanent,
        "该版本不能回退或撤回",
        "forbid revert this version release",
        "没有可回退的上一个版本、刚回退过，或审核已结束不能撤回；查看可回退版本列表。",
        "No previous version, just rolled back, or the audit is over and cannot be withdrawn: check the history list."
    ),
    info!(
        87013,
        Quota,
        "撤回审核次数已达上限",
        "no quota to undo code audit",
        "每个小程序每天最多撤回 5 次、每月 10 次；请明天再试。",
        "At most 5 withdrawals a day and 10 a month per mini program: try tomorrow."
    ),
    info!(
        89019,
        Permanent,
        "业务域名无更改，无需重复设置",
        "webview domains unchanged",
        "无需操作。",
        "Nothing to do."
    ),
    info!(
        89020,
        Permanent,
        "第三方平台尚未设置小程序业务域名",
        "the platform has no webview domains",
        "先在开放平台的第三方平台设置中登记业务域名。",
        "Register webview domains in the platform's settings first."
    ),
    info!(
        89021,
        Permanent,
        "该域名不是第三方平台的业务域名",
        "the domain is not one of the platform's webview domains",
        "只能设置第三方平台已登记的业务域名（或其子域名）。",
        "Only the platform's registered webview domains (or their subdomains) may be set."
    ),
    info!(
        89022,
        Permanent,
        "要删除的业务域名不存在",
        "the webview domain to delete does not exist",
        "先获取当前业务域名列表再删除。",
        "Get the current webview domains before deleting."
    ),
    info!(
        89029,
        Permanent,
        "业务域名数量超过限制",
        "too many webview domains",
        "删除不用的业务域名后再添加。",
        "Remove unused webview domains first."
    ),
    info!(
        89401,
        Retryable,
        "系统不稳定，请稍后再试",
        "system unstable, retry later",
        "稍后再加急。",
        "Try the speed-up again later."
    ),
    info!(
        89402,
        Permanent,
        "该审核单不在待审核队列",
        "the audit is not waiting in the queue",
        "审核可能已经结束或未提交；查看审核状态。",
        "The audit may be over or not submitted: check its status."
    ),
    info!(
        89403,
        Permanent,
        "该审核单不支持加急",
        "this audit cannot be sped up",
        "平台不支持该类审核加急，请耐心等待。",
        "WeChat does not speed up this kind of audit: wait for it."
    ),
    info!(
        89404,
        Permanent,
        "该审核单已加急，请勿重复提交",
        "already sped up",
        "无需再次加急。",
        "No need to speed it up again."
    ),
    info!(
        89405,
        Quota,
        "本月加急额度已用完",
        "monthly speed-up quota used up",
        "查询审核额度（speedup_rest）；下月恢复。",
        "Check the quota (speedup_rest); it renews next month."
    ),
    info!(
        9402203,
        Permanent,
        "标准模板 ext.json 错误",
        "invalid ext.json for a standard template",
        "标准模板只接受 extAppid、ext 和 window 三个字段。",
        "Standard templates accept only extAppid, ext and window."
    ),
];
