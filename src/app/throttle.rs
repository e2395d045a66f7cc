//! Failed authentications slowed down (issue 13, hardening): per account (a token's prefix, a login's
//! e-mail) and per client address, every attempt beyond a few free ones waits its turn, each turn
//! longer than the last (up to [`ThrottleConfig::max_step`]); an attempt that would wait longer than
//! [`ThrottleConfig::max_wait`] is answered at once with the time to come back (429). Nothing is ever
//! locked: failures are forgotten after [`ThrottleConfig::forget_after`], a success clears its
//! account's count (not its address's: one valid token must not buy more guesses from an address).
//!
//! Attempts are counted when they start, not when they fail, so a flood of parallel guesses queues
//! up like a slow one. One component for every way in (API tokens, the web pages' accounts).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The throttle's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleConfig {
    /// Attempts (failed or under way) per key answered without waiting.
    pub free_attempts: u32,
    /// The wait added by the first attempt beyond the free ones; each next one doubles it.
    pub first_step: Duration,
    /// The longest wait one attempt adds.
    pub max_step: Duration,
    /// Beyond this wait an attempt is refused at once (429 with `Retry-After`).
    pub max_wait: Duration,
    /// A key without any attempt for this long starts afresh.
    pub forget_after: Duration,
    /// The most keys remembered (the least recently seen idle one is dropped beyond it).
    pub max_keys: usize,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        ThrottleConfig {
            free_attempts: 5,
            first_step: Duration::from_millis(100),
            max_step: Duration::from_secs(2),
            max_wait: Duration::from_secs(20),
            forget_after: Duration::from_secs(15 * 60),
            max_keys: 100_000,
        }
    }
}

/// Who an attempt is about: the account it names and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Account(String),
    Address(IpAddr),
}

#[derive(Debug)]
struct KeyState {
    failures: u32,
    in_flight: u32,
    /// When the next attempt beyond the free ones may start.
    next_turn: Instant,
    last_seen: Instant,
}

/// The throttle, shared by every request (cheap to share behind an `Arc`).
#[derive(Debug)]
pub struct Throttle {
    config: ThrottleConfig,
    keys: Mutex<HashMap<Key, KeyState>>,
}

/// Too many attempts: come back after this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    pub retry_after: Duration,
}

/// An attempt under way: wait [`Attempt::wait`], check the credential, then say how it went. Dropped
/// without a word, it counts as neither a failure nor a success.
#[must_use]
#[derive(Debug)]
pub struct Attempt {
    throttle: Arc<Throttle>,
    keys: Vec<Key>,
    wait: Duration,
    settled: bool,
}

impl Throttle {
    pub fn new(config: ThrottleConfig) -> Arc<Throttle> {
        Arc::new(Throttle {
            config,
            keys: Mutex::new(HashMap::new()),
        })
    }

    pub fn config(&self) -> ThrottleConfig {
        self.config
    }

    /// Starts an attempt for an account (e.g. a token's prefix, an e-mail) from an address: how long
    /// it must wait before the credential is checked, or a refusal when that would be too long.
    pub fn begin(
        self: &Arc<Self>,
        account: Option<&str>,
        address: Option<IpAddr>,
    ) -> Result<Attempt, Refused> {
        self.begin_at(account, address, Instant::now())
    }

    fn begin_at(
        self: &Arc<Self>,
        account: Option<&str>,
        address: Option<IpAddr>,
        now: Instant,
    ) -> Result<Attempt, Refused> {
        let mut keys = Vec::with_capacity(2);
        if let Some(account) = account {
            keys.push(Key::Account(account.to_string()));
        }
        if let Some(address) = address {
            keys.push(Key::Address(address));
        }
        let config = self.config;
        let mut map = self
            .keys
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // How long this attempt waits: the latest turn among its keys that are over budget.
        let mut start = now;
        let mut over_budget = Vec::new();
        for key in &keys {
            let Some(state) = map.get_mut(key) else {
                continue;
            };
            if now.duration_since(state.last_seen) > config.forget_after && state.in_flight == 0 {
                state.failures = 0;
            }
            let load = state.failures + state.in_flight;
            if load >= config.free_attempts {
                start = start.max(state.next_turn);
                over_budget.push((key.clone(), load - config.free_attempts));
            }
        }
        let wait = start.duration_since(now);
        if wait > config.max_wait {
            return Err(Refused { retry_after: wait });
        }
        for key in &keys {
            if !map.contains_key(key) && map.len() >= config.max_keys {
                evict_one(&mut map);
            }
            let state = map.entry(key.clone()).or_insert(KeyState {
                failures: 0,
                in_flight: 0,
                next_turn: now,
                last_seen: now,
            });
            state.in_flight += 1;
            state.last_seen = now;
            if let Some((_, excess)) = over_budget.iter().find(|(k, _)| k == key) {
                let step = config
                    .first_step
                    .saturating_mul(2u32.saturating_pow((*excess).min(16)))
                    .min(config.max_step);
                state.next_turn = start + step;
            }
        }
        Ok(Attempt {
            throttle: self.clone(),
            keys,
            wait,
            settled: false,
        })
    }

    /// Keys remembered (tests, diagnostics).
    pub fn tracked_keys(&self) -> usize {
        self.keys.lock().map(|m| m.len()).unwrap_or(0)
    }

    fn settle(&self, keys: &[Key], outcome: Option<bool>) {
        let mut map = self
            .keys
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let now = Instant::now();
        for key in keys {
            if let Some(state) = map.get_mut(key) {
                state.in_flight = state.in_flight.saturating_sub(1);
                state.last_seen = now;
                match (outcome, key) {
                    (Some(false), _) => state.failures = state.failures.saturating_add(1),
                    (Some(true), Key::Account(_)) => {
                        state.failures = 0;
                        state.next_turn = now;
                    }
                    (Some(true), Key::Address(_)) | (None, _) => {}
                }
            }
        }
    }
}

/// Drops the least recently seen key with nothing under way (memory stays bounded).
fn evict_one(map: &mut HashMap<Key, KeyState>) {
    let oldest = map
        .iter()
        .filter(|(_, s)| s.in_flight == 0)
        .min_by_key(|(_, s)| s.last_seen)
        .map(|(k, _)| k.clone());
    if let Some(key) = oldest {
        map.remove(&key);
    }
}

impl Attempt {
    /// How long to wait before checking the credential.
    pub fn wait(&self) -> Duration {
        self.wait
    }

    /// The credential was wrong: the attempt counts against its account and its address.
    pub fn failed(mut self) {
        self.settled = true;
        self.throttle.settle(&self.keys, Some(false));
    }

    /// The credential was right: its account's failures are forgotten.
    pub fn succeeded(mut self) {
        self.settled = true;
        self.throttle.settle(&self.keys, Some(true));
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        if !self.settled {
            self.throttle.settle(&self.keys, None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quick() -> Arc<Throttle> {
        Throttle::new(ThrottleConfig {
            free_attempts: 3,
            first_step: Duration::from_millis(100),
            max_step: Duration::from_secs(1),
            max_wait: Duration::from_secs(5),
            forget_after: Duration::from_secs(60),
            max_keys: 4,
        })
    }

    fn ip(last: u8) -> Option<IpAddr> {
        Some(IpAddr::from([203, 0, 113, last]))
    }

    #[test]
    fn failures_beyond_the_free_ones_wait_longer_and_longer_then_are_refused() {
        let throttle = quick();
        let now = Instant::now();
        let mut waits = Vec::new();
        let mut refused = None;
        for _ in 0..40 {
            match throttle.begin_at(Some("clt_abcd"), ip(1), now) {
                Ok(attempt) => {
                    waits.push(attempt.wait().as_millis());
                    attempt.failed();
                }
                Err(r) => {
                    refused = Some(r);
                    break;
                }
            }
        }
        // 3 free, then turns 100, 200, 400, 800 ms apart, then 1 s apart (the cap).
        assert_eq!(&waits[..8], &[0, 0, 0, 0, 100, 300, 700, 1500]);
        assert_eq!(waits[8], 2500);
        let refused = refused.expect("refused once the wait passes 5 s");
        assert!(refused.retry_after > Duration::from_secs(5));
    }

    #[test]
    fn parallel_attempts_queue_like_successive_ones() {
        let throttle = quick();
        let now = Instant::now();
        // Ten guesses sent together, none answered yet: the fourth already waits.
        let attempts: Vec<Attempt> = (0..6)
            .map(|_| throttle.begin_at(None, ip(2), now).unwrap())
            .collect();
        let waits: Vec<u128> = attempts.iter().map(|a| a.wait().as_millis()).collect();
        assert_eq!(waits, vec![0, 0, 0, 0, 100, 300]);
    }

    #[test]
    fn a_success_clears_its_account_but_not_its_address() {
        let throttle = quick();
        let now = Instant::now();
        for _ in 0..5 {
            throttle
                .begin_at(Some("clt_1111"), ip(3), now)
                .unwrap()
                .failed();
        }
        throttle
            .begin_at(Some("clt_1111"), ip(3), now)
            .unwrap()
            .succeeded();
        // Another address, same account: free again.
        assert_eq!(
            throttle
                .begin_at(Some("clt_1111"), ip(4), now)
                .unwrap()
                .wait(),
            Duration::ZERO
        );
        // Same address, another account: still slowed.
        assert!(
            throttle
                .begin_at(Some("clt_2222"), ip(3), now)
                .unwrap()
                .wait()
                > Duration::ZERO
        );
    }

    #[test]
    fn failures_are_forgotten_after_a_while_and_memory_stays_bounded() {
        let throttle = quick();
        let now = Instant::now();
        for _ in 0..6 {
            throttle.begin_at(None, ip(5), now).unwrap().failed();
        }
        let later = now + Duration::from_secs(61);
        assert_eq!(
            throttle.begin_at(None, ip(5), later).unwrap().wait(),
            Duration::ZERO
        );
        for last in 10..40 {
            throttle.begin_at(None, ip(last), later).unwrap().failed();
        }
        assert!(throttle.tracked_keys() <= 4);
    }
}
