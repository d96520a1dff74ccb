//! The crate's one error type. Messages never contain a secret: tokens and keys are not
//! formatted into any variant, and HTTP errors are stripped of their URL (which carries
//! `access_token=` in the query) before they are stored.

use crate::errcode::{self, ErrKind};

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    // ---- message crypto (the official SDK's -4000x codes in brackets) ----
    /// EncodingAESKey is not 43 characters of `[A-Za-z0-9]` [-40004].
    #[error(
        "EncodingAESKey 无效：必须是 43 位字母或数字 (invalid EncodingAESKey: must be 43 letters/digits)"
    )]
    InvalidAesKey,
    #[error("消息校验 Token 不能为空 (the message token must not be empty)")]
    EmptyToken,
    /// msg_signature or signature does not match [-40001].
    #[error("签名校验失败 (signature mismatch)")]
    SignatureMismatch,
    /// Not valid base64 [-40010].
    #[error("base64 解码失败 (invalid base64)")]
    Base64,
    /// Ciphertext length or padding is impossible [-40007].
    #[error("AES 解密失败 (AES decryption failed)")]
    Decrypt,
    /// The decrypted buffer does not follow random|len|msg|receive_id [-40008].
    #[error("解密后的数据格式不正确 (malformed plaintext after decryption)")]
    MalformedPlaintext,
    /// The receive id trailer is not the one we expect [-40005]. Appids are public identifiers,
    /// so they may appear here.
    #[error("接收方 appid 不匹配：期望 {expected}，实际 {actual} (receive id mismatch)")]
    ReceiveIdMismatch { expected: String, actual: String },
    /// Mini-program data: watermark.appid differs from ours.
    #[error(
        "小程序数据水印 appid 不匹配：期望 {expected}，实际 {actual} (watermark appid mismatch)"
    )]
    WatermarkMismatch { expected: String, actual: String },

    // ---- XML ----
    /// Body larger than the parser accepts.
    #[error("XML 过大：{len} 字节，上限 {limit} 字节 (XML too large)")]
    XmlTooLarge { len: usize, limit: usize },
    /// DOCTYPE / entity declarations / unknown entity references are refused (XXE, billion laughs).
    #[error("XML 含有被禁止的 DTD 或实体引用 (XML with DTD or entity references is refused)")]
    XmlForbidden,
    /// Not well-formed, or not the `<xml>…</xml>` shape WeChat uses [-40002].
    #[error("XML 格式错误：{0} (malformed XML)")]
    Xml(String),
    /// A required element is absent or not a number.
    #[error("缺少字段或字段格式错误：{0} (missing or malformed field)")]
    MissingField(&'static str),

    // ---- API ----
    /// A WeChat errcode != 0.
    #[error(transparent)]
    WeChat(#[from] WeChatError),
    /// Transport failure (connect, TLS, timeout): where and why ([`transport_detail`]), never
    /// the URL's path or query. `reached`: the request may have reached the server (false only
    /// when it never connected, so it surely was not received).
    #[error("网络请求失败 (HTTP request failed): {detail}")]
    Http {
        detail: String,
        timeout: bool,
        reached: bool,
    },
    /// Non-2xx status with a body that is not a WeChat error.
    #[error("HTTP 状态异常 {status} (unexpected HTTP status)")]
    HttpStatus { status: u16 },
    /// A 3xx answer. Redirects are never followed: the request carries an access token (or the
    /// relay key) that must not go to another host. Only the host it pointed to is kept (the
    /// rest of the location could echo the token).
    #[error(
        "接口地址返回重定向（HTTP {status}，指向 {host}），wxdesk 不跟随重定向：请检查「设置」中的接口地址或中继地址 (redirect to {host} refused: check the API or relay address in Settings)"
    )]
    Redirect { status: u16, host: String },
    /// The body was not the JSON we expected.
    #[error("响应不是预期的 JSON：{0} (unexpected response body)")]
    Json(String),
    /// A caller-supplied argument the API would reject anyway.
    #[error("参数无效：{0} (invalid argument)")]
    InvalidArgument(String),
    /// An image WeChat would refuse as temporary media, refused before uploading.
    #[error("{} ({})", .0.zh(), .0.en())]
    ImageRefused(crate::api::ImageRefusal),

    // ---- token cache ----
    /// No component_verify_ticket is available yet.
    #[error(
        "尚未收到 component_verify_ticket，请确认授权事件接收 URL 配置正确 (no component_verify_ticket yet)"
    )]
    NoTicket,
    /// No refresh token is stored for this authorizer.
    #[error("没有公众号 {appid} 的 refresh_token，请重新授权 (no refresh token stored)")]
    NoRefreshToken { appid: String },
    /// The refresh-token store or ticket source failed.
    #[error("令牌存储失败：{0} (token store failed)")]
    Store(String),
}

impl From<reqwest::Error> for Error {
    fn from(e: reqwest::Error) -> Self {
        // The URL holds access_token / component_access_token: only its host is kept.
        Error::Http {
            detail: transport_detail(&e),
            timeout: e.is_timeout(),
            reached: !(e.is_connect() || e.is_builder()),
        }
    }
}

/// Where a transport failure happened and why, as `host:port: innermost cause`
/// (`api.weixin.qq.com:443: Connection refused (os error 111)`) — not reqwest's bare "error
/// sending request". Only the host and port are taken from the URL: its path and query can
/// carry a token.
pub fn transport_detail(e: &reqwest::Error) -> String {
    let host = e.url().and_then(|u| {
        let h = u.host_str()?;
        Some(match u.port_or_known_default() {
            Some(p) => format!("{h}:{p}"),
            None => h.to_owned(),
        })
    });
    let mut cause: &dyn std::error::Error = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    // reqwest's own Display names the URL: with no deeper cause, say only what kind it was.
    let why = if std::ptr::addr_eq(cause, e as &dyn std::error::Error) {
        let kind = if e.is_timeout() {
            "timed out"
        } else if e.is_connect() {
            "could not connect"
        } else if e.is_body() || e.is_decode() {
            "the answer's body could not be read"
        } else {
            "the request failed"
        };
        kind.to_owned()
    } else {
        cause.to_string()
    };
    match host {
        Some(h) => format!("{h}: {why}"),
        None => why,
    }
}

impl Error {
    /// The message in English only (`Display` is Chinese with the English in brackets), for a
    /// face whose user chose English.
    pub fn message_en(&self) -> String {
        match self {
            Error::InvalidAesKey => {
                "Invalid EncodingAESKey: it must be 43 letters or digits".into()
            }
            Error::EmptyToken => "The message token must not be empty".into(),
            Error::SignatureMismatch => "Signature mismatch".into(),
            Error::Base64 => "Invalid base64".into(),
            Error::Decrypt => "AES decryption failed".into(),
            Error::MalformedPlaintext => "Malformed plaintext after decryption".into(),
            Error::ReceiveIdMismatch { expected, actual } => {
                format!("Receive id mismatch: expected {expected}, got {actual}")
            }
            Error::WatermarkMismatch { expected, actual } => {
                format!("Mini-program watermark appid mismatch: expected {expected}, got {actual}")
            }
            Error::XmlTooLarge { len, limit } => {
                format!("XML too large: {len} bytes, at most {limit}")
            }
            Error::XmlForbidden => "XML with a DTD or entity references is refused".into(),
            Error::Xml(e) => format!("Malformed XML: {e}"),
            Error::MissingField(f) => format!("Missing or malformed field: {f}"),
            Error::WeChat(e) => match e.info() {
                Some(i) => format!("WeChat error {}: {} ({})", e.errcode, i.en, e.errmsg),
                None => format!("WeChat error {}: {}", e.errcode, e.errmsg),
            },
            Error::Http { detail, .. } => format!("HTTP request failed: {detail}"),
            Error::HttpStatus { status } => format!("Unexpected HTTP status {status}"),
            Error::Redirect { status, host } => format!(
                "The API address answered with a redirect (HTTP {status}, to {host}); wxdesk \
                 does not follow redirects: check the API or relay address in Settings"
            ),
            Error::Json(e) => format!("Unexpected response body: {e}"),
            Error::InvalidArgument(e) => format!("Invalid argument: {e}"),
            Error::ImageRefused(r) => r.en(),
            Error::NoTicket => "No component_verify_ticket yet: check that the authorization \
                 event URL is configured correctly"
                .into(),
            Error::NoRefreshToken { appid } => {
                format!("No refresh_token is stored for {appid}: authorize it again")
            }
            Error::Store(e) => format!("The token store failed: {e}"),
        }
    }

    /// The WeChat error inside, if this is one.
    pub fn wechat(&self) -> Option<&WeChatError> {
        match self {
            Error::WeChat(e) => Some(e),
            _ => None,
        }
    }

    /// The errcode's kind, or `Retryable` for transport failures.
    pub fn kind(&self) -> Option<ErrKind> {
        match self {
            Error::WeChat(e) => Some(e.kind),
            Error::Http { .. } => Some(ErrKind::Retryable),
            Error::HttpStatus { status } if *status >= 500 => Some(ErrKind::Retryable),
            _ => None,
        }
    }
}

/// `{"errcode": N, "errmsg": "..."}` with N != 0. errmsg is WeChat's text (with its `rid:`
/// trace suffix), never a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("微信接口错误 {errcode}：{errmsg}")]
pub struct WeChatError {
    pub errcode: i64,
    pub errmsg: String,
    pub kind: ErrKind,
}

impl WeChatError {
    pub fn new(errcode: i64, errmsg: impl Into<String>) -> Self {
        Self {
            errcode,
            errmsg: errmsg.into(),
            kind: errcode::kind_of(errcode),
        }
    }

    /// Explanation and hint for this code, when we know it.
    pub fn info(&self) -> Option<&'static errcode::ErrInfo> {
        errcode::explain(self.errcode)
    }

    /// True for the codes after which the token cache drops the token and retries once.
    pub fn is_token_invalid(&self) -> bool {
        self.kind == ErrKind::TokenInvalid
    }
}
