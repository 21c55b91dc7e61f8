//! Fixed-window request counters kept in memory, per instance. Sign-in attempts are also
//! counted per account in PostgreSQL (lockout), which holds across instances.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct RateLimiter {
    limit: u32,
    window: Duration,
    counters: Mutex<HashMap<String, (Instant, u32)>>,
}

impl RateLimiter {
    /// `limit` requests a minute per key; 0 means no limit.
    pub fn per_minute(limit: u32) -> Self {
        Self {
            limit,
            window: Duration::from_secs(60),
            counters: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one request for `key`. Err(seconds to wait) when over the limit.
    pub fn check(&self, key: &str) -> Result<(), u64> {
        if self.limit == 0 {
            return Ok(());
        }
        let now = Instant::now();
        let Ok(mut map) = self.counters.lock() else {
            return Ok(());
        };
        if map.len() > 100_000 {
            let window = self.window;
            map.retain(|_, (start, _)| now.duration_since(*start) < window);
        }
        let entry = map.entry(key.to_string()).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        if entry.1 >= self.limit {
            let wait = self.window.saturating_sub(now.duration_since(entry.0));
            return Err(wait.as_secs().max(1));
        }
        entry.1 += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_key_and_refuses_past_the_limit() {
        let l = RateLimiter::per_minute(2);
        assert!(l.check("a").is_ok());
        assert!(l.check("a").is_ok());
        assert!(l.check("a").is_err());
        assert!(l.check("b").is_ok());
        assert!(RateLimiter::per_minute(0).check("a").is_ok());
    }
}
