//! The one vocabulary for retrying: how many attempts, the first delay, how it grows, the cap and
//! the jitter. A developer who changes how wxdesk retries looks here; each retrying part (the
//! gateway's calls for an account, the follower sync through it, the send engine, the feed)
//! holds a [`RetryPolicy`] and asks it for the delay before the next attempt.

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
}

impl RetryPolicy {
    /// Whether another attempt may follow `attempt` failed ones (1-based).
    pub fn may_retry(&self, attempt: u32) -> bool {
        attempt < self.attempts
    }

    /// The delay before the next attempt after `attempt` failures (1-based): base × factor^(n-1),
    /// capped at `max`, then jittered.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .factor
            .max(1)
            .checked_pow(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        let delay = self.base.saturating_mul(exp).min(self.max);
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
}
