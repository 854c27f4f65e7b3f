//! What a password costs, bounded: sign-in attempts per account and per client
//! network, sign-ups per network, and how many argon2 hashes run at once (each takes
//! ~19 MiB and tens of milliseconds of a core).
//!
//! An attempt takes its place in the counts *before* its password is hashed, so
//! concurrent attempts cannot all slip under a limit. A sign-in that succeeds gives its
//! place back and makes its network known to the account: when strangers have used up
//! an account's attempts, its owner can still sign in from a network they used before.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{NodeError, NodeResult};

/// Failed sign-ins allowed per account per window (from networks it is not known on).
pub const ACCOUNT_ATTEMPTS: usize = 5;
/// Failed sign-ins allowed per client network per window.
pub const ADDRESS_ATTEMPTS: usize = 20;
/// The window of both.
pub const ATTEMPT_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Accounts created per client network per [`SIGN_UP_WINDOW`], unless the operator
/// says otherwise (`guildmark serve --sign-ups-per-hour`).
pub const SIGN_UPS: usize = 5;
/// The window of [`SIGN_UPS`].
pub const SIGN_UP_WINDOW: Duration = Duration::from_secs(60 * 60);
/// How long a network a sign-in succeeded from stays known to the account.
pub const KNOWN_FOR: Duration = Duration::from_secs(30 * 24 * 3600);
/// Password hashes run at once: with argon2's default 19 MiB each, 4 bound the memory
/// passwords take to ~76 MiB however many arrive.
pub const CONCURRENT_HASHES: usize = 4;
/// How long a request waits for a hashing slot before it is answered 503.
pub const HASH_WAIT: Duration = Duration::from_secs(2);
/// Past this many keys, counts are pruned of expired times on every attempt.
const PRUNE_ABOVE: usize = 10_000;

/// The network a client address counts under: an IPv4 address itself, the /64 of an
/// IPv6 address (one host commonly holds a whole /64).
pub fn network_of(address: &str) -> String {
    match address.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Err(_) => address.to_owned(),
    }
}

#[derive(Default)]
struct Counts {
    /// Times of failed (or still running) attempts, per `account:…` / `network:…` key.
    attempts: HashMap<String, Vec<Instant>>,
    /// Per account, the networks a sign-in succeeded from, and when.
    known: HashMap<String, HashMap<String, Instant>>,
    /// Times of sign-ups per network.
    sign_ups: HashMap<String, Vec<Instant>>,
}

/// Work for a hashing thread.
type Job = Box<dyn FnOnce() + Send>;

/// The node's password throttles (in memory: a restart forgets them; windows are short).
pub struct Throttle {
    counts: Mutex<Counts>,
    hashes: tokio::sync::Semaphore,
    /// Hashes run on [`CONCURRENT_HASHES`] threads of their own. On tokio's blocking
    /// pool each new thread would get a malloc arena of its own and keep its 19 MiB
    /// there after the hash: 150 concurrent sign-ins left the node at 560 MiB.
    hashers: Mutex<std::sync::mpsc::Sender<Job>>,
    sign_ups: AtomicUsize,
}

impl Default for Throttle {
    fn default() -> Self {
        let (sender, receiver) = std::sync::mpsc::channel::<Job>();
        let receiver = std::sync::Arc::new(Mutex::new(receiver));
        for i in 0..CONCURRENT_HASHES {
            let receiver = receiver.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("password-{i}"))
                .spawn(move || loop {
                    let job = receiver.lock().unwrap_or_else(|p| p.into_inner()).recv();
                    match job {
                        Ok(job) => job(),
                        Err(_) => return, // the node is gone
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a password-hashing thread");
            }
        }
        Throttle {
            counts: Mutex::default(),
            hashes: tokio::sync::Semaphore::new(CONCURRENT_HASHES),
            hashers: Mutex::new(sender),
            sign_ups: AtomicUsize::new(SIGN_UPS),
        }
    }
}

/// A sign-in attempt holding its place in the counts; say how it ended.
pub struct SignIn<'a> {
    throttle: &'a Throttle,
    account: String,
    network: String,
    at: Instant,
}

fn recent(times: &mut Vec<Instant>, now: Instant, window: Duration) -> usize {
    times.retain(|t| now.duration_since(*t) < window);
    times.len()
}

/// The wait until one of `times` (at least `limit` recent ones) leaves the window.
fn wait(times: &[Instant], limit: usize, now: Instant, window: Duration) -> u64 {
    let oldest = times[times.len() - limit];
    (window.saturating_sub(now.duration_since(oldest)))
        .as_secs()
        .max(1)
}

impl Throttle {
    fn counts(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes a place for a sign-in to `username` from `address`, or refuses it when the
    /// network has used its attempts, or the account its attempts and the network is
    /// not one it is known on.
    pub fn begin_sign_in(&self, username: &str, address: &str) -> NodeResult<SignIn<'_>> {
        let account = format!("account:{username}");
        let network = network_of(address);
        let network_key = format!("network:{network}");
        let now = Instant::now();
        let mut counts = self.counts();
        if counts.attempts.len() > PRUNE_ABOVE {
            counts.attempts.retain(|_, times| {
                times.retain(|t| now.duration_since(*t) < ATTEMPT_WINDOW);
                !times.is_empty()
            });
            counts.known.retain(|_, networks| {
                networks.retain(|_, t| now.duration_since(*t) < KNOWN_FOR);
                !networks.is_empty()
            });
        }
        let known = counts
            .known
            .get(&account)
            .and_then(|n| n.get(&network))
            .is_some_and(|t| now.duration_since(*t) < KNOWN_FOR);
        let mut retry_after = 0;
        let by_network = counts.attempts.entry(network_key.clone()).or_default();
        if recent(by_network, now, ATTEMPT_WINDOW) >= ADDRESS_ATTEMPTS {
            retry_after = wait(by_network, ADDRESS_ATTEMPTS, now, ATTEMPT_WINDOW);
        }
        let by_account = counts.attempts.entry(account.clone()).or_default();
        if recent(by_account, now, ATTEMPT_WINDOW) >= ACCOUNT_ATTEMPTS && !known {
            retry_after = retry_after.max(wait(by_account, ACCOUNT_ATTEMPTS, now, ATTEMPT_WINDOW));
        }
        if retry_after > 0 {
            return Err(NodeError::RateLimited {
                detail: "too many failed login attempts".into(),
                retry_after,
            });
        }
        by_account.push(now);
        counts.attempts.entry(network_key).or_default().push(now);
        Ok(SignIn {
            throttle: self,
            account,
            network,
            at: now,
        })
    }

    /// Allows `per_hour` sign-ups per client network (instead of [`SIGN_UPS`]).
    pub fn limit_sign_ups(&self, per_hour: usize) {
        self.sign_ups.store(per_hour, Ordering::Relaxed);
    }

    /// Counts a sign-up from `address`, or refuses it past the limit per window.
    pub fn sign_up(&self, address: &str) -> NodeResult<()> {
        let limit = self.sign_ups.load(Ordering::Relaxed);
        let network = network_of(address);
        let now = Instant::now();
        let mut counts = self.counts();
        if counts.sign_ups.len() > PRUNE_ABOVE {
            counts.sign_ups.retain(|_, times| {
                times.retain(|t| now.duration_since(*t) < SIGN_UP_WINDOW);
                !times.is_empty()
            });
        }
        let times = counts.sign_ups.entry(network).or_default();
        if recent(times, now, SIGN_UP_WINDOW) >= limit {
            return Err(NodeError::RateLimited {
                detail: format!("{limit} accounts were created from your network this hour"),
                retry_after: if limit == 0 {
                    SIGN_UP_WINDOW.as_secs()
                } else {
                    wait(times, limit, now, SIGN_UP_WINDOW)
                },
            });
        }
        times.push(now);
        Ok(())
    }

    /// Runs password work (`work`, blocking) when a hashing slot is free; answers busy
    /// when none frees up within [`HASH_WAIT`].
    pub async fn hash<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> NodeResult<T> {
        let permit = tokio::time::timeout(HASH_WAIT, self.hashes.acquire())
            .await
            .ok()
            .and_then(Result::ok)
            .ok_or(NodeError::Busy {
                detail: "the node is checking too many passwords at once".into(),
                retry_after: 1,
            })?;
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = done.send(work());
        });
        let sent = self
            .hashers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send(job);
        let result = match sent {
            Ok(()) => result.await.ok(),
            Err(_) => None,
        };
        drop(permit);
        result.ok_or(NodeError::Busy {
            detail: "the node's password hashing stopped".into(),
            retry_after: 1,
        })
    }
}

impl SignIn<'_> {
    /// The password was right: the attempt leaves the counts, the account's failures
    /// are forgotten, and the network becomes known to the account.
    pub fn succeeded(self) {
        let mut counts = self.throttle.counts();
        counts.attempts.remove(&self.account);
        if let Some(times) = counts
            .attempts
            .get_mut(&format!("network:{}", self.network))
        {
            if let Some(i) = times.iter().position(|t| *t == self.at) {
                times.remove(i);
            }
        }
        counts
            .known
            .entry(self.account)
            .or_default()
            .insert(self.network, Instant::now());
    }

    /// The password was wrong (or the account does not exist): the attempt stays
    /// counted. (An attempt dropped without either, its request cancelled, also stays.)
    pub fn failed(self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_group_ipv6_by_64() {
        assert_eq!(network_of("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
        assert_eq!(network_of("2001:db8:1:2::9"), "2001:db8:1:2::/64");
        assert_eq!(network_of("::ffff:192.0.2.7"), "192.0.2.7");
        assert_eq!(network_of("192.0.2.7"), "192.0.2.7");
        assert_eq!(network_of("unknown"), "unknown");
    }

    #[test]
    fn attempts_count_before_they_are_checked() {
        let throttle = Throttle::default();
        // Five in flight at once from five networks: the sixth is refused before any
        // of them has finished.
        let running: Vec<_> = (0..ACCOUNT_ATTEMPTS)
            .map(|i| {
                throttle
                    .begin_sign_in("ada", &format!("192.0.2.{i}"))
                    .unwrap()
            })
            .collect();
        assert!(matches!(
            throttle.begin_sign_in("ada", "198.51.100.1"),
            Err(NodeError::RateLimited { .. })
        ));
        running.into_iter().for_each(SignIn::failed);
        assert!(throttle.begin_sign_in("ada", "198.51.100.1").is_err());
    }

    #[test]
    fn the_owner_still_gets_in_from_a_known_network() {
        let throttle = Throttle::default();
        throttle
            .begin_sign_in("ada", "192.0.2.1")
            .unwrap()
            .succeeded();
        for i in 0..ACCOUNT_ATTEMPTS {
            throttle
                .begin_sign_in("ada", &format!("203.0.113.{i}"))
                .unwrap()
                .failed();
        }
        assert!(throttle.begin_sign_in("ada", "203.0.113.99").is_err());
        throttle
            .begin_sign_in("ada", "192.0.2.1")
            .unwrap()
            .succeeded();
    }

    #[test]
    fn one_network_has_a_budget_across_accounts() {
        let throttle = Throttle::default();
        for i in 0..ADDRESS_ATTEMPTS {
            throttle
                .begin_sign_in(&format!("user{i}"), "2001:db8::1")
                .unwrap()
                .failed();
        }
        // Another address of the same /64 shares it.
        assert!(throttle.begin_sign_in("someone", "2001:db8::2").is_err());
        assert!(throttle.begin_sign_in("someone", "2001:db8:0:1::2").is_ok());
    }

    #[test]
    fn sign_ups_are_limited_per_network() {
        let throttle = Throttle::default();
        for _ in 0..SIGN_UPS {
            throttle.sign_up("192.0.2.1").unwrap();
        }
        assert!(matches!(
            throttle.sign_up("192.0.2.1"),
            Err(NodeError::RateLimited { .. })
        ));
        throttle.sign_up("192.0.2.2").unwrap();
    }
}
