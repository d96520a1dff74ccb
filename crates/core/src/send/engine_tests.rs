//! The engine's creation path: duplicate detection by openid, the default rate of a job.

use super::super::api::{BoxFuture, SendFailure, SendOk};
use super::super::reason::RowNote;
use super::super::render::ApiRequest;
use super::*;

/// The tests here never start a job (the runner tests build on this engine too).
pub(crate) struct NoApi;

impl SendApi for NoApi {
    fn send<'a>(
        &'a self,
        _: &'a str,
        _: &'a ApiRequest,
    ) -> BoxFuture<'a, std::result::Result<SendOk, SendFailure>> {
        Box::pin(async { unreachable!("no job is started") })
    }
    fn refresh_token<'a>(
        &'a self,
        _: &'a str,
    ) -> BoxFuture<'a, std::result::Result<(), SendFailure>> {
        Box::pin(async { Ok(()) })
    }
}

pub(crate) fn engine() -> SendEngine {
    SendEngine::new(
        Store::open_in_memory().unwrap(),
        Arc::new(NoApi),
        EngineConfig {
            // Duplicates across chunk boundaries and within one chunk.
            create_chunk: 3,
            ..EngineConfig::default()
        },
    )
}

pub(crate) fn spec() -> JobSpec {
    JobSpec {
        appid: "wxA".into(),
        title: String::new(),
        payload: super::super::model::Payload::CustomText {
            content: "hi".into(),
        },
        field_rules: Vec::new(),
        concurrency: None,
        rate_per_sec: None,
        max_attempts: None,
    }
}

/// Writes a draft job through the production path with the given hash; (openid, state).
async fn write(
    engine: &SendEngine,
    openids: &[&str],
    hash: fn(&str) -> u64,
) -> Vec<(String, RecipientState, Option<String>)> {
    let spec = spec();
    let job = engine
        .inner
        .store
        .call(|c| {
            let id = db::insert_job(
                c,
                &NewJob {
                    appid: "wxA",
                    kind: super::super::model::JobKind::CustomText,
                    template_id: "",
                    title: "",
                    purpose: JobPurpose::Plain,
                    payload_json: r#"{"type":"custom_text","content":"hi"}"#,
                    nonce: "abcdef",
                    concurrency: 1,
                    rate_per_sec: 1,
                    max_attempts: 1,
                    copied_from: None,
                },
                0,
            )?;
            db::load_job(c, id)
        })
        .await
        .unwrap();
    let job = Arc::new(job);
    let list: Vec<Recipient> = openids.iter().map(|o| Recipient::new(*o)).collect();
    engine
        .write_recipients(&job, &spec, list, Dedup::with_hash(hash))
        .await
        .unwrap();
    let id = job.id;
    engine
        .inner
        .store
        .call(move |c| {
            let mut s = c.prepare(
                "SELECT openid, state, errmsg FROM send_recipients WHERE job_id = ? ORDER BY seq",
            )?;
            let v = s
                .query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(v)
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn duplicates_are_decided_by_the_openids_even_when_every_hash_collides() {
    let engine = engine();
    // Every openid hashes to the same value: only real repeats may be skipped.
    let rows = write(
        &engine,
        &["oA", "oB", "oA", "oC", "oD", "oB", "oE", "oE"],
        |_| 42,
    )
    .await;
    let states: Vec<(&str, RecipientState)> = rows.iter().map(|r| (r.0.as_str(), r.1)).collect();
    use RecipientState::{Pending as P, Skipped as S};
    assert_eq!(
        states,
        [
            ("oA", P),
            ("oB", P),
            ("oA", S),
            ("oC", P),
            ("oD", P),
            ("oB", S),
            ("oE", P),
            ("oE", S),
        ]
    );
    assert!(
        rows.iter()
            .filter(|r| r.1 == S)
            .all(|r| r.2.as_deref().and_then(RowNote::from_stored) == Some(RowNote::Duplicate))
    );
    // The real hash gives the same answer.
    let again = write(
        &engine,
        &["oA", "oB", "oA", "oC", "oD", "oB", "oE", "oE"],
        hash_of,
    )
    .await;
    assert_eq!(rows, again, "a second job of the same list");
}

#[tokio::test]
async fn a_job_that_sets_only_its_concurrency_gets_the_default_rate_per_slot() {
    let engine = engine();
    let with = |concurrency: Option<u32>, rate: Option<u32>| JobSpec {
        concurrency,
        rate_per_sec: rate,
        ..spec()
    };
    let rate_of = |spec: JobSpec| {
        let engine = engine.clone();
        async move {
            let id = engine
                .create_job(spec, [Recipient::new("o1")])
                .await
                .unwrap();
            engine.job(id).await.unwrap().rate_per_sec
        }
    };
    // The defaults (20 slots, 200/s) stay as they were.
    assert_eq!(rate_of(with(None, None)).await, 200);
    // 50 slots at WeChat's typical 100 ms need 500/s: a fixed 200/s would leave 30 idle.
    assert_eq!(rate_of(with(Some(50), None)).await, 500);
    assert_eq!(rate_of(with(Some(1), None)).await, 10);
    // The operator's own rate wins.
    assert_eq!(rate_of(with(Some(50), Some(120))).await, 120);
    // One account's ceiling lets such a job run at its bound.
    assert!(EngineConfig::default().account_rate_per_sec >= 500);
}
