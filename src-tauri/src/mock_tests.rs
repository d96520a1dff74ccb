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
    app.manage(AppState::new(ctx));
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
