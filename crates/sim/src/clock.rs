//! The simulated clock: starts at the real time, runs `clock_speed` times faster, and can be
//! pushed forward by tests (`POST /__sim/advance-clock`), so token expiry is testable without
//! waiting two hours.

use std::sync::Mutex;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

#[derive(Debug)]
pub struct SimClock {
    start_real: Instant,
    start_unix: f64,
    speed: f64,
    offset_secs: Mutex<f64>,
}

impl SimClock {
    pub fn new(speed: f64) -> Self {
        let start_unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        SimClock {
            start_real: Instant::now(),
            start_unix,
            speed: if speed.is_finite() && speed > 0.0 {
                speed
            } else {
                1.0
            },
            offset_secs: Mutex::new(0.0),
        }
    }

    /// Sim time in unix seconds (fractional).
    pub fn now_f64(&self) -> f64 {
        let offset = *self.offset_secs.lock().unwrap_or_else(|p| p.into_inner());
        self.start_unix + self.start_real.elapsed().as_secs_f64() * self.speed + offset
    }

    /// Sim time in whole unix seconds.
    pub fn now(&self) -> i64 {
        self.now_f64().floor() as i64
    }

    /// Sim time at start (whole seconds), the anchor of the generated world's "recent" events.
    pub fn start(&self) -> i64 {
        self.start_unix.floor() as i64
    }

    pub fn advance(&self, secs: f64) {
        if secs.is_finite() && secs > 0.0 {
            *self.offset_secs.lock().unwrap_or_else(|p| p.into_inner()) += secs;
        }
    }

    /// Real duration for `sim_secs` of sim time.
    pub fn real_duration(&self, sim_secs: f64) -> std::time::Duration {
        // Clamp: a huge interval over a slow clock must not overflow Duration.
        std::time::Duration::try_from_secs_f64((sim_secs / self.speed).max(0.001))
            .unwrap_or(std::time::Duration::from_secs(u64::from(u32::MAX)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advance_moves_the_clock_forward_by_exactly_that_much() {
        let c = SimClock::new(1.0);
        let before = c.now_f64();
        c.advance(7200.0);
        let after = c.now_f64();
        assert!(after - before >= 7200.0 && after - before < 7201.0);
    }

    #[test]
    fn speed_scales_real_durations() {
        let c = SimClock::new(100.0);
        assert_eq!(c.real_duration(600.0), std::time::Duration::from_secs(6));
    }
}
