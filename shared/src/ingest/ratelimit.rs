//! Per-project rate limit (`CAIRN_RATE_LIMIT_PER_MINUTE`, 0 = off) that holds across Lambda
//! instances. Each instance reserves quota from Postgres in chunks of a twentieth of the limit
//! and spends it locally, so there is one write per chunk rather than one contended write per
//! event. Quota an instance reserved but did not spend is lost at the minute's end: the limit can
//! under-admit by at most one chunk per instance, never over-admit.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use sqlx::PgPool;

use super::IngestError;

/// The limit, and this instance's local quota per project for the current minute.
pub struct RateLimiter {
    /// Events per project per minute; 0 turns the limit off.
    per_minute: u32,
    local: Mutex<HashMap<String, (DateTime<Utc>, u64)>>,
}

impl RateLimiter {
    /// A limiter admitting `per_minute` events per project per minute (0: no limit).
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute,
            local: Mutex::default(),
        }
    }

    /// Admits `n` events for `project_id`, reserving quota from `pool` when the local share
    /// runs out; [`IngestError::RateLimited`] with the seconds to the next minute otherwise.
    pub async fn admit(
        &self,
        pool: &PgPool,
        project_id: &str,
        n: usize,
    ) -> Result<(), IngestError> {
        let limit = u64::from(self.per_minute);
        if limit == 0 {
            return Ok(());
        }
        let n = n as u64;
        let now = Utc::now();
        let window = now.duration_trunc(TimeDelta::minutes(1)).unwrap_or(now);
        let retry_after = (60 - (now - window).num_seconds()).clamp(1, 60) as u64;
        if n > limit {
            return Err(IngestError::RateLimited { retry_after });
        }
        if self.take_local(project_id, window, n) {
            return Ok(());
        }
        let chunk = (limit / 20).max(1).max(n).min(limit);
        for want in [chunk, n] {
            let got: Option<i64> = sqlx::query_scalar(
                "insert into rate_limit_windows (project_id, window_start, used) values ($1, $2, $3)
                 on conflict (project_id, window_start) do update set used = rate_limit_windows.used + $3
                  where rate_limit_windows.used + $3 <= $4
                 returning used",
            )
            .bind(project_id)
            .bind(window)
            .bind(want as i64)
            .bind(limit as i64)
            .fetch_optional(pool)
            .await?;
            if got.is_some() {
                self.add_local(project_id, window, want - n);
                return Ok(());
            }
        }
        Err(IngestError::RateLimited { retry_after })
    }

    fn take_local(&self, project: &str, window: DateTime<Utc>, n: u64) -> bool {
        let Ok(mut map) = self.local.lock() else {
            return false;
        };
        match map.get_mut(project) {
            Some((w, left)) if *w == window && *left >= n => {
                *left -= n;
                true
            }
            _ => false,
        }
    }

    fn add_local(&self, project: &str, window: DateTime<Utc>, n: u64) {
        if let Ok(mut map) = self.local.lock() {
            if map.len() > 10_000 {
                map.retain(|_, (w, _)| *w == window);
            }
            let e = map.entry(project.to_owned()).or_insert((window, 0));
            if e.0 != window {
                *e = (window, 0);
            }
            e.1 += n;
        }
    }
}
