//! Rate limits per credential and per client address, with the IETF
//! `RateLimit-Policy` / `RateLimit` header fields
//! (draft-ietf-httpapi-ratelimit-headers) on every answer and `429` with
//! `Retry-After` when a caller is over its quota.
//!
//! A request with a valid credential counts against that user or API key; any
//! other request (sign-in, refresh, a wrong token) against its client
//! address. The buckets are `governor`'s GCRA, kept per node: with N nodes
//! behind a load balancer a caller can reach N times the quota. Sign-ins are
//! throttled across nodes as well, through the database
//! (`auth::sign_in_throttle`). The operational endpoints (`/healthz`,
//! `/readyz`, `/metrics`) are not limited: probes must not be starved.

use std::{net::IpAddr, num::NonZeroU32, time::Duration};

use actix_web::{
    Error, HttpMessage, HttpRequest,
    body::{EitherBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::header::{HeaderName, HeaderValue},
    middleware::Next,
    web,
};
use governor::{
    Quota, RateLimiter,
    clock::{Clock, DefaultClock},
    middleware::StateInformationMiddleware,
    state::keyed::DashMapStateStore,
};
use uuid::Uuid;

use super::ApiError;
use crate::{auth::Principal, config::RateLimits, state::AppState};

type Keyed<K> = RateLimiter<K, DashMapStateStore<K>, DefaultClock, StateInformationMiddleware>;

/// One quota: its name in the headers and its buckets. A bucket holds ten
/// seconds' worth of the quota: a caller can burst that much at once, then
/// continues at the quota's rate (a flood of sign-ins from one address gets
/// 20 through at once, not 120).
struct Policy<K: std::hash::Hash + Eq + Clone> {
    name: &'static str,
    per_minute: u32,
    burst: u32,
    buckets: Keyed<K>,
}

impl<K: std::hash::Hash + Eq + Clone> Policy<K> {
    fn new(name: &'static str, per_minute: Option<u32>) -> Option<Self> {
        let per_minute = per_minute?;
        let burst = NonZeroU32::new(per_minute / 6).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::per_minute(NonZeroU32::new(per_minute)?).allow_burst(burst);
        Some(Self {
            name,
            per_minute,
            burst: burst.get(),
            buckets: RateLimiter::dashmap(quota).with_middleware::<StateInformationMiddleware>(),
        })
    }

    /// Takes one request from `key`'s bucket.
    fn take(&self, key: &K) -> Verdict {
        let interval = Duration::from_secs(60) / self.per_minute;
        match self.buckets.check_key(key) {
            Ok(state) => {
                let remaining = state.remaining_burst_capacity();
                Verdict {
                    policy: self.name,
                    quota: self.per_minute,
                    remaining,
                    // Until the bucket is full again.
                    reset: interval * (self.burst - remaining),
                    refused: false,
                }
            }
            Err(not_until) => Verdict {
                policy: self.name,
                quota: self.per_minute,
                remaining: 0,
                reset: not_until.wait_time_from(DefaultClock::default().now()),
                refused: true,
            },
        }
    }
}

/// The buckets of every node's workers.
pub struct Limiter {
    per_credential: Option<Policy<Uuid>>,
    per_address: Option<Policy<IpAddr>>,
}

struct Verdict {
    policy: &'static str,
    quota: u32,
    remaining: u32,
    reset: Duration,
    refused: bool,
}

impl Limiter {
    pub fn new(limits: RateLimits) -> Self {
        Self {
            per_credential: Policy::new("per-credential", limits.per_credential),
            per_address: Policy::new("per-address", limits.per_address),
        }
    }

    /// Forgets callers whose buckets are full again, so the maps hold only
    /// recent callers; run every minute or so.
    pub fn forget_idle(&self) {
        if let Some(p) = &self.per_credential {
            p.buckets.retain_recent();
            p.buckets.shrink_to_fit();
        }
        if let Some(p) = &self.per_address {
            p.buckets.retain_recent();
            p.buckets.shrink_to_fit();
        }
    }
}

fn exempt(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz" | "/metrics")
}

/// The client's address: the peer's, or behind a trusted reverse proxy the
/// last address of `X-Forwarded-For` (the one that proxy appended).
pub fn client_address(req: &HttpRequest, trust_proxy: bool) -> IpAddr {
    let forwarded = trust_proxy
        .then(|| req.headers().get("x-forwarded-for"))
        .flatten()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .and_then(|last| last.trim().parse().ok());
    forwarded
        .or_else(|| req.peer_addr().map(|a| a.ip()))
        .unwrap_or(IpAddr::from([0, 0, 0, 0]))
}

/// Middleware: counts the request against its caller's quota (after
/// `auth::principal::identify` has said who that is).
pub async fn limit_rate(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let limiter = req.app_data::<web::Data<Limiter>>().cloned();
    let Some(limiter) = limiter.filter(|_| !exempt(req.path())) else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    };
    let principal = req.extensions().get::<Principal>().cloned();
    let verdict = match principal {
        Some(principal) => limiter
            .per_credential
            .as_ref()
            .map(|p| p.take(&principal.actor().1)),
        None => {
            let trust_proxy = req
                .app_data::<web::Data<AppState>>()
                .is_some_and(|s| s.settings.trust_proxy);
            let address = client_address(req.request(), trust_proxy);
            limiter.per_address.as_ref().map(|p| p.take(&address))
        }
    };
    let Some(verdict) = verdict else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    };
    if verdict.refused {
        let err = ApiError::too_many_requests(
            format!(
                "This caller is over its limit of {} requests a minute; retry after the time in `Retry-After`.",
                verdict.quota
            ),
            verdict.reset,
        );
        let mut response = req.error_response(err).map_into_right_body();
        add_headers(response.headers_mut(), &verdict);
        return Ok(response);
    }
    let mut response = next.call(req).await?.map_into_left_body();
    add_headers(response.headers_mut(), &verdict);
    Ok(response)
}

fn add_headers(headers: &mut actix_web::http::header::HeaderMap, v: &Verdict) {
    let reset = v.reset.as_secs() + u64::from(v.reset.subsec_nanos() > 0);
    let pairs = [
        (
            "ratelimit-policy",
            format!("\"{}\";q={};w=60", v.policy, v.quota),
        ),
        (
            "ratelimit",
            format!("\"{}\";r={};t={reset}", v.policy, v.remaining),
        ),
    ];
    for (name, value) in pairs {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(HeaderName::from_static(name), value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_refuses_past_its_quota_and_says_when_to_return() {
        // 12 a minute: a burst of 2, then one every 5 seconds.
        let policy = Policy::<u8>::new("per-credential", Some(12)).unwrap();
        let first = policy.take(&1);
        assert!(!first.refused);
        assert_eq!(first.remaining, 1);
        assert_eq!(first.reset, Duration::from_secs(5));
        assert!(!policy.take(&1).refused);
        let third = policy.take(&1);
        assert!(third.refused);
        assert!(third.reset > Duration::from_secs(4) && third.reset <= Duration::from_secs(5));
        // Another caller has a bucket of its own.
        assert!(!policy.take(&2).refused);
    }

    #[test]
    fn no_quota_means_no_limit() {
        assert!(Policy::<u8>::new("per-address", None).is_none());
        assert!(Policy::<u8>::new("per-address", Some(0)).is_none());
    }
}
