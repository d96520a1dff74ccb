//! Authorization page links (protocol C.3). Pure functions: the app opens them from the relay's
//! 授权发起页 so WeChat sees the registered domain as Referer.

use crate::error::{Error, Result};

/// PC (scan a QR code) page host.
pub const PC_AUTH_BASE: &str = "https://mp.weixin.qq.com";
/// Mobile/H5 page host as the current docs give it (`…/wxaopen/safe/bindcomponent`).
pub const MOBILE_AUTH_BASE: &str = "https://open.weixin.qq.com/wxaopen";
/// Older docs/SDKs: `https://mp.weixin.qq.com/safe/bindcomponent`; same parameters.
pub const MOBILE_AUTH_BASE_LEGACY: &str = "https://mp.weixin.qq.com";

/// Which account kinds the admin may pick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthType {
    OfficialAccount = 1,
    MiniProgram = 2,
    Both = 3,
}

#[derive(Debug, Clone)]
pub struct AuthUrlParams<'a> {
    pub component_appid: &'a str,
    pub pre_auth_code: &'a str,
    /// Where WeChat sends the browser with `auth_code` and `expires_in`; must be on the
    /// registered domain.
    pub redirect_uri: &'a str,
    pub auth_type: Option<AuthType>,
    /// Restrict to exactly this account.
    pub biz_appid: Option<&'a str>,
}

/// RFC 3986 percent-encoding of everything but the unreserved set, so a redirect_uri's own
/// `?`, `&` and `=` survive as part of the value.
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn query(p: &AuthUrlParams<'_>) -> Result<String> {
    if p.component_appid.is_empty() || p.pre_auth_code.is_empty() {
        return Err(Error::InvalidArgument(
            "component_appid 和 pre_auth_code 不能为空".into(),
        ));
    }
    // WeChat appends `?auth_code=…` to redirect_uri; a fragment would swallow it.
    if p.redirect_uri.contains('#') {
        return Err(Error::InvalidArgument(
            "redirect_uri 不能包含 '#' (redirect_uri must not contain '#')".into(),
        ));
    }
    let parsed = url::Url::parse(p.redirect_uri)
        .map_err(|_| Error::InvalidArgument("redirect_uri 必须是完整的 http(s) 地址".into()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(Error::InvalidArgument(
            "redirect_uri 必须是完整的 http(s) 地址".into(),
        ));
    }
    let mut q = format!(
        "component_appid={}&pre_auth_code={}&redirect_uri={}",
        encode(p.component_appid),
        encode(p.pre_auth_code),
        encode(p.redirect_uri)
    );
    if let Some(t) = p.auth_type {
        q.push_str(&format!("&auth_type={}", t as u8));
    }
    if let Some(biz) = p.biz_appid {
        q.push_str(&format!("&biz_appid={}", encode(biz)));
    }
    Ok(q)
}

/// `{base}/cgi-bin/componentloginpage?…` (base: [`PC_AUTH_BASE`], or the simulator).
pub fn pc_auth_url(base: &str, p: &AuthUrlParams<'_>) -> Result<String> {
    Ok(format!(
        "{}/cgi-bin/componentloginpage?{}",
        base.trim_end_matches('/'),
        query(p)?
    ))
}

/// `{base}/safe/bindcomponent?action=bindcomponent&no_scan=1&…#wechat_redirect`
/// (base: [`MOBILE_AUTH_BASE`], [`MOBILE_AUTH_BASE_LEGACY`], or the simulator).
pub fn mobile_auth_url(base: &str, p: &AuthUrlParams<'_>) -> Result<String> {
    Ok(format!(
        "{}/safe/bindcomponent?action=bindcomponent&no_scan=1&{}#wechat_redirect",
        base.trim_end_matches('/'),
        query(p)?
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(redirect: &str) -> AuthUrlParams<'_> {
        AuthUrlParams {
            component_appid: "wx5a9d0c0e7f3b1a2c",
            pre_auth_code: "preauthcode@@@a+b/c=",
            redirect_uri: redirect,
            auth_type: Some(AuthType::Both),
            biz_appid: None,
        }
    }

    #[test]
    fn pc_url_encodes_redirect_uri_with_its_query_and_the_code() {
        let url = pc_auth_url(
            PC_AUTH_BASE,
            &params("https://relay.example.com/auth/callback?state=a&b=1"),
        )
        .unwrap();
        assert_eq!(
            url,
            "https://mp.weixin.qq.com/cgi-bin/componentloginpage?component_appid=wx5a9d0c0e7f3b1a2c&pre_auth_code=preauthcode%40%40%40a%2Bb%2Fc%3D&redirect_uri=https%3A%2F%2Frelay.example.com%2Fauth%2Fcallback%3Fstate%3Da%26b%3D1&auth_type=3"
        );
        // Decoding the query gives back the exact redirect_uri as one parameter.
        let parsed = url::Url::parse(&url).unwrap();
        let got: Vec<(String, String)> = parsed.query_pairs().into_owned().collect();
        assert!(got.contains(&(
            "redirect_uri".into(),
            "https://relay.example.com/auth/callback?state=a&b=1".into()
        )));
        assert!(got.contains(&("pre_auth_code".into(), "preauthcode@@@a+b/c=".into())));
    }

    #[test]
    fn mobile_url_has_bindcomponent_flags_biz_appid_and_wechat_redirect_fragment() {
        let mut p = params("http://127.0.0.1:8080/auth/callback");
        p.biz_appid = Some("wxf8b4f85f3a794e77");
        p.auth_type = None;
        let url = mobile_auth_url(MOBILE_AUTH_BASE, &p).unwrap();
        assert_eq!(
            url,
            "https://open.weixin.qq.com/wxaopen/safe/bindcomponent?action=bindcomponent&no_scan=1&component_appid=wx5a9d0c0e7f3b1a2c&pre_auth_code=preauthcode%40%40%40a%2Bb%2Fc%3D&redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2Fauth%2Fcallback&biz_appid=wxf8b4f85f3a794e77#wechat_redirect"
        );
    }

    #[test]
    fn a_hash_in_redirect_uri_is_refused() {
        for f in [pc_auth_url, mobile_auth_url] {
            assert!(matches!(
                f(PC_AUTH_BASE, &params("https://relay.example.com/cb#frag")),
                Err(Error::InvalidArgument(_))
            ));
        }
    }

    #[test]
    fn relative_or_non_http_redirect_uri_and_empty_code_are_refused() {
        assert!(pc_auth_url(PC_AUTH_BASE, &params("/auth/callback")).is_err());
        assert!(pc_auth_url(PC_AUTH_BASE, &params("javascript:alert(1)")).is_err());
        let mut p = params("https://a.example/cb");
        p.pre_auth_code = "";
        assert!(pc_auth_url(PC_AUTH_BASE, &p).is_err());
    }
}
