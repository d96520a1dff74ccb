//! `debug decrypt|encrypt|decrypt-mini` against the official vectors (test-vectors.md V2, V9),
//! and bad arguments: non-zero with one line on stderr. No keychain needed.
#![allow(clippy::unwrap_used)]

mod support;

use support::{assert_one_line_failure, run_cli};

const TOKEN: &str = "AAAAA";
const EAK: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
const COMPONENT: &str = "wx134c8103faa5a59e";
const AUTHORIZER: &str = "wxba5fad812f8e6fb9";
const TS: &str = "1715943329";
const NONCE: &str = "1590219412";
const MSG_SIG: &str = "6c12a4205838198b8fa631b3220723bb07f1015c";
const ENCRYPT: &str = "D7yzvUNAL930rd28wf21s4hvXhz0L6Uit/p2Di6C5DHyYGpEgdBRnKjBec34JwoQXicwaZC7fOVihW80F4VtsdvE//1vr7oAbqjDv8KenVp+ajKYpJnyQ4zMRhIC+a31fCVOMC03FfzV/QuC94kBP55a+Za3sJgvAn+ZbsNqZI5DkyuzkhQN8OBqCzFhizGmy0xpM0MEA4agpvE+RuNO1rhHTtuJB5yltw1FiYzecSXJ+y/D2r81VkRn2eYjh2ltsoyfbDR7Is6ookXIFxTfyeNyeHxMeT4KN5WpCDmSbTcUYrbBUlkGLJ9n/rU8YOywma6G7aTb7KZKOqCxgfoUlYEZPk4FUL/TK7ShriFDMVCLyjQJ15Ob++agDWtcxhfUfe6HIoIpRW8mKNBQiY/Jd1svvuskA1wLef1RTtzKfMpagSCX/laZINmdnX4zrF6kIaR9P4xQrWXbsTFHTYe0Mg==";
const DEC_MSG: &str = "<xml><ToUserName><![CDATA[gh_97417a04a28d]]></ToUserName>\n<FromUserName><![CDATA[o9AgO5Kd5ggOC-bXrbNODIiE3bGY]]></FromUserName>\n<CreateTime>1715943329</CreateTime>\n<MsgType><![CDATA[event]]></MsgType>\n<Event><![CDATA[debug_demo]]></Event>\n<debug_str><![CDATA[hello world]]></debug_str>\n</xml>";
const REPLY_MSG: &str = "<xml><demo_resp>[CDATA[good luck]]</demo_resp></xml>";
const REPLY_RANDOM: &str = "999951349e8ee746";
const REPLY_ENCRYPT: &str = "hE8R6mGXHkJJjU72KxzKUd1GEkKJaEZq7vRL8XgK3o+00k8JGq6+pZJUIlTSyhsX+bxIBQ72g3GyvDdIZcr6+3HAZbSvPT9t/o11MI7d6WELwqrGd7jMnV0zv3Zc9Nq7";
const REPLY_TS: &str = "1713424427";
const REPLY_NONCE: &str = "415670741";
const REPLY_SIG: &str = "03e0812039325c2712ef5f0f980fd14c70d6e307";

fn body() -> String {
    format!(
        "<xml><ToUserName><![CDATA[gh_97417a04a28d]]></ToUserName><Encrypt><![CDATA[{ENCRYPT}]]></Encrypt></xml>\n"
    )
}

fn decrypt_args<'a>(appid: &'a str, sig: &'a str) -> Vec<&'a str> {
    vec![
        "debug",
        "decrypt",
        "--token",
        TOKEN,
        "--aes-key",
        EAK,
        "--appid",
        appid,
        "--timestamp",
        TS,
        "--nonce",
        NONCE,
        "--msg-signature",
        sig,
    ]
}

#[tokio::test]
async fn decrypt_prints_the_official_v2_message_exactly() {
    let r = run_cli(None, &decrypt_args(COMPONENT, MSG_SIG), &body())
        .await
        .ok();
    assert_eq!(r.stdout, DEC_MSG);
    assert_eq!(r.stderr, "");
}

#[tokio::test]
async fn decrypt_accepts_the_bare_encrypt_value_too() {
    let r = run_cli(
        None,
        &decrypt_args(COMPONENT, MSG_SIG),
        &format!("{ENCRYPT}\n"),
    )
    .await
    .ok();
    assert_eq!(r.stdout, DEC_MSG);
    let mut args = vec!["--json"];
    args.extend(decrypt_args(COMPONENT, MSG_SIG));
    let j = run_cli(None, &args, ENCRYPT).await.ok().json();
    assert_eq!(j["message"], DEC_MSG);
}

#[tokio::test]
async fn decrypt_fails_with_the_authorizer_appid_as_receive_id() {
    let r = run_cli(None, &decrypt_args(AUTHORIZER, MSG_SIG), &body()).await;
    assert_one_line_failure(&r);
    assert_eq!(r.code, 1);
    assert_eq!(r.stdout, "");
    assert!(r.stderr.contains("appid"), "{}", r.stderr);
}

#[tokio::test]
async fn decrypt_fails_on_a_wrong_signature_for_body_and_bare_value() {
    let wrong = "6c12a4205838198b8fa631b3220723bb07f1015d";
    for input in [body(), ENCRYPT.to_string()] {
        let r = run_cli(None, &decrypt_args(COMPONENT, wrong), &input).await;
        assert_one_line_failure(&r);
        assert!(r.stderr.contains("签名"), "{}", r.stderr);
        assert_eq!(r.stdout, "");
    }
}

#[tokio::test]
async fn encrypt_with_the_official_random_reproduces_the_reply() {
    let r = run_cli(
        None,
        &[
            "debug",
            "encrypt",
            "--token",
            TOKEN,
            "--aes-key",
            EAK,
            "--appid",
            COMPONENT,
            "--timestamp",
            REPLY_TS,
            "--nonce",
            REPLY_NONCE,
            "--random",
            REPLY_RANDOM,
        ],
        &format!("{REPLY_MSG}\n"),
    )
    .await
    .ok();
    let expected = format!(
        "<xml>\n<Encrypt><![CDATA[{REPLY_ENCRYPT}]]></Encrypt>\n<MsgSignature><![CDATA[{REPLY_SIG}]]></MsgSignature>\n<TimeStamp>{REPLY_TS}</TimeStamp>\n<Nonce><![CDATA[{REPLY_NONCE}]]></Nonce>\n</xml>\n"
    );
    assert_eq!(r.stdout, expected);
}

#[tokio::test]
async fn encrypt_refuses_a_random_prefix_that_is_not_16_bytes() {
    let r = run_cli(
        None,
        &[
            "debug",
            "encrypt",
            "--token",
            TOKEN,
            "--aes-key",
            EAK,
            "--appid",
            COMPONENT,
            "--timestamp",
            REPLY_TS,
            "--nonce",
            REPLY_NONCE,
            "--random",
            "short",
        ],
        REPLY_MSG,
    )
    .await;
    assert_one_line_failure(&r);
    assert_eq!(r.code, 2);
}

const MINI_APPID: &str = "wx4f4bc4dec97d474b";
const SESSION_KEY: &str = "tiihtNczf5v6AKRyjwEUhQ==";
const IV: &str = "r7BXXKkLb8qrSNn05n0qiA==";
const MINI_DATA: &str = "CiyLU1Aw2KjvrjMdj8YKliAjtP4gsMZMQmRzooG2xrDcvSnxIMXFufNstNGTyaGS9uT5geRa0W4oTOb1WT7fJlAC+oNPdbB+3hVbJSRgv+4lGOETKUQz6OYStslQ142dNCuabNPGBzlooOmB231qMM85d2/fV6ChevvXvQP8Hkue1poOFtnEtpyxVLW1zAo6/1Xx1COxFvrc2d7UL/lmHInNlxuacJXwu0fjpXfz/YqYzBIBzD6WUfTIF9GRHpOn/Hz7saL8xz+W//FRAUid1OksQaQx4CMs8LOddcQhULW4ucetDf96JcR3g0gfRK4PC7E/r7Z6xNrXd2UIeorGj5Ef7b1pJAYB6Y5anaHqZ9J6nKEBvB4DnNLIVWSgARns/8wR2SiRS7MNACwTyrGvt9ts8p12PKFdlqYTopNHR1Vf7XjfhQlVsAJdNiKdYmYVoKlaRv85IfVunYzO0IKXsyl7JCUjCpoG20f0a04COwfneQAGGwd5oa+T8yO5hzuyDb/XcxxmK01EpqOyuxINew==";
const MINI_JSON: &str = r#"{"openId":"oGZUI0egBJY1zhBYw2KhdUfwVJJE","nickName":"Band","gender":1,"language":"zh_CN","city":"Guangzhou","province":"Guangdong","country":"CN","avatarUrl":"http://wx.qlogo.cn/mmopen/vi_32/aSKcBBPpibyKNicHNTMM0qJVh8Kjgiak2AHWr8MHM4WgMEm7GFhsf8OYrySdbvAMvTsw3mo8ibKicsnfN5pRjl1p8HQ/0","unionId":"ocMvos6NjeKLIBqg5Mr9QjxrP1FA","watermark":{"timestamp":1477314187,"appid":"wx4f4bc4dec97d474b"}}"#;

#[tokio::test]
async fn decrypt_mini_prints_the_official_v9_json_and_checks_the_watermark() {
    let args = |appid: Option<&'static str>| {
        let mut a = vec![
            "debug",
            "decrypt-mini",
            "--session-key",
            SESSION_KEY,
            "--iv",
            IV,
        ];
        if let Some(x) = appid {
            a.extend(["--appid", x]);
        }
        a
    };
    let r = run_cli(None, &args(Some(MINI_APPID)), MINI_DATA).await.ok();
    assert_eq!(r.stdout, format!("{MINI_JSON}\n"));
    let unchecked = run_cli(None, &args(None), MINI_DATA).await.ok();
    assert_eq!(unchecked.stdout, format!("{MINI_JSON}\n"));
    let foreign = run_cli(None, &args(Some("wxba5fad812f8e6fb9")), MINI_DATA).await;
    assert_one_line_failure(&foreign);
    assert!(foreign.stderr.contains("水印"), "{}", foreign.stderr);
}

#[tokio::test]
async fn bad_arguments_fail_with_one_line() {
    for args in [
        vec!["frobnicate"],
        vec!["send", "template", "--account", "wx0123456789abcdef"],
        vec!["auth", "link", "--type", "tv"],
        vec![
            "lists",
            "create",
            "x",
            "--account",
            "wx0123456789abcdef",
            "--all-followers",
            "--tag",
            "1",
        ],
        vec!["debug", "decrypt", "--token", "T"],
    ] {
        let r = run_cli(None, &args, "").await;
        assert_one_line_failure(&r);
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
    }
}

#[tokio::test]
async fn help_is_there_on_every_level_with_examples() {
    for args in [
        vec!["--help"],
        vec!["platform", "set", "--help"],
        vec!["send", "template", "--help"],
        vec!["jobs", "resume", "--help"],
        vec!["history", "export", "--help"],
        vec!["debug", "decrypt", "--help"],
    ] {
        let r = run_cli(None, &args, "").await.ok();
        assert!(
            r.stdout.contains("示例 / Examples:"),
            "{args:?}: {}",
            r.stdout
        );
    }
}

#[tokio::test]
async fn a_secret_on_the_command_line_is_not_accepted() {
    let r = run_cli(
        None,
        &[
            "platform",
            "set",
            "--appid",
            "wx0123456789abcdef",
            "--relay-url",
            "http://127.0.0.1:1",
            "--secret",
            "s3cr3t",
        ],
        "",
    )
    .await;
    assert_one_line_failure(&r);
    assert!(!r.stderr.contains("s3cr3t"), "{}", r.stderr);
}

/// The message token used to be a `--token` flag: now it is refused with how to pass it, before
/// anything is opened or stored (the data dir is not even created).
#[tokio::test]
async fn the_token_on_the_command_line_is_refused_and_nothing_is_stored() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let r = run_cli(
        Some(&data),
        &[
            "platform",
            "set",
            "--appid",
            "wx0123456789abcdef",
            "--token",
            "argv-t0ken-value",
            "--relay-url",
            "http://127.0.0.1:1",
        ],
        "WXDESK_COMPONENT_SECRET=from-stdin\n",
    )
    .await;
    assert_one_line_failure(&r);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("WXDESK_COMPONENT_TOKEN"), "{}", r.stderr);
    assert!(!r.stderr.contains("argv-t0ken-value"), "{}", r.stderr);
    assert!(!data.exists(), "nothing was written for a refused command");
}
