//! The login sessions a simulator keeps: made on login, touched on every use, gone after
//! an idle timeout on the lab clock, on logout, or when a test expires them all.

use std::time::{Duration, SystemTime};

/// Live login sessions of one simulator, each a vendor-specific `L`.
#[derive(Debug)]
pub struct Logins<L> {
    sessions: Vec<(L, SystemTime)>,
    count: u64,
    idle: Duration,
    rng: fastrand::Rng,
}

impl<L: Clone> Logins<L> {
    /// No sessions yet; each idles out after `idle` unused. `seed` feeds the secrets.
    pub fn new(seed: u64, idle: Duration) -> Self {
        Self {
            sessions: Vec::new(),
            count: 0,
            idle,
            rng: fastrand::Rng::with_seed(seed),
        }
    }

    /// Successful logins so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Sessions not yet expired at `now`.
    pub fn active(&mut self, now: SystemTime) -> usize {
        self.forget_expired(now);
        self.sessions.len()
    }

    /// Ends every session, as an idle timeout would; how many there were.
    pub fn expire_all(&mut self) -> usize {
        std::mem::take(&mut self.sessions).len()
    }

    /// Starts a session made by `make` from the seeded random stream.
    pub fn create(&mut self, now: SystemTime, make: impl FnOnce(&mut fastrand::Rng) -> L) -> L {
        let login = make(&mut self.rng);
        self.count += 1;
        self.sessions.push((login.clone(), now));
        login
    }

    /// The live session `matches` picks, marked as used at `now`.
    pub fn touch(&mut self, now: SystemTime, matches: impl Fn(&L) -> bool) -> Option<L> {
        self.forget_expired(now);
        let (login, last_used) = self.sessions.iter_mut().find(|(l, _)| matches(l))?;
        *last_used = now;
        Some(login.clone())
    }

    /// Ends the sessions `matches` picks (a logout).
    pub fn remove(&mut self, matches: impl Fn(&L) -> bool) {
        self.sessions.retain(|(l, _)| !matches(l));
    }

    fn forget_expired(&mut self, now: SystemTime) {
        let idle = self.idle;
        self.sessions
            .retain(|(_, last_used)| *last_used + idle > now);
    }
}

/// The user and password of a Basic `Authorization` header.
pub fn basic_credentials(headers: &axum::http::HeaderMap) -> Option<(String, String)> {
    use base64::Engine as _;
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// A version-4 UUID from `rng`, so a seed always gives the same ids.
pub fn seeded_uuid(rng: &mut fastrand::Rng) -> String {
    let mut bytes = [0_u8; 16];
    rng.fill(&mut bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_idle_out_and_are_touched_by_use() {
        let start = SystemTime::UNIX_EPOCH;
        let mut logins: Logins<u32> = Logins::new(1, Duration::from_secs(60));
        logins.create(start, |_| 1);
        logins.create(start, |_| 2);
        assert_eq!(logins.count(), 2);
        assert_eq!(
            logins.touch(start + Duration::from_secs(50), |l| *l == 1),
            Some(1)
        );
        assert_eq!(
            logins.active(start + Duration::from_secs(70)),
            1,
            "2 idled out"
        );
        assert_eq!(
            logins.touch(start + Duration::from_secs(70), |l| *l == 2),
            None
        );
        logins.remove(|l| *l == 1);
        assert_eq!(logins.active(start + Duration::from_secs(70)), 0);
        assert_eq!(logins.count(), 2);
    }

    #[test]
    fn uuids_are_version_4_and_follow_the_seed() {
        let a = seeded_uuid(&mut fastrand::Rng::with_seed(3));
        let b = seeded_uuid(&mut fastrand::Rng::with_seed(3));
        assert_eq!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
    }
}
