//! The jobs the composer makes itself keep the operator's words as their title and say what
//! they are by purpose, so each face names them in its own language (#15).

use std::sync::Arc;

use super::*;
use crate::secrets::Secrets;
use crate::send::api::{BoxFuture, SendApi, SendFailure, SendOk};
use crate::send::{ApiRequest, JobPurpose};
use crate::templates::db::{RemoteTemplate, apply_sync};

/// WeChat that accepts every message.
struct Accepts;

impl SendApi for Accepts {
    fn send<'a>(
        &'a self,
        _appid: &'a str,
        _req: &'a ApiRequest,
    ) -> BoxFuture<'a, std::result::Result<SendOk, SendFailure>> {
        Box::pin(async {
            Ok(SendOk {
                msgid: Some(7),
                response: serde_json::json!({"errcode": 0, "msgid": 7}),
            })
        })
    }

    fn refresh_token<'a>(
        &'a self,
        _appid: &'a str,
    ) -> BoxFuture<'a, std::result::Result<(), SendFailure>> {
        Box::pin(async { Ok(()) })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_test_send_and_a_customer_service_message_are_stored_by_purpose() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in_dir(dir.path()).await.unwrap();
    store
        .call(|c| {
            apply_sync(
                c,
                "wxA",
                &[RemoteTemplate {
                    template_id: "TPL".into(),
                    title: "发货通知".into(),
                    primary_industry: String::new(),
                    deputy_industry: String::new(),
                    content: "{{thing1.DATA}}".into(),
                    example: String::new(),
                }],
                0,
            )
        })
        .await
        .unwrap();
    let sends = Sends::with_api(
        dir.path(),
        store.clone(),
        Arc::new(Accepts),
        EngineConfig::default(),
    );
    let compose = Compose::new(Platform::new(store, Secrets::memory()), sends.clone());
    let draft = TemplateDraft {
        appid: "wxA".into(),
        template_id: "TPL".into(),
        title: "11月发货通知".into(),
        data: [("thing1".to_string(), "已发货".to_string())].into(),
        jump: Jump::None,
    };

    let test = compose.test_send(&draft, None, "oMe").await.unwrap();
    let job = sends.job(test.job_id).await.unwrap();
    assert_eq!(
        (job.purpose, job.title.as_str(), job.title_zh()),
        (
            JobPurpose::Test,
            "11月发货通知",
            "测试：11月发货通知".into()
        )
    );

    let custom = compose
        .custom_send(
            "wxA",
            "oYou",
            CustomMessage::Text {
                content: "你好".into(),
            },
        )
        .await
        .unwrap();
    let job = sends.job(custom.job_id).await.unwrap();
    assert_eq!(
        (job.purpose, job.title.as_str(), job.title_zh()),
        (JobPurpose::Custom, "", "客服消息".into())
    );

    // An ordinary job keeps what the operator typed, with nothing around it.
    let id = sends
        .create(
            compose.spec(&draft).await.unwrap(),
            vec![Recipient::new("oA")],
        )
        .await
        .unwrap();
    let job = sends.job(id).await.unwrap();
    assert_eq!(
        (job.purpose, job.title_zh()),
        (JobPurpose::Plain, "11月发货通知".into())
    );
}
