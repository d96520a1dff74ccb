//! The one vocabulary for retrying: how many attempts, the first delay, how it grows, the cap and
//! the jitter. A developer who changes how wxdesk retries looks here; each retrying part asks a
//! [`RetryPolicy`] for the delay before the next attempt:
//!
//! - the gateway's calls for an account (and the follower sync, templates… through it):
//!   [`ACCOUNT_CALL`];
//! - the relay feed's polling while the relay is unreachable: [`FEED_POLL`];
//! - a parked feed event (an authorization that could not be applied yet): [`PARKED_EVENT`];
//! - a send engine's failed row: [`crate::send::EngineConfig::retry`] (its knobs are the
//!   engine's config, so tests and a job's settings can change them);
//! - a rollout's failed step: [`crate::code::RolloutConfig::retry`].

use std::time::Duration;

/// How a failing operation is tried again.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// The delay after the first failure.
    pub base: Duration,
    /// No delay is longer than this.
    pub max: Duration,
    /// Attempts in all, the first included; `u32::MAX` for "until something else stops it".
    pub attempts: u32,
    /// Each delay is multiplied by this after a failure.
    pub factor: u32,
    /// ± this fraction of the delay is random (0.0: none), so many clients that failed together
    /// do not retry together.
    pub jitter: f64,
    /// When not empty, the delays themselves (the n-th failure waits `steps[n-1]`, the last one
    /// repeating) instead of base × factor^(n-1): for a schedule that does not grow evenly.
    pub steps: &'static [Duration],
}

impl RetryPolicy {
    /// Whether another attempt may follow `attempt` failed ones (1-based).
    pub fn may_retry(&self, attempt: u32) -> bool {
        attempt < self.attempts
    }

    /// The delay before the next attempt after `attempt` failures (1-based; 0 counts as 1):
    /// base × factor^(n-1) (or the n-th of `steps`), capped at `max`, then jittered.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let n = attempt.max(1);
        let delay = match self.steps.last() {
            Some(last) => *self.steps.get(n as usize - 1).unwrap_or(last),
            None => {
                let exp = self.factor.max(1).checked_pow(n - 1).unwrap_or(u32::MAX);
                self.base.saturating_mul(exp)
            }
        }
        .min(self.max);
        if self.jitter <= 0.0 {
            return delay;
        }
        let spread = self.jitter.min(1.0);
        let f = 1.0 + spread * (rand::random::<f64>() * 2.0 - 1.0);
        delay.mul_f64(f.max(0.0)).min(self.max)
    }
}

/// A call made on behalf of an account (gateway.rs): four attempts, 200 ms then ×3, no jitter —
/// a busy WeChat (-1, per-minute limits, 5xx) is tried again briefly, not for long.
pub const ACCOUNT_CALL: RetryPolicy = RetryPolicy {
    base: Duration::from_millis(200),
    max: Duration::from_secs(5),
    attempts: 4,
    factor: 3,
    jitter: 0.0,
    steps: &[],
};

/// The feed's polls while the relay cannot be reached: 1 s, doubling up to a minute, for as long
/// as the app runs.
pub const FEED_POLL: RetryPolicy = RetryPolicy {
    base: Duration::from_secs(1),
    max: Duration::from_secs(60),
    attempts: u32::MAX,
    factor: 2,
    jitter: 0.0,
    steps: &[],
};

/// A parked feed event. An authorization code lives 10 minutes, so the first retries come soon;
/// then hourly until the feed gives the event up (`feed::parked::GIVE_UP_AFTER_SECS`).
pub const PARKED_EVENT: RetryPolicy = RetryPolicy {
    base: Duration::from_secs(10),
    max: Duration::from_secs(3600),
    attempts: u32::MAX,
    factor: 1,
    jitter: 0.0,
    steps: &[
        Duration::from_secs(10),
        Duration::from_secs(30),
        Duration::from_secs(60),
        Duration::from_secs(120),
        Duration::from_secs(300),
        Duration::from_secs(600),
        Duration::from_secs(1800),
        Duration::from_secs(3600),
    ],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_by_the_factor_up_to_the_cap_and_attempts_are_counted() {
        let p = RetryPolicy {
            base: Duration::from_millis(100),
            max: Duration::from_millis(700),
            attempts: 4,
            factor: 3,
            jitter: 0.0,
            steps: &[],
        };
        let delays: Vec<u128> = (1..=4).map(|n| p.backoff(n).as_millis()).collect();
        assert_eq!(delays, [100, 300, 700, 700]);
        assert!(p.may_retry(3) && !p.may_retry(4));
        // A huge attempt count does not overflow.
        assert_eq!(p.backoff(u32::MAX), Duration::from_millis(700));
    }

    #[test]
    fn jitter_stays_within_its_fraction_and_under_the_cap() {
        let p = RetryPolicy {
            base: Duration::from_millis(1_000),
            max: Duration::from_secs(60),
            attempts: u32::MAX,
            factor: 2,
            jitter: 0.5,
            steps: &[],
        };
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..200 {
            let d = p.backoff(1).as_millis();
            assert!((500..=1_500).contains(&d), "{d}");
            seen.insert(d);
        }
        assert!(seen.len() > 10, "the delays vary: {seen:?}");
        assert_eq!(ACCOUNT_CALL.backoff(2), Duration::from_millis(600));
    }

    fn secs(p: &RetryPolicy, n: std::ops::RangeInclusive<u32>) -> Vec<u64> {
        n.map(|a| p.backoff(a).as_secs()).collect()
    }

    #[test]
    fn each_retrying_part_gets_its_numbers_from_here() {
        // The feed's polls: doubling from a second up to a minute, never giving up.
        assert_eq!(secs(&FEED_POLL, 1..=8), [1, 2, 4, 8, 16, 32, 60, 60]);
        assert!(FEED_POLL.may_retry(1_000_000));
        // A parked event: soon while its code may still be good, then hourly.
        assert_eq!(
            secs(&PARKED_EVENT, 0..=9),
            [10, 10, 30, 60, 120, 300, 600, 1800, 3600, 3600]
        );
        assert_eq!(PARKED_EVENT.backoff(u32::MAX), Duration::from_secs(3600));
        // The send engine's defaults: 0.5 s doubling to a minute, ±50 %, five attempts.
        let send = crate::send::EngineConfig::default().retry();
        assert_eq!((send.attempts, send.factor, send.jitter), (5, 2, 0.5));
        for (n, mid) in [(1, 500), (2, 1_000), (5, 8_000)] {
            let d = send.backoff(n).as_millis();
            assert!((mid / 2..=mid * 3 / 2).contains(&d), "attempt {n}: {d} ms");
        }
        assert!(send.backoff(30) <= Duration::from_secs(60), "capped");
        // A rollout's step: 2 s doubling to five minutes, no jitter.
        let code = crate::code::RolloutConfig::default().retry();
        assert_eq!(secs(&code, 1..=9), [2, 4, 8, 16, 32, 64, 128, 256, 300]);
    }
}
