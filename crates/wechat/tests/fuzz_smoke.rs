//! The fuzz targets' bodies on stable Rust: ~100k random and mutated inputs must not panic.
//! (The real coverage-guided fuzzer is in `crates/wechat/fuzz`; see its README.)
//! Inputs come from a seeded RNG so a failure reproduces; the seed and case are printed.

#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use wxdesk_wechat::crypto::{Envelope, MsgCrypt};
use wxdesk_wechat::fuzz;

const SEED: u64 = 0x5eed_3a1c;

fn valid_pushes() -> Vec<(Vec<u8>, String, String, String)> {
    let c = MsgCrypt::new(
        "wxdesksandbox",
        "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
        "wx5a9d0c0e7f3b1a2c",
    )
    .unwrap();
    let msgs = [
        "<xml><AppId>wx5a9d0c0e7f3b1a2c</AppId><CreateTime>1</CreateTime><InfoType>component_verify_ticket</InfoType><ComponentVerifyTicket>t</ComponentVerifyTicket></xml>",
        "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[o1]]></FromUserName><CreateTime>7</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[你好]]></Content><MsgId>1</MsgId></xml>",
        "<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime><MsgType>event</MsgType><Event>TEMPLATESENDJOBFINISH</Event><MsgID>2</MsgID><Status>success</Status></xml>",
    ];
    msgs.iter()
        .enumerate()
        .map(|(i, m)| {
            let (body, sig) = c.encrypt_push(
                m,
                &Envelope::AppId("wx5a9d0c0e7f3b1a2c".into()),
                "1700000000",
                &format!("n{i}"),
            );
            (
                body.into_bytes(),
                sig,
                "1700000000".to_owned(),
                format!("n{i}"),
            )
        })
        .collect()
}

const XML_PIECES: &[&str] = &[
    "<xml>",
    "</xml>",
    "<Encrypt>",
    "</Encrypt>",
    "<![CDATA[",
    "]]>",
    "<!DOCTYPE x [",
    "<!ENTITY a \"b\">",
    "]>",
    "&a;",
    "&amp;",
    "&#x0;",
    "&#1114112;",
    "<?xml version=\"1.0\"?>",
    "<!--",
    "-->",
    "<MsgType>",
    "text",
    "event",
    "</MsgType>",
    "<InfoType>",
    "authorized",
    "</InfoType>",
    "<CreateTime>",
    "99999999999999999999",
    "</CreateTime>",
    "<a/>",
    "<",
    ">",
    "\0",
    "\u{FEFF}",
    "长",
    "😀",
    "/",
];

fn mutate(rng: &mut StdRng, input: &[u8]) -> Vec<u8> {
    let mut v = input.to_vec();
    match rng.random_range(0..5) {
        0 if !v.is_empty() => {
            // Flip a few bits.
            for _ in 0..rng.random_range(1..8) {
                let i = rng.random_range(0..v.len());
                v[i] ^= 1 << rng.random_range(0..8);
            }
        }
        1 => v.truncate(rng.random_range(0..=v.len())),
        2 if !v.is_empty() => {
            let i = rng.random_range(0..v.len());
            let piece = XML_PIECES[rng.random_range(0..XML_PIECES.len())];
            v.splice(i..i, piece.bytes());
        }
        3 if v.len() > 2 => {
            let a = rng.random_range(0..v.len());
            let b = rng.random_range(a..v.len());
            v.drain(a..b);
        }
        _ => {
            let n = rng.random_range(0..64);
            v.extend((0..n).map(|_| rng.random::<u8>()));
        }
    }
    v
}

fn random_xmlish(rng: &mut StdRng) -> Vec<u8> {
    let n = rng.random_range(0..40);
    (0..n)
        .flat_map(|_| XML_PIECES[rng.random_range(0..XML_PIECES.len())].bytes())
        .collect()
}

#[test]
fn hundred_thousand_random_and_mutated_inputs_never_panic() {
    let mut rng = StdRng::seed_from_u64(SEED);
    let pushes = valid_pushes();
    let c = MsgCrypt::new(
        "wxdesksandbox",
        "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
        "wx5a9d0c0e7f3b1a2c",
    )
    .unwrap();
    // Sanity: the unmutated pushes do decrypt, so mutations start from the real path.
    for (body, sig, ts, nonce) in &pushes {
        assert!(c.decrypt_push(sig, ts, nonce, body).is_ok());
    }
    for case in 0..100_000u32 {
        let input: Vec<u8> = match case % 4 {
            0 => {
                let n = rng.random_range(0..512);
                (0..n).map(|_| rng.random::<u8>()).collect()
            }
            1 => random_xmlish(&mut rng),
            _ => {
                let (body, sig, ts, nonce) = &pushes[rng.random_range(0..pushes.len())];
                let m = mutate(&mut rng, body);
                // Mutated push with the original signature: reaches decrypt when the Encrypt
                // text survived, else exercises the envelope parser.
                let _ = c.decrypt_push(sig, ts, nonce, &m);
                m
            }
        };
        let r = std::panic::catch_unwind(|| {
            fuzz::callback_parse(&input);
            fuzz::decrypt_push(&input);
        });
        assert!(
            r.is_ok(),
            "panic at case {case} (seed {SEED:#x}), input {input:?}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
        fuzz::callback_parse(&data);
        fuzz::decrypt_push(&data);
    }

    #[test]
    fn arbitrary_block_aligned_plaintexts_never_panic(blocks in proptest::collection::vec(any::<[u8; 16]>(), 0..12)) {
        let data: Vec<u8> = blocks.concat();
        fuzz::decrypt_push(&data);
    }
}
