//! The authorization pages (protocol C.3): `/cgi-bin/componentloginpage` (PC, scan) and
//! `/safe/bindcomponent` (mobile, also under `/wxaopen/`). Like the real pages they check that
//! the launch page (Referer) and redirect_uri are on the registered 授权发起页 domain, list the
//! accounts a scanning admin could pick, and on 授权 redirect with `auth_code` and `expires_in`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::api::parse_query;
use crate::sim::Sim;
use crate::world::Account;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<title>{t}</title><style>body{{font-family:sans-serif;max-width:720px;margin:2em auto;color:#333}}\
.acct{{display:flex;align-items:center;gap:12px;border:1px solid #e5e5e5;border-radius:6px;padding:10px;margin:8px 0}}\
.acct img{{width:48px;height:48px;border-radius:50%}}.meta{{flex:1}}.meta small{{color:#888}}\
button{{background:#07c160;color:#fff;border:0;border-radius:4px;padding:8px 18px;font-size:15px;cursor:pointer}}\
.err{{color:#c00}}</style></head><body><h2>{t}</h2>{body}</body></html>",
        t = esc(title)
    )
}

fn error_page(msg: &str) -> Response {
    (
        StatusCode::OK,
        Html(page(
            "授权失败",
            &format!("<p class=\"err\" id=\"error\">{}</p>", esc(msg)),
        )),
    )
        .into_response()
}

/// The registered domain as a bare lower-case host (a `host:port` or URL form is tolerated;
/// WeChat registers hosts, and the match is on the host only).
fn registered_host(d: &str) -> String {
    let d = d.trim();
    if let Some(h) = host_of(d) {
        return h;
    }
    host_of(&format!("http://{d}/")).unwrap_or_else(|| d.to_ascii_lowercase())
}

/// Host of a URL, lower-cased.
fn host_of(u: &str) -> Option<String> {
    url::Url::parse(u)
        .ok()?
        .host_str()
        .map(str::to_ascii_lowercase)
}

fn kind_label(a: &Account) -> &'static str {
    match a.kind {
        crate::world::Kind::Service => "服务号",
        crate::world::Kind::Subscription => "订阅号",
        crate::world::Kind::MiniProgram => "小程序",
    }
}

/// The login session cookie's name (`wxsim_login=`).
const SESSION_COOKIE: &str = "wxsim_login=";

/// GET of either login page.
pub async fn login_page(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let q = parse_query(q.as_deref());
    let get = |k: &str| q.get(k).map(String::as_str).unwrap_or("");
    let domain = registered_host(&sim.cfg.auth_domain);
    let referer_host = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(host_of);
    if referer_host.as_deref() != Some(domain.as_str()) {
        return error_page(&format!(
            "请确认授权入口页所在域名，与授权后回调页所在域名相同，并且，此两者都必须与申请第三方平台时填写的授权发起页域名相同。授权入口页所在域名：{}",
            referer_host.as_deref().unwrap_or("空")
        ));
    }
    let redirect_uri = get("redirect_uri");
    let redirect_host = host_of(redirect_uri);
    if redirect_host.as_deref() != Some(domain.as_str()) {
        return error_page(&format!(
            "请确认授权回调页所在域名与授权发起页域名相同。授权回调页所在域名：{}",
            redirect_host.as_deref().unwrap_or("空")
        ));
    }
    if get("component_appid") != sim.cfg.component_appid {
        return error_page("第三方平台 appid 无效 / invalid component_appid");
    }
    let pre_auth_code = get("pre_auth_code");
    if let Err(e) = sim.check_pre_auth(pre_auth_code, Some(redirect_uri)) {
        return error_page(e.message());
    }
    let biz = get("biz_appid");
    let auth_type = get("auth_type");
    let authorized: Vec<u16> = sim.lock().authz.keys().copied().collect();
    let mut rows = String::new();
    for a in sim.world.accounts.iter().filter(|a| !a.release_test) {
        let shown = if !biz.is_empty() {
            a.appid == biz
        } else {
            match auth_type {
                "1" => a.kind.is_official(),
                "2" => !a.kind.is_official(),
                _ => true,
            }
        };
        if !shown {
            continue;
        }
        let status = if authorized.contains(&a.index) {
            " · 已授权"
        } else {
            ""
        };
        rows.push_str(&format!(
            "<div class=\"acct\" id=\"account-{appid}\"><img src=\"{avatar}\" alt=\"\"><div class=\"meta\"><b>{nick}</b><br>\
<small>{kind}{verified} · {principal}{status}</small></div>\
<form method=\"post\" action=\"/__sim/login/confirm\"><input type=\"hidden\" name=\"pre_auth_code\" value=\"{code}\">\
<input type=\"hidden\" name=\"authorizer_appid\" value=\"{appid}\">\
<button type=\"submit\" id=\"authorize-{appid}\">授权</button></form></div>",
            appid = esc(&a.appid),
            avatar = esc(&format!("/__sim/avatar/{}.svg", a.appid)),
            nick = esc(&a.nickname),
            kind = kind_label(a),
            verified = if a.verified { " · 已认证" } else { " · 未认证" },
            principal = esc(&a.principal_name),
            code = esc(pre_auth_code),
        ));
    }
    if rows.is_empty() {
        return error_page("没有可授权的帐号（该管理员名下无符合条件的公众号或小程序）");
    }
    let body = format!(
        "<p>请使用公众号或小程序管理员微信扫码，选择要授权给第三方平台的帐号。（模拟器：直接点击“授权”）</p>{rows}"
    );
    // WeChat's login page keeps the scanning admin's session in a cookie; so does the sim, and it
    // counts the pages asked for with a session still set, so a test can tell whether a browser
    // kept the login from an earlier authorization.
    let had_session = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(';').any(|c| c.trim().starts_with(SESSION_COOKIE)));
    {
        let mut st = sim.lock();
        st.login_pages += 1;
        if had_session {
            st.login_pages_with_session += 1;
        }
    }
    let cookie = format!(
        "{SESSION_COOKIE}{:016x}; Path=/; Max-Age=86400; HttpOnly",
        rand::random::<u64>()
    );
    let mut resp = Html(page("公众号/小程序授权", &body)).into_response();
    if let Ok(v) = header::HeaderValue::from_str(&cookie) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

/// POST of the 授权 button: redirect to redirect_uri with auth_code and expires_in.
pub async fn confirm(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let form = parse_query(std::str::from_utf8(&body).ok());
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    match sim.authorize(get("pre_auth_code"), get("authorizer_appid"), None) {
        Ok(done) => match done.redirect {
            Some(to) => (StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response(),
            None => Html(page(
                "授权成功",
                "<p id=\"done\">授权成功，可关闭此页。</p>",
            ))
            .into_response(),
        },
        Err(e) => error_page(e.message()),
    }
}

/// A generated avatar: the first character of the nickname on a seed-coloured disc.
pub fn avatar_svg(a: &Account, seed: u64) -> String {
    let h = crate::ids::hash(seed, &[u64::from(a.index), 0xA7]);
    let first = a.nickname.chars().next().unwrap_or('微');
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"96\" height=\"96\" viewBox=\"0 0 96 96\">\
<circle cx=\"48\" cy=\"48\" r=\"48\" fill=\"hsl({} 60% 45%)\"/>\
<text x=\"48\" y=\"62\" font-size=\"44\" text-anchor=\"middle\" fill=\"#fff\" font-family=\"sans-serif\">{}</text></svg>",
        h % 360,
        esc(&first.to_string())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_compare_without_port_or_case() {
        assert_eq!(
            host_of("HTTP://Relay.Example.COM:8443/auth/start?x=1").as_deref(),
            Some("relay.example.com")
        );
        assert_eq!(host_of("not a url"), None);
        assert_eq!(registered_host("127.0.0.1"), "127.0.0.1");
        assert_eq!(registered_host("127.0.0.1:8080"), "127.0.0.1");
        assert_eq!(registered_host("Relay.Example.com"), "relay.example.com");
        assert_eq!(
            registered_host("https://relay.example.com/"),
            "relay.example.com"
        );
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
