//! Retrying with exponential backoff, as Go's `configretry` configures it
//! and the `cenkalti/backoff` its users run computes it: each wait is the
//! current interval randomized by ±`randomization_factor`, the interval
//! then grows by `multiplier` up to `max_interval`, and a wait that would
//! end after `max_elapsed_time` (when not zero) means giving up. The
//! exporter helper, the kafka receiver's `error_backoff`, resource
//! detection's `retry`, file_log's refused reads and the batch processor's
//! refused sends all wait with [`Backoff`].

use crate::config::{GoDuration, Invalid, Validate};
use serde::Deserialize;
use std::time::{Duration, Instant};

/// `retry_on_failure` and the other `configretry.BackOffConfig` keys, with
/// the exporter helper's defaults.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default)]
pub struct RetrySettings {
    /// Retry at all. Default true.
    pub enabled: bool,
    /// First wait. Default 5s.
    pub initial_interval: GoDuration,
    /// Longest wait. Default 30s.
    pub max_interval: GoDuration,
    /// Give up after this long; 0 retries forever. Default 300s.
    pub max_elapsed_time: GoDuration,
    /// Growth of the wait. Default 1.5.
    pub multiplier: f64,
    /// Jitter, as a fraction of the wait. Default 0.5.
    pub randomization_factor: f64,
}

impl Default for RetrySettings {
    fn default() -> Self {
        RetrySettings {
            enabled: true,
            initial_interval: GoDuration::secs(5),
            max_interval: GoDuration::secs(30),
            max_elapsed_time: GoDuration::secs(300),
            multiplier: 1.5,
            randomization_factor: 0.5,
        }
    }
}

impl Validate for RetrySettings {
    /// Go's checks and words (`configretry`), every failing one on its own
    /// line as `errors.Join` prints them, whether or not retry is enabled.
    fn validate(&self) -> Result<(), Invalid> {
        let mut errors: Vec<&str> = Vec::new();
        let max_elapsed = self.max_elapsed_time.0;
        if !max_elapsed.is_zero() {
            if max_elapsed < self.initial_interval.0 {
                errors.push("'max_elapsed_time' must not be less than 'initial_interval'");
            } else if max_elapsed < self.max_interval.0 {
                errors.push("'max_elapsed_time' must not be less than 'max_interval'");
            }
        }
        if self.multiplier < 0.0 {
            errors.push("multiplier value must be greater than or equal to 0");
        }
        if self.randomization_factor < 0.0 {
            errors.push("randomization_factor value must be greater than or equal to 0");
        }
        if self.randomization_factor > 1.0 {
            errors.push("randomization_factor value must be less than or equal to 1");
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Invalid::at("", errors.join("\n")))
        }
    }
}

/// The waits between the attempts at one piece of work.
#[derive(Debug, Clone)]
pub struct Backoff {
    settings: RetrySettings,
    started: Instant,
    current: Duration,
}

impl Backoff {
    /// Waits as `settings` say, the elapsed time counted from now.
    pub fn new(settings: &RetrySettings) -> Backoff {
        Backoff {
            settings: settings.clone(),
            started: Instant::now(),
            current: Duration::ZERO,
        }
    }

    /// The wait before the next attempt, or `None` when waiting it would
    /// pass `max_elapsed_time`: time to give up. A server's `retry_after`
    /// hint lengthens the wait, never shortens it, as in Go.
    pub fn next(&mut self, retry_after: Option<Duration>) -> Option<Duration> {
        let s = &self.settings;
        if self.current.is_zero() {
            self.current = s.initial_interval.0;
        }
        let wait = randomized(self.current, s.randomization_factor);
        self.current =
            if self.current.as_secs_f64() >= s.max_interval.0.as_secs_f64() / s.multiplier {
                s.max_interval.0
            } else {
                self.current.mul_f64(s.multiplier)
            };
        let wait = retry_after.map_or(wait, |hint| hint.max(wait));
        let max_elapsed = s.max_elapsed_time.0;
        if !max_elapsed.is_zero() && self.started.elapsed() + wait > max_elapsed {
            return None;
        }
        Some(wait)
    }

    /// The longest wait, for work that goes on after giving up is refused.
    pub fn max_interval(&self) -> Duration {
        self.settings.max_interval.0
    }

    /// Starts over: the next wait is the initial one and the elapsed time
    /// counts from now.
    pub fn reset(&mut self) {
        self.started = Instant::now();
        self.current = Duration::ZERO;
    }
}

/// A value in `[interval - f·interval, interval + f·interval]`.
fn randomized(interval: Duration, factor: f64) -> Duration {
    if factor == 0.0 {
        return interval;
    }
    let delta = interval.as_secs_f64() * factor;
    let low = interval.as_secs_f64() - delta;
    Duration::from_secs_f64((low + fastrand::f64() * 2.0 * delta).max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(initial: u64, max: u64, elapsed: u64, multiplier: f64) -> RetrySettings {
        RetrySettings {
            enabled: true,
            initial_interval: GoDuration(Duration::from_millis(initial)),
            max_interval: GoDuration(Duration::from_millis(max)),
            max_elapsed_time: GoDuration(Duration::from_millis(elapsed)),
            multiplier,
            randomization_factor: 0.0,
        }
    }

    #[test]
    fn waits_grow_by_the_multiplier_up_to_the_maximum() {
        let mut b = Backoff::new(&settings(100, 500, 0, 2.0));
        let waits: Vec<u128> = (0..5).map(|_| b.next(None).unwrap().as_millis()).collect();
        assert_eq!(waits, [100, 200, 400, 500, 500]);
        b.reset();
        assert_eq!(b.next(None), Some(Duration::from_millis(100)));
    }

    #[test]
    fn jitter_stays_within_the_factor() {
        let mut s = settings(1000, 1000, 0, 1.5);
        s.randomization_factor = 0.5;
        let mut b = Backoff::new(&s);
        for _ in 0..100 {
            let w = b.next(None).unwrap();
            assert!((500..=1500).contains(&w.as_millis()), "{w:?}");
        }
    }

    #[test]
    fn a_hint_lengthens_and_the_elapsed_budget_ends_it() {
        let mut b = Backoff::new(&settings(100, 100, 1000, 1.0));
        assert_eq!(
            b.next(Some(Duration::from_millis(300))),
            Some(Duration::from_millis(300))
        );
        assert_eq!(
            b.next(Some(Duration::from_millis(10))),
            Some(Duration::from_millis(100))
        );
        assert_eq!(b.next(Some(Duration::from_secs(2))), None, "past 1s");
    }

    #[test]
    fn validation_is_go_s() {
        assert!(RetrySettings::default().validate().is_ok());
        // Go takes a multiplier below 1 and a maximum below the first wait.
        assert!(settings(100, 50, 0, 0.5).validate().is_ok());
        let mut s = settings(100, 1000, 500, -1.0);
        s.randomization_factor = 2.0;
        assert_eq!(
            s.validate().unwrap_err().message,
            "'max_elapsed_time' must not be less than 'max_interval'\nmultiplier value must be greater than or equal to 0\nrandomization_factor value must be less than or equal to 1"
        );
    }
}
