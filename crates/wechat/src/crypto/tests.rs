//! Official vectors (shared/test-vectors.md V1, V2, V9), padding edge cases and round trips.

use super::*;
use proptest::prelude::*;

const EAK_ZERO: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

mod v1 {
    pub const TOKEN: &str = "AAAAA";
    pub const APPID: &str = "wxba5fad812f8e6fb9";
    pub const GET_TS: &str = "1714036504";
    pub const GET_NONCE: &str = "1514711492";
    pub const GET_SIG: &str = "f464b24fc39322e44b38aa78f5edd27bd1441696";
    pub const PLAIN_TS: &str = "1714037059";
    pub const PLAIN_NONCE: &str = "486452656";
    pub const PLAIN_SIG: &str = "899cf89e464efb63f54ddac96b0a0a235f53aa78";
    pub const AES_TS: &str = "1714112445";
    pub const AES_NONCE: &str = "415670741";
    pub const AES_URL_SIG: &str = "6c5c811b55cc85e0e1b54100749188c20beb3f5d";
    pub const MSG_SIG: &str = "046e02f8204d34f8ba5fa3b1db94908f3df2e9b3";
    pub const ENCRYPT: &str = "+qdx1OKCy+5JPCBFWw70tm0fJGb2Jmeia4FCB7kao+/Q5c/ohsOzQHi8khUOb05JCpj0JB4RvQMkUyus8TPxLKJGQqcvZqzDpVzazhZv6JsXUnnR8XGT740XgXZUXQ7vJVnAG+tE8NUd4yFyjPy7GgiaviNrlCTj+l5kdfMuFUPpRSrfMZuMcp3Fn2Pede2IuQrKEYwKSqFIZoNqJ4M8EajAsjLY2km32IIjdf8YL/P50F7mStwntrA2cPDrM1kb6mOcfBgRtWygb3VIYnSeOBrebufAlr7F9mFUPAJGj04=";
    pub const DEC_RANDOM: &[u8; 16] = b"a8eedb185eb2fecf";
    pub const DEC_MSG: &str = "{\"ToUserName\":\"gh_97417a04a28d\",\"FromUserName\":\"o9AgO5Kd5ggOC-bXrbNODIiE3bGY\",\"CreateTime\":1714112445,\"MsgType\":\"event\",\"Event\":\"debug_demo\",\"debug_str\":\"hello world\"}";
    pub const REPLY_MSG: &str = "{\"demo_resp\":\"good luck\"}";
    pub const REPLY_RANDOM: &[u8; 16] = b"707722b803182950";
    pub const REPLY_ENCRYPT: &str =
        "ELGduP2YcVatjqIS+eZbp80MNLoAUWvzzyJxgGzxZO/5sAvd070Bs6qrLARC9nVHm48Y4hyRbtzve1L32tmxSQ==";
    pub const REPLY_TS: &str = "1713424427";
    pub const REPLY_NONCE: &str = "415670741";
    pub const REPLY_SIG: &str = "1b9339964ed2e271e7c7b6ff2b0ef902fc94dea1";
}

mod v2 {
    pub const TOKEN: &str = "AAAAA";
    pub const COMPONENT_APPID: &str = "wx134c8103faa5a59e";
    pub const AUTHORIZER_APPID: &str = "wxba5fad812f8e6fb9";
    pub const TS: &str = "1715943329";
    pub const NONCE: &str = "1590219412";
    pub const URL_SIG: &str = "cc0c594499c1634947d5b502f158ee518947db27";
    pub const MSG_SIG: &str = "6c12a4205838198b8fa631b3220723bb07f1015c";
    pub const ENCRYPT: &str = "D7yzvUNAL930rd28wf21s4hvXhz0L6Uit/p2Di6C5DHyYGpEgdBRnKjBec34JwoQXicwaZC7fOVihW80F4VtsdvE//1vr7oAbqjDv8KenVp+ajKYpJnyQ4zMRhIC+a31fCVOMC03FfzV/QuC94kBP55a+Za3sJgvAn+ZbsNqZI5DkyuzkhQN8OBqCzFhizGmy0xpM0MEA4agpvE+RuNO1rhHTtuJB5yltw1FiYzecSXJ+y/D2r81VkRn2eYjh2ltsoyfbDR7Is6ookXIFxTfyeNyeHxMeT4KN5WpCDmSbTcUYrbBUlkGLJ9n/rU8YOywma6G7aTb7KZKOqCxgfoUlYEZPk4FUL/TK7ShriFDMVCLyjQJ15Ob++agDWtcxhfUfe6HIoIpRW8mKNBQiY/Jd1svvuskA1wLef1RTtzKfMpagSCX/laZINmdnX4zrF6kIaR9P4xQrWXbsTFHTYe0Mg==";
    pub const DEC_RANDOM: &[u8; 16] = b"1205899eaf019bbd";
    pub const DEC_MSG: &str = "<xml><ToUserName><![CDATA[gh_97417a04a28d]]></ToUserName>\n<FromUserName><![CDATA[o9AgO5Kd5ggOC-bXrbNODIiE3bGY]]></FromUserName>\n<CreateTime>1715943329</CreateTime>\n<MsgType><![CDATA[event]]></MsgType>\n<Event><![CDATA[debug_demo]]></Event>\n<debug_str><![CDATA[hello world]]></debug_str>\n</xml>";
    pub const REPLY_MSG: &str = "<xml><demo_resp>[CDATA[good luck]]</demo_resp></xml>";
    pub const REPLY_RANDOM: &[u8; 16] = b"999951349e8ee746";
    pub const REPLY_ENCRYPT: &str = "hE8R6mGXHkJJjU72KxzKUd1GEkKJaEZq7vRL8XgK3o+00k8JGq6+pZJUIlTSyhsX+bxIBQ72g3GyvDdIZcr6+3HAZbSvPT9t/o11MI7d6WELwqrGd7jMnV0zv3Zc9Nq7";
    pub const REPLY_TS: &str = "1713424427";
    pub const REPLY_NONCE: &str = "415670741";
    pub const REPLY_SIG: &str = "03e0812039325c2712ef5f0f980fd14c70d6e307";
}

fn v1_crypt() -> MsgCrypt {
    MsgCrypt::new(v1::TOKEN, EAK_ZERO, v1::APPID).unwrap()
}

fn v2_crypt() -> MsgCrypt {
    MsgCrypt::new(v2::TOKEN, EAK_ZERO, v2::COMPONENT_APPID).unwrap()
}

#[test]
fn v1_signatures_match_the_official_values() {
    let c = v1_crypt();
    assert_eq!(c.url_signature(v1::GET_TS, v1::GET_NONCE), v1::GET_SIG);
    assert!(c.verify_url_signature(v1::GET_SIG, v1::GET_TS, v1::GET_NONCE));
    assert!(!c.verify_url_signature(v1::PLAIN_SIG, v1::GET_TS, v1::GET_NONCE));
    assert_eq!(
        c.url_signature(v1::PLAIN_TS, v1::PLAIN_NONCE),
        v1::PLAIN_SIG
    );
    assert_eq!(c.url_signature(v1::AES_TS, v1::AES_NONCE), v1::AES_URL_SIG);
    assert_eq!(
        c.msg_signature(v1::AES_TS, v1::AES_NONCE, v1::ENCRYPT),
        v1::MSG_SIG
    );
    assert_eq!(
        c.msg_signature(v1::REPLY_TS, v1::REPLY_NONCE, v1::REPLY_ENCRYPT),
        v1::REPLY_SIG
    );
}

#[test]
fn v1_decrypts_to_the_official_message_and_random_prefix() {
    let c = v1_crypt();
    assert_eq!(c.decrypt(v1::ENCRYPT).unwrap(), v1::DEC_MSG);
    let full = c.decrypt_full(v1::ENCRYPT).unwrap();
    assert_eq!(full.len(), 205);
    assert_eq!(&full[..16], v1::DEC_RANDOM);
    assert_eq!(&full[16..20], &167u32.to_be_bytes());
    assert_eq!(STANDARD.decode(v1::ENCRYPT).unwrap().len(), 224);
}

#[test]
fn v1_encrypt_with_given_random_reproduces_both_official_ciphertexts() {
    let c = v1_crypt();
    assert_eq!(
        c.encrypt_with_random(v1::REPLY_MSG, v1::REPLY_RANDOM),
        v1::REPLY_ENCRYPT
    );
    assert_eq!(
        c.encrypt_with_random(v1::DEC_MSG, v1::DEC_RANDOM),
        v1::ENCRYPT
    );
}

#[test]
fn v1_json_push_is_accepted_by_decrypt_push() {
    let body = format!(
        "{{\"ToUserName\":\"gh_97417a04a28d\",\"Encrypt\":\"{}\"}}",
        v1::ENCRYPT
    );
    let msg = v1_crypt()
        .decrypt_push(v1::MSG_SIG, v1::AES_TS, v1::AES_NONCE, body.as_bytes())
        .unwrap();
    assert_eq!(msg, v1::DEC_MSG);
}

#[test]
fn v2_signatures_match_the_official_values() {
    let c = v2_crypt();
    assert_eq!(c.url_signature(v2::TS, v2::NONCE), v2::URL_SIG);
    assert_eq!(c.msg_signature(v2::TS, v2::NONCE, v2::ENCRYPT), v2::MSG_SIG);
    assert_eq!(
        c.msg_signature(v2::REPLY_TS, v2::REPLY_NONCE, v2::REPLY_ENCRYPT),
        v2::REPLY_SIG
    );
}

#[test]
fn v2_push_decrypts_with_the_component_appid_as_receive_id() {
    let c = v2_crypt();
    let body = format!(
        "<xml><ToUserName><![CDATA[gh_97417a04a28d]]></ToUserName><Encrypt><![CDATA[{}]]></Encrypt></xml>",
        v2::ENCRYPT
    );
    let msg = c
        .decrypt_push(v2::MSG_SIG, v2::TS, v2::NONCE, body.as_bytes())
        .unwrap();
    assert_eq!(msg, v2::DEC_MSG);
    let full = c.decrypt_full(v2::ENCRYPT).unwrap();
    assert_eq!(full.len(), 330);
    assert_eq!(&full[..16], v2::DEC_RANDOM);
    assert_eq!(&full[16..20], &292u32.to_be_bytes());
    assert_eq!(&full[312..], v2::COMPONENT_APPID.as_bytes());
}

#[test]
fn v2_same_push_in_the_appid_envelope_is_accepted() {
    let body = format!(
        "<xml><AppId><![CDATA[{}]]></AppId><Encrypt><![CDATA[{}]]></Encrypt></xml>",
        v2::COMPONENT_APPID,
        v2::ENCRYPT
    );
    let msg = v2_crypt()
        .decrypt_push(v2::MSG_SIG, v2::TS, v2::NONCE, body.as_bytes())
        .unwrap();
    assert_eq!(msg, v2::DEC_MSG);
}

#[test]
fn v2_is_rejected_when_the_expected_id_is_the_authorizer_appid() {
    let c = MsgCrypt::new(v2::TOKEN, EAK_ZERO, v2::AUTHORIZER_APPID).unwrap();
    match c.decrypt(v2::ENCRYPT) {
        Err(Error::ReceiveIdMismatch { expected, actual }) => {
            assert_eq!(expected, v2::AUTHORIZER_APPID);
            assert_eq!(actual, v2::COMPONENT_APPID);
        }
        other => panic!("expected ReceiveIdMismatch, got {other:?}"),
    }
}

#[test]
fn v2_encrypt_with_given_random_reproduces_both_official_ciphertexts() {
    let c = v2_crypt();
    assert_eq!(
        c.encrypt_with_random(v2::REPLY_MSG, v2::REPLY_RANDOM),
        v2::REPLY_ENCRYPT
    );
    assert_eq!(
        c.encrypt_with_random(v2::DEC_MSG, v2::DEC_RANDOM),
        v2::ENCRYPT
    );
}

#[test]
fn v2_reply_xml_carries_the_official_encrypt_and_signature() {
    let xml = v2_crypt().encrypt_reply_with_random(
        v2::REPLY_MSG,
        v2::REPLY_TS,
        v2::REPLY_NONCE,
        v2::REPLY_RANDOM,
    );
    let f = crate::xml::parse_flat(&xml).unwrap();
    assert_eq!(f.get("Encrypt"), Some(v2::REPLY_ENCRYPT));
    assert_eq!(f.get("MsgSignature"), Some(v2::REPLY_SIG));
    assert_eq!(f.get("TimeStamp"), Some(v2::REPLY_TS));
    assert_eq!(f.get("Nonce"), Some(v2::REPLY_NONCE));
}

#[test]
fn decrypt_push_rejects_a_wrong_signature_before_decrypting() {
    let body = format!(
        "<xml><AppId>x</AppId><Encrypt>{}</Encrypt></xml>",
        v2::ENCRYPT
    );
    let wrong = "6c12a4205838198b8fa631b3220723bb07f1015d";
    assert!(matches!(
        v2_crypt().decrypt_push(wrong, v2::TS, v2::NONCE, body.as_bytes()),
        Err(Error::SignatureMismatch)
    ));
    // Same signature, different timestamp: also rejected.
    assert!(matches!(
        v2_crypt().decrypt_push(v2::MSG_SIG, "1715943330", v2::NONCE, body.as_bytes()),
        Err(Error::SignatureMismatch)
    ));
}

#[test]
fn decrypt_push_without_encrypt_element_is_a_missing_field() {
    assert!(matches!(
        v2_crypt().decrypt_push("x", "1", "2", b"<xml><AppId>a</AppId></xml>"),
        Err(Error::MissingField("Encrypt"))
    ));
}

#[test]
fn decrypt_push_refuses_a_doctype_envelope() {
    let body = format!(
        "<!DOCTYPE xml [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><xml><Encrypt>{}</Encrypt></xml>",
        v2::ENCRYPT
    );
    assert!(matches!(
        v2_crypt().decrypt_push(v2::MSG_SIG, v2::TS, v2::NONCE, body.as_bytes()),
        Err(Error::XmlForbidden)
    ));
}

#[test]
fn encrypt_push_round_trips_through_decrypt_push_for_both_envelopes() {
    let c = v2_crypt();
    for env in [
        Envelope::AppId(v2::COMPONENT_APPID.into()),
        Envelope::ToUserName("gh_97417a04a28d".into()),
    ] {
        let (body, sig) = c.encrypt_push(v2::DEC_MSG, &env, "1700000000", "nonce1");
        let f = crate::xml::parse_flat(&body).unwrap();
        match &env {
            Envelope::AppId(id) => assert_eq!(f.get("AppId"), Some(id.as_str())),
            Envelope::ToUserName(id) => assert_eq!(f.get("ToUserName"), Some(id.as_str())),
        }
        let encrypt = f.get("Encrypt").unwrap();
        assert_eq!(sig, c.msg_signature("1700000000", "nonce1", encrypt));
        let back = c
            .decrypt_push(&sig, "1700000000", "nonce1", body.as_bytes())
            .unwrap();
        assert_eq!(back, v2::DEC_MSG);
    }
}

#[test]
fn key_rotation_decrypts_with_the_previous_key_and_reports_which_one() {
    let current = MsgCrypt::new(
        v2::TOKEN,
        "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
        v2::COMPONENT_APPID,
    )
    .unwrap();
    let crypts = [current, v2_crypt()];
    let body = format!(
        "<xml><AppId>x</AppId><Encrypt>{}</Encrypt></xml>",
        v2::ENCRYPT
    );
    let (used, msg) =
        decrypt_push_any(&crypts, v2::MSG_SIG, v2::TS, v2::NONCE, body.as_bytes()).unwrap();
    assert_eq!(msg, v2::DEC_MSG);
    assert!(std::ptr::eq(used, &crypts[1]));
    // Only the current key: the old push is refused (AES garbage fails the layout or id check).
    assert!(
        decrypt_push_any(
            &crypts[..1],
            v2::MSG_SIG,
            v2::TS,
            v2::NONCE,
            body.as_bytes()
        )
        .is_err()
    );
    assert!(matches!(
        decrypt_push_any(&[], "s", "t", "n", b"<xml/>"),
        Err(Error::InvalidAesKey)
    ));
}

#[test]
fn random_prefix_is_16_ascii_alphanumerics_and_differs_between_calls() {
    let c = v2_crypt();
    let a = c.decrypt_full(&c.encrypt("m")).unwrap();
    let b = c.decrypt_full(&c.encrypt("m")).unwrap();
    assert!(a[..16].iter().all(u8::is_ascii_alphanumeric));
    assert_ne!(a[..16], b[..16]);
}

#[test]
fn a_plaintext_already_a_multiple_of_32_gets_a_full_block_of_padding() {
    let c = v2_crypt();
    // 16 + 4 + msg + 18 (appid) = 64  =>  msg of 26 bytes.
    let msg = "abcdefghijklmnopqrstuvwxyz";
    let ct = STANDARD
        .decode(c.encrypt_with_random(msg, b"0123456789abcdef"))
        .unwrap();
    assert_eq!(
        ct.len(),
        96,
        "64 bytes of FullStr + a whole 32-byte pad block"
    );
    // Decrypt raw to see the pad bytes themselves.
    let mut raw = ct.clone();
    let dec = Aes256CbcDec::new(&c.key.into(), &c.iv().into());
    let plain = dec.decrypt_padded::<NoPadding>(&mut raw).unwrap();
    assert!(plain[64..].iter().all(|&b| b == 32));
    assert_eq!(c.decrypt(&STANDARD.encode(&ct)).unwrap(), msg);
}

#[test]
fn a_key_whose_base64_has_nonzero_trailing_bits_is_accepted_and_used_whole() {
    // 43 chars carry 258 bits for a 32-byte key: the last char's low 2 bits are unused.
    // '9' = 0b111101 leaves them non-zero (strict decoders refuse it); '8' = 0b111100 is the
    // canonical spelling of the same key.
    let eak = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEF9";
    let c = MsgCrypt::new("t", eak, "wxid").unwrap();
    let canonical = STANDARD
        .decode("abcdefghijklmnopqrstuvwxyz0123456789ABCDEF8=")
        .unwrap();
    assert_eq!(c.key.as_slice(), canonical.as_slice());
    assert_eq!(c.decrypt(&c.encrypt("hello")).unwrap(), "hello");
    // The sandbox key (43 chars, ends in 'G') works too.
    let sandbox = MsgCrypt::new(
        "wxdesksandbox",
        "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
        "wx5a9d0c0e7f3b1a2c",
    )
    .unwrap();
    assert_eq!(
        sandbox.decrypt(&sandbox.encrypt("<xml/>")).unwrap(),
        "<xml/>"
    );
}

#[test]
fn invalid_keys_and_empty_token_are_refused() {
    assert!(matches!(
        MsgCrypt::new("t", "short", "id"),
        Err(Error::InvalidAesKey)
    ));
    assert!(matches!(
        MsgCrypt::new("t", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+", "id"),
        Err(Error::InvalidAesKey)
    ));
    assert!(matches!(
        MsgCrypt::new("t", &format!("{EAK_ZERO}A"), "id"),
        Err(Error::InvalidAesKey)
    ));
    assert!(matches!(
        MsgCrypt::new("", EAK_ZERO, "id"),
        Err(Error::EmptyToken)
    ));
}

#[test]
fn garbage_ciphertexts_are_errors_not_panics() {
    let c = v2_crypt();
    assert!(matches!(c.decrypt("not base64!"), Err(Error::Base64)));
    assert!(matches!(c.decrypt(""), Err(Error::Decrypt)));
    assert!(matches!(
        c.decrypt(&STANDARD.encode([0u8; 15])),
        Err(Error::Decrypt)
    ));
    // Valid AES length, but a random plaintext whose length field points past the end.
    assert!(c.decrypt(&STANDARD.encode([7u8; 64])).is_err());
}

#[test]
fn debug_output_redacts_token_and_key() {
    let s = format!(
        "{:?}",
        MsgCrypt::new("supersecrettoken", EAK_ZERO, "wxid").unwrap()
    );
    assert!(!s.contains("supersecrettoken"));
    assert!(!s.contains("0, 0, 0"));
    assert!(s.contains("<redacted>") && s.contains("wxid"));
}

#[test]
fn v9_mini_program_data_decrypts_to_the_official_json() {
    let expected = r#"{"openId":"oGZUI0egBJY1zhBYw2KhdUfwVJJE","nickName":"Band","gender":1,"language":"zh_CN","city":"Guangzhou","province":"Guangdong","country":"CN","avatarUrl":"http://wx.qlogo.cn/mmopen/vi_32/aSKcBBPpibyKNicHNTMM0qJVh8Kjgiak2AHWr8MHM4WgMEm7GFhsf8OYrySdbvAMvTsw3mo8ibKicsnfN5pRjl1p8HQ/0","unionId":"ocMvos6NjeKLIBqg5Mr9QjxrP1FA","watermark":{"timestamp":1477314187,"appid":"wx4f4bc4dec97d474b"}}"#;
    let got =
        decrypt_mini_program_data(V9_SESSION_KEY, V9_IV, V9_DATA, "wx4f4bc4dec97d474b").unwrap();
    assert_eq!(got, expected);
}

#[test]
fn v9_is_rejected_for_another_appid() {
    match decrypt_mini_program_data(V9_SESSION_KEY, V9_IV, V9_DATA, "wx0000000000000000") {
        Err(Error::WatermarkMismatch { actual, .. }) => assert_eq!(actual, "wx4f4bc4dec97d474b"),
        other => panic!("expected WatermarkMismatch, got {other:?}"),
    }
    // A wrong key fails (bad padding or non-JSON), it does not panic.
    assert!(decrypt_mini_program_data("AAAAAAAAAAAAAAAAAAAAAA==", V9_IV, V9_DATA, "x").is_err());
    assert!(decrypt_mini_program_data("AAAA", V9_IV, V9_DATA, "x").is_err());
}

#[test]
fn raw_data_signature_is_sha1_of_raw_data_and_session_key() {
    let sig = hex::encode(Sha1::digest(b"{\"a\":1}tiihtNczf5v6AKRyjwEUhQ=="));
    assert!(verify_raw_data_signature("{\"a\":1}", V9_SESSION_KEY, &sig));
    assert!(!verify_raw_data_signature(
        "{\"a\":2}",
        V9_SESSION_KEY,
        &sig
    ));
}

const V9_SESSION_KEY: &str = "tiihtNczf5v6AKRyjwEUhQ==";
const V9_IV: &str = "r7BXXKkLb8qrSNn05n0qiA==";
const V9_DATA: &str = "CiyLU1Aw2KjvrjMdj8YKliAjtP4gsMZMQmRzooG2xrDcvSnxIMXFufNstNGTyaGS9uT5geRa0W4oTOb1WT7fJlAC+oNPdbB+3hVbJSRgv+4lGOETKUQz6OYStslQ142dNCuabNPGBzlooOmB231qMM85d2/fV6ChevvXvQP8Hkue1poOFtnEtpyxVLW1zAo6/1Xx1COxFvrc2d7UL/lmHInNlxuacJXwu0fjpXfz/YqYzBIBzD6WUfTIF9GRHpOn/Hz7saL8xz+W//FRAUid1OksQaQx4CMs8LOddcQhULW4ucetDf96JcR3g0gfRK4PC7E/r7Z6xNrXd2UIeorGj5Ef7b1pJAYB6Y5anaHqZ9J6nKEBvB4DnNLIVWSgARns/8wR2SiRS7MNACwTyrGvt9ts8p12PKFdlqYTopNHR1Vf7XjfhQlVsAJdNiKdYmYVoKlaRv85IfVunYzO0IKXsyl7JCUjCpoG20f0a04COwfneQAGGwd5oa+T8yO5hzuyDb/XcxxmK01EpqOyuxINew==";

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn round_trip_of_any_message_and_receive_id(
        msg in proptest::collection::vec(any::<char>(), 0..2000).prop_map(|v| v.into_iter().collect::<String>()),
        rid in "[a-z0-9_]{0,40}",
        key in "[A-Za-z0-9]{43}",
        random in proptest::array::uniform16(any::<u8>()),
    ) {
        let c = MsgCrypt::new("token", &key, &rid).unwrap();
        let enc = c.encrypt_with_random(&msg, &random);
        let ct = STANDARD.decode(&enc).unwrap();
        prop_assert_eq!(ct.len() % 32, 0);
        let full_len = 20 + msg.len() + rid.len();
        prop_assert_eq!(ct.len(), full_len + (32 - full_len % 32));
        prop_assert_eq!(c.decrypt(&enc).unwrap(), msg);
    }

    #[test]
    fn push_round_trip_with_random_timestamps_and_nonces(
        msg in "\\PC{0,300}",
        ts in "[0-9]{1,12}",
        nonce in "[A-Za-z0-9+/]{1,20}",
    ) {
        let c = v2_crypt();
        let (body, sig) = c.encrypt_push(&msg, &Envelope::AppId("wx134c8103faa5a59e".into()), &ts, &nonce);
        prop_assert_eq!(c.decrypt_push(&sig, &ts, &nonce, body.as_bytes()).unwrap(), msg);
    }
}
