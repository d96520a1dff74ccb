//! The shell without a window: tauri's mock runtime invokes a few commands through the real IPC
//! path (argument decoding, managed state, the `{code, message, hint, errcode}` error shape)
//! against a temporary data dir, so a command that no longer decodes its arguments or reaches
//! its state fails here and not only in the end-to-end suite.

use serde_json::{Value, json};
use tauri::Manager;
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{
    INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder, mock_context, noop_assets,
};
use tauri::webview::InvokeRequest;
use wxdesk_core::context::Context;
use wxdesk_core::secrets::Secrets;

use crate::commands;
use crate::state::AppState;

/// The window's language is process-wide (`set_language`): tests that switch it take turns.
static LANG: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The app's own handler (every command of the one list, for the mock runtime) over `state`,
/// and its main window.
fn mock_app(state: AppState) -> (tauri::App<MockRuntime>, tauri::WebviewWindow<MockRuntime>) {
    let app = mock_builder()
        .invoke_handler(
            tauri_specta::Builder::<MockRuntime>::new()
                .commands(crate::app_commands!(MockRuntime))
                .invoke_handler(),
        )
        .build(mock_context(noop_assets()))
        .expect("mock app");
    app.manage(state);
    let w = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .expect("mock window");
    (app, w)
}

fn has_cjk(s: &str) -> bool {
    s.chars().any(|c| ('\u{3000}'..='\u{9fff}').contains(&c))
}

fn invoke(w: &tauri::WebviewWindow<MockRuntime>, cmd: &str, args: Value) -> Result<Value, Value> {
    get_ipc_response(
        w,
        InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().expect("url"),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|b| b.deserialize::<Value>().expect("a JSON answer"))
}

#[test]
fn commands_answer_through_ipc_without_a_window() {
    let _lang = LANG.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().expect("temp dir");
    let ctx =
        tauri::async_runtime::block_on(Context::open_with_secrets(dir.path(), Secrets::memory()))
            .expect("open the core");
    // The app's own handler: every command of the one list, for the mock runtime.
    let app = mock_builder()
        .invoke_handler(
            tauri_specta::Builder::<MockRuntime>::new()
                .commands(crate::app_commands!(MockRuntime))
                .invoke_handler(),
        )
        .build(mock_context(noop_assets()))
        .expect("mock app");
    app.manage(AppState::new(ctx, dir.path().to_path_buf()));
    let w = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .expect("mock window");

    let info = invoke(&w, "app_info", json!({})).expect("app_info");
    assert_eq!(info["mode"], "unconfigured", "{info}");
    assert_eq!(
        info["data_dir"],
        dir.path().to_string_lossy().as_ref(),
        "{info}"
    );

    assert_eq!(
        invoke(&w, "jobs_list", json!({ "appid": null })),
        Ok(json!([]))
    );
    let page = invoke(
        &w,
        "interactions_open",
        json!({ "appid": "wx0123456789abcdef", "after": null, "limit": 10 }),
    )
    .expect("interactions_open");
    assert_eq!(page["total"], 0, "{page}");

    // 域名: the window's op and six lists decode and reach core (which refuses a mini program
    // it does not know); an op outside WeChat's four does not decode at all.
    let lists = json!({ "requestdomain": ["https://api.example.com"], "wsrequestdomain": [],
        "uploaddomain": [], "downloaddomain": [], "udpdomain": [], "tcpdomain": [] });
    let refused = invoke(
        &w,
        "code_domains",
        json!({ "appid": "wx0123456789abcdef", "op": "set", "lists": lists }),
    )
    .expect_err("no such mini program");
    assert!(refused["code"].is_string(), "core's error shape: {refused}");
    let bad = invoke(
        &w,
        "code_domains",
        json!({ "appid": "wx0123456789abcdef", "op": "replace", "lists": lists }),
    )
    .expect_err("no such op");
    assert!(bad.is_string(), "an argument that does not decode: {bad}");
    let web = invoke(
        &w,
        "code_webview_domains",
        json!({ "appid": "wx0123456789abcdef", "op": null, "domains": [] }),
    )
    .expect_err("no such mini program");
    assert!(web["code"].is_string(), "{web}");

    // A core refusal arrives in the documented {code, message, hint, errcode} shape, in the
    // language the window set.
    let draft = json!({ "draft": {
        "appid": "wx0123456789abcdef", "template_id": "TPL", "title": "",
        "data": {}, "jump": { "type": "none" } }, "recipients": null });
    invoke(&w, "set_language", json!({ "lang": "en" })).expect("set_language");
    let en = invoke(&w, "compose_check", draft.clone()).expect_err("no such template");
    assert_eq!(en["code"], "invalid", "{en}");
    assert_eq!(en["errcode"], Value::Null, "{en}");
    let message = en["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("There is no local template TPL"),
        "{en}"
    );
    invoke(&w, "set_language", json!({ "lang": "zh" })).expect("set_language");
    let zh = invoke(&w, "compose_check", draft).expect_err("no such template");
    assert!(
        zh["message"]
            .as_str()
            .unwrap_or_default()
            .contains("本地没有"),
        "{zh}"
    );
}

/// 设置 → 加入团队 on a desk that is not joined: nothing to show, and a join the server side
/// refuses (a plain-http remote address; a loopback port nobody listens on) changes nothing,
/// with the refusal in the window's language.
#[test]
fn a_refused_join_leaves_the_desk_in_its_local_workspace() {
    let _lang = LANG.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().expect("temp dir");
    let ctx =
        tauri::async_runtime::block_on(Context::open_with_secrets(dir.path(), Secrets::memory()))
            .expect("open the core");
    let team_keys = Secrets::memory();
    let state = AppState::with_team_secrets(ctx, dir.path().to_path_buf(), team_keys.clone());
    let (_app, w) = mock_app(state);

    assert_eq!(invoke(&w, "team_status", json!({})), Ok(Value::Null));
    assert_eq!(invoke(&w, "team_membership", json!({})), Ok(Value::Null));

    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    invoke(&w, "set_language", json!({ "lang": "en" })).expect("set_language");
    for url in [
        "http://team.example.com".to_string(),
        format!("http://127.0.0.1:{port}"),
    ] {
        let e = invoke(
            &w,
            "team_join",
            json!({ "serverUrl": url, "memberKey": "wxm_not-a-real-key" }),
        )
        .expect_err("refused");
        let message = e["message"].as_str().unwrap_or_default();
        assert!(!message.is_empty() && !has_cjk(message), "{url}: {e}");
        assert!(!e.to_string().contains("wxm_not-a-real-key"), "{e}");
    }
    invoke(&w, "set_language", json!({ "lang": "zh" })).expect("set_language");
    let e = invoke(
        &w,
        "team_join",
        json!({ "serverUrl": "http://team.example.com", "memberKey": "k" }),
    )
    .expect_err("refused");
    assert!(has_cjk(e["message"].as_str().unwrap_or_default()), "{e}");

    assert_eq!(invoke(&w, "team_status", json!({})), Ok(Value::Null));
    assert!(!dir.path().join("team/membership.json").exists());
    let key =
        tauri::async_runtime::block_on(team_keys.get(wxdesk_core::secrets::SecretKey::RelayKey))
            .expect("read the store");
    assert!(key.is_none(), "a refused key is not kept");
}

/// A desk that was joined at start: the header's membership comes from the session's workspace,
/// status and leave look in the BASE data dir (where `ctx.data_dir` is `<base>/team`), and
/// leaving removes the team workspace and its key but nothing of the local one.
#[test]
fn a_joined_desk_shows_its_membership_and_leaves_to_the_local_workspace() {
    let _lang = LANG.lock().unwrap_or_else(|e| e.into_inner());
    let base = tempfile::tempdir().expect("temp dir");
    std::fs::write(base.path().join("local-note"), b"local").expect("a local file");
    let ws = wxdesk_core::team::workspace_dir(base.path());
    std::fs::create_dir_all(&ws).expect("team dir");
    // Nobody listens there: the status check finds the server unreachable.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let server_url = format!(
        "http://127.0.0.1:{}",
        closed.local_addr().expect("addr").port()
    );
    drop(closed);
    let membership = wxdesk_core::team::Membership {
        server_url: server_url.clone(),
        member: "alice".into(),
        role: "operator".into(),
        component_appid: "wx0123456789abcdef".into(),
        joined_at: 1_795_000_000,
    };
    std::fs::write(
        ws.join("membership.json"),
        serde_json::to_vec(&membership).expect("json"),
    )
    .expect("membership");
    let team_keys = Secrets::memory();
    tauri::async_runtime::block_on(team_keys.set(
        wxdesk_core::secrets::SecretKey::RelayKey,
        wxdesk_core::secrets::Secret::new("wxm_alice-key"),
    ))
    .expect("key");
    let active = wxdesk_core::team::active_dir(base.path());
    assert_eq!(active, ws, "the app opens the team workspace while joined");
    let ctx =
        tauri::async_runtime::block_on(Context::open_with_secrets(&active, Secrets::memory()))
            .expect("open the team workspace");
    let state = AppState::with_team_secrets(ctx, base.path().to_path_buf(), team_keys.clone());
    let (_app, w) = mock_app(state);

    let m = invoke(&w, "team_membership", json!({})).expect("team_membership");
    assert_eq!(m["member"], "alice", "{m}");
    assert_eq!(m["role"], "operator", "{m}");

    let s = invoke(&w, "team_status", json!({})).expect("team_status");
    assert_eq!(s["membership"]["member"], "alice", "{s}");
    assert_eq!(s["membership"]["server_url"], server_url.as_str(), "{s}");
    assert_eq!(s["accepted"], false, "{s}");
    assert_eq!(s["role_now"], Value::Null, "{s}");
    let en = s["problem"]["en"].as_str().unwrap_or_default();
    assert!(!en.is_empty() && !has_cjk(en), "{s}");
    assert!(
        has_cjk(s["problem"]["zh"].as_str().unwrap_or_default()),
        "{s}"
    );
    assert!(!s.to_string().contains("wxm_alice-key"), "{s}");

    assert_eq!(invoke(&w, "team_leave", json!({})), Ok(json!(true)));
    assert!(!ws.exists(), "the team workspace is removed");
    assert!(
        base.path().join("local-note").exists(),
        "the local one stays"
    );
    assert_eq!(invoke(&w, "team_status", json!({})), Ok(Value::Null));
    assert_eq!(invoke(&w, "team_leave", json!({})), Ok(json!(false)));
    let key =
        tauri::async_runtime::block_on(team_keys.get(wxdesk_core::secrets::SecretKey::RelayKey))
            .expect("read the store");
    assert!(key.is_none(), "the member key is removed");
}

/// The windows' titles: the Chinese main title is the one tauri.conf.json gives the window
/// before its page says which language it speaks, and the English titles hold no Chinese (the
/// e2e `frame` test reads the real title bar; the mock runtime keeps no titles).
#[test]
fn window_titles_come_in_both_languages_and_the_chinese_one_is_the_configured_one() {
    use wxdesk_core::Lang;
    let conf: Value = serde_json::from_str(include_str!("../tauri.conf.json")).expect("conf");
    assert_eq!(
        conf["app"]["windows"][0]["title"].as_str(),
        Some(crate::window_title(Lang::Zh))
    );
    // The page's title in each locale (the app's name and the header's subtitle).
    for (lang, locale) in [
        (
            Lang::Zh,
            include_str!("../../ui/src/i18n/locales/zh-CN.json"),
        ),
        (Lang::En, include_str!("../../ui/src/i18n/locales/en.json")),
    ] {
        let locale: Value = serde_json::from_str(locale).expect("locale");
        let app = &locale["app"];
        assert_eq!(app["windowTitle"].as_str(), Some(crate::window_title(lang)));
        let subtitle = app["subtitle"].as_str().expect("app.subtitle");
        assert!(crate::window_title(lang).ends_with(subtitle));
    }
    for title in [
        crate::window_title(Lang::En),
        crate::auth_window_title(Lang::En),
    ] {
        assert!(!has_cjk(title), "{title}");
        assert!(title.contains("wxdesk"), "{title}");
    }
    assert!(has_cjk(crate::auth_window_title(Lang::Zh)));

    // Both commands that set the language take it through the IPC path with a window.
    let _lang = LANG.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().expect("temp dir");
    let ctx =
        tauri::async_runtime::block_on(Context::open_with_secrets(dir.path(), Secrets::memory()))
            .expect("open the core");
    let (_app, w) = mock_app(AppState::new(ctx, dir.path().to_path_buf()));
    invoke(&w, "show_window", json!({ "lang": "en" })).expect("show_window");
    assert_eq!(crate::error::lang(), Lang::En);
    invoke(&w, "show_window", json!({})).expect_err("the language is required");
    invoke(&w, "set_language", json!({ "lang": "zh" })).expect("set_language");
    assert_eq!(crate::error::lang(), Lang::Zh);
}
