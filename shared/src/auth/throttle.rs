//! Per-client-address limits on the sign-in routes: each `GET /v1/auth/github/login` writes a
//! state row and each `POST /v1/auth/token` asks GitHub, so neither may be called without end.
//! Counted per minute in `rate_limit_windows` (shared by every instance, swept by retention),
//! one statement per request.

use std::net::IpAddr;

use chrono::{DurationRound, TimeDelta, Utc};

use super::{Auth, AuthError};

/// A sign-in route and its limit per client address per minute.
#[derive(Clone, Copy, Debug)]
pub enum SignInRoute {
    /// `GET /v1/auth/github/login`.
    Login,
    /// `POST /v1/auth/token`.
    Token,
}

impl SignInRoute {
    /// Requests per client address per minute: far above a person signing in, far below a
    /// script filling the database or spending cairn's GitHub quota.
    pub const fn per_minute(self) -> i64 {
        match self {
            Self::Login => 30,
            Self::Token => 30,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::Token => "token",
        }
    }
}

/// The key a client address is counted under: the address, or its /64 for IPv6 (one host
/// usually holds a whole /64); `unknown` when there is none.
fn client_key(route: SignInRoute, client: Option<IpAddr>) -> String {
    let who = match client {
        Some(IpAddr::V4(a)) => a.to_string(),
        Some(IpAddr::V6(a)) => match a.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = a.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        None => "unknown".to_owned(),
    };
    format!("signin:{}:{who}", route.name())
}

/// Counts one request of `client` on `route`; [`AuthError::SignInRateLimited`] past the limit,
/// with the seconds to the next minute.
pub async fn admit(
    auth: &Auth,
    route: SignInRoute,
    client: Option<IpAddr>,
) -> Result<(), AuthError> {
    let now = Utc::now();
    let window = now.duration_trunc(TimeDelta::minutes(1)).unwrap_or(now);
    let used: i64 = sqlx::query_scalar(
        "insert into rate_limit_windows (project_id, window_start, used) values ($1, $2, 1)
         on conflict (project_id, window_start) do update set used = rate_limit_windows.used + 1
         returning used",
    )
    .bind(client_key(route, client))
    .bind(window)
    .fetch_one(&auth.pool)
    .await?;
    if used > route.per_minute() {
        let retry_after = (60 - (now - window).num_seconds()).clamp(1, 60) as u64;
        return Err(AuthError::SignInRateLimited { retry_after });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_are_counted_by_address_and_ipv6_by_its_64() {
        let v4: IpAddr = "203.0.113.7".parse().unwrap();
        let v6a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let v6b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let mapped: IpAddr = "::ffff:203.0.113.7".parse().unwrap();

        assert_eq!(
            client_key(SignInRoute::Login, Some(v4)),
            "signin:login:203.0.113.7"
        );
        assert_eq!(
            client_key(SignInRoute::Token, Some(v6a)),
            client_key(SignInRoute::Token, Some(v6b))
        );
        assert_eq!(
            client_key(SignInRoute::Login, Some(mapped)),
            client_key(SignInRoute::Login, Some(v4))
        );
        assert_eq!(client_key(SignInRoute::Token, None), "signin:token:unknown");
    }
}
