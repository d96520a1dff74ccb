//! The HTTP server, with faults on demand. The sim runs its own accept loop (hyper) instead of
//! `axum::serve` because a "connection reset" fault must drop a connection without answering,
//! which only a service that may fail can do. Faults are drawn from `hash(seed, call number)`,
//! so a run with the same seed and the same call order sees the same faults.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;

use crate::config::SimConfig;
use crate::ids::{hash, unit};
use crate::sim::Sim;
use crate::state::ApiErr;

/// The fault drawn for one API call.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fault {
    None,
    Busy,
    Http5xx,
    Reset,
}

/// Returned by the service to make hyper close the connection without a response.
#[derive(Debug)]
pub struct Reset;

impl std::fmt::Display for Reset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("simulated connection reset")
    }
}

impl std::error::Error for Reset {}

/// Faults apply to the API only, never to the login pages or the test routes.
fn is_api(path: &str) -> bool {
    (path.starts_with("/cgi-bin/") && !path.starts_with("/cgi-bin/componentloginpage"))
        || path.starts_with("/sns/")
        || path.starts_with("/wxa/")
}

/// (delay, fault) for API call number `n`: a pure function of the config and `n`.
pub fn draw(c: &SimConfig, n: u64) -> (Duration, Fault) {
    let seed = c.seed;
    let mut ms = c.latency_ms as f64 + c.jitter_ms as f64 * unit(hash(seed, &[n, 1]));
    if unit(hash(seed, &[n, 2])) < c.slow_rate {
        ms += c.slow_ms as f64;
    }
    let fault = if unit(hash(seed, &[n, 3])) < c.reset_rate {
        Fault::Reset
    } else if unit(hash(seed, &[n, 4])) < c.http5xx_rate {
        Fault::Http5xx
    } else if unit(hash(seed, &[n, 5])) < c.busy_rate {
        Fault::Busy
    } else {
        Fault::None
    };
    (Duration::from_micros((ms * 1000.0) as u64), fault)
}

/// Waits `d`, to within a fraction of a millisecond. tokio's timer works in whole milliseconds
/// and fires after its deadline (a 50 ms sleep ends after 51–52 ms), which put every simulated
/// WeChat call 2–4 % over its configured latency and the benchmarks' latency floors out of reach
/// by the simulator's own doing. So tokio's timer covers all but the last 2 ms and one timer
/// thread of the sim's own ends the rest (a futex wait with a timeout: tens of µs late), while
/// the runtime's workers go on serving. One thread, not the blocking pool: a pool thread per
/// waiting call spread the sim's allocations over as many malloc arenas (+80 MiB in a sync of
/// 1,000,000 followers with the sim in the same process).
pub(crate) async fn sleep_precisely(d: Duration) {
    let deadline = std::time::Instant::now() + d;
    let coarse = d.saturating_sub(Duration::from_millis(2));
    if !coarse.is_zero() {
        tokio::time::sleep(coarse).await;
    }
    if std::time::Instant::now() < deadline {
        let (done, wait) = tokio::sync::oneshot::channel();
        if fine_timer().send((deadline, done)).is_ok() {
            // Err: the timer thread is gone, which only ends the wait early.
            let _ = wait.await;
        }
    }
}

type Wake = (std::time::Instant, tokio::sync::oneshot::Sender<()>);

/// The timer thread's inbox; the thread starts with the first wait and lives with the process.
fn fine_timer() -> std::sync::mpsc::Sender<Wake> {
    static INBOX: std::sync::OnceLock<std::sync::Mutex<std::sync::mpsc::Sender<Wake>>> =
        std::sync::OnceLock::new();
    let inbox = INBOX.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel::<Wake>();
        let spawned = std::thread::Builder::new()
            .name("sim-fine-timer".into())
            .spawn(move || fine_timer_loop(rx));
        // Without the thread the receiver is dropped and every wait ends at the coarse timer.
        drop(spawned);
        std::sync::Mutex::new(tx)
    });
    inbox.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

fn fine_timer_loop(rx: std::sync::mpsc::Receiver<Wake>) {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    // Ordered by deadline; the sequence number keeps equal deadlines apart.
    let mut due: BinaryHeap<Reverse<(std::time::Instant, u64)>> = BinaryHeap::new();
    let mut waiting: std::collections::HashMap<u64, tokio::sync::oneshot::Sender<()>> =
        std::collections::HashMap::new();
    let mut seq = 0u64;
    loop {
        let now = std::time::Instant::now();
        while let Some(Reverse((at, n))) = due.peek().copied() {
            if at > now {
                break;
            }
            due.pop();
            if let Some(done) = waiting.remove(&n) {
                // Err: the call gave up waiting (its connection closed).
                let _ = done.send(());
            }
        }
        let next = match due.peek() {
            Some(Reverse((at, _))) => rx.recv_timeout(at.saturating_duration_since(now)),
            None => rx
                .recv()
                .map_err(|_| std::sync::mpsc::RecvTimeoutError::Disconnected),
        };
        match next {
            Ok((at, done)) => {
                seq += 1;
                due.push(Reverse((at, seq)));
                waiting.insert(seq, done);
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
        }
    }
}

/// The caller's IP, for the whitelist check.
#[derive(Debug, Clone, Copy)]
pub struct PeerIp(pub std::net::IpAddr);

async fn handle(
    sim: Arc<Sim>,
    router: Router,
    peer: PeerIp,
    mut req: Request<Incoming>,
) -> Result<Response<Body>, Reset> {
    req.extensions_mut().insert(peer);
    if is_api(req.uri().path()) {
        let n = sim.fault_seq.fetch_add(1, Ordering::Relaxed);
        let (delay, fault) = draw(&sim.cfg, n);
        if !delay.is_zero() {
            sleep_precisely(delay).await;
        }
        match fault {
            Fault::Reset => return Err(Reset),
            Fault::Http5xx => {
                let mut r = Response::new(Body::from(
                    "<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>",
                ));
                *r.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
                r.headers_mut().insert(
                    header::CONTENT_TYPE,
                    header::HeaderValue::from_static("text/html"),
                );
                return Ok(r);
            }
            Fault::Busy => {
                return Ok(crate::api::json_response(
                    &ApiErr::new(-1, "system error").to_json(),
                ));
            }
            Fault::None => {}
        }
    }
    let res: Result<Response<Body>, Infallible> = router.oneshot(req).await;
    match res {
        Ok(r) => Ok(r),
        Err(never) => match never {},
    }
}

/// Accept connections until `shutdown` flips; then abort every open connection.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    sim: Arc<Sim>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut conns = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            acc = listener.accept() => {
                let Ok((stream, addr)) = acc else { continue };
                let peer = PeerIp(addr.ip());
                let _ = stream.set_nodelay(true);
                let (sim, router) = (sim.clone(), router.clone());
                conns.spawn(async move {
                    let svc = hyper::service::service_fn(move |req| handle(sim.clone(), router.clone(), peer, req));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .keep_alive(true)
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
                while conns.try_join_next().is_some() {}
            }
        }
    }
    conns.abort_all();
    while conns.join_next().await.is_some() {}
}

#[cfg(test)]
mod tests {
    use super::*;

    fn faults(c: &SimConfig, n: u64) -> Vec<Fault> {
        (0..n).map(|i| draw(c, i).1).collect()
    }

    #[test]
    fn rates_give_their_share_of_faults_and_the_seed_fixes_which() {
        let c = SimConfig {
            busy_rate: 0.25,
            seed: 9,
            ..SimConfig::default()
        };
        let a = faults(&c, 4000);
        let busy = a.iter().filter(|f| **f == Fault::Busy).count();
        assert!((900..1100).contains(&busy), "{busy} of 4000");
        assert_eq!(a, faults(&c, 4000));
        assert_ne!(
            a,
            faults(
                &SimConfig {
                    seed: 10,
                    ..c.clone()
                },
                4000
            )
        );
        assert!(
            faults(&SimConfig::default(), 1000)
                .iter()
                .all(|f| *f == Fault::None)
        );
    }

    #[tokio::test]
    async fn a_precise_sleep_never_ends_before_its_time() {
        for ms in [0u64, 1, 2, 3, 7, 50] {
            let d = Duration::from_millis(ms) + Duration::from_micros(300);
            let start = std::time::Instant::now();
            sleep_precisely(d).await;
            assert!(
                start.elapsed() >= d,
                "{ms} ms: ended after {:?}",
                start.elapsed()
            );
        }
    }

    #[test]
    fn latency_jitter_and_slow_answers_add_up() {
        let c = SimConfig {
            latency_ms: 100,
            jitter_ms: 50,
            ..SimConfig::default()
        };
        for n in 0..200 {
            let d = draw(&c, n).0;
            assert!(
                d >= Duration::from_millis(100) && d < Duration::from_millis(150),
                "{d:?}"
            );
        }
        let slow = SimConfig {
            slow_rate: 1.0,
            slow_ms: 3000,
            ..SimConfig::default()
        };
        assert_eq!(draw(&slow, 0).0, Duration::from_millis(3000));
        let reset = SimConfig {
            reset_rate: 1.0,
            http5xx_rate: 1.0,
            ..SimConfig::default()
        };
        assert_eq!(draw(&reset, 0).1, Fault::Reset);
        let down = SimConfig {
            http5xx_rate: 1.0,
            busy_rate: 1.0,
            ..SimConfig::default()
        };
        assert_eq!(draw(&down, 0).1, Fault::Http5xx);
    }
}
