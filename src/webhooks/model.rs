use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::{
    hooks::Registry,
    http::{
        ApiError,
        check::Check,
        error::FieldError,
        patch::{MergePatch, Patch},
    },
};

crate::choice! {
    /// Where a delivery stands: `pending` (an attempt is due or running),
    /// `succeeded` (the receiver answered 2xx) or `failed` (every attempt of
    /// the schedule failed; retry it by hand).
    pub enum DeliveryStatus {
        Pending = "pending",
        Succeeded = "succeeded",
        Failed = "failed",
    }
}

/// A receiver of events.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01937c5f-1111-7000-8000-000000000001", "url": "https://billing.example.com/hooks/rapport",
    "description": "Billing system", "event_types": ["account.created", "account.updated"], "enabled": true,
    "disabled_reason": null, "previous_secret_expires_at": null, "version": 1,
    "created_at": "2026-11-02T09:31:00Z", "updated_at": "2026-11-02T09:31:00Z"
}))]
pub struct Endpoint {
    pub id: Uuid,
    pub url: String,
    pub description: Option<String>,
    /// The event types delivered; `null` for every type.
    pub event_types: Option<Vec<String>>,
    /// A disabled endpoint gets no new deliveries and its pending ones wait; enabling it resumes them.
    pub enabled: bool,
    /// Why the server disabled the endpoint (every attempt of a delivery's schedule failed); `null` otherwise.
    pub disabled_reason: Option<String>,
    /// Until when the secret before the last rotation still signs too; `null` when only one secret signs.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An endpoint as created, with its signing secret: shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedEndpoint {
    #[serde(flatten)]
    pub endpoint: Endpoint,
    /// The signing secret (`whsec_…`), for the receiver's Standard Webhooks library. Store it now: it is
    /// never shown again (rotate it to get a new one).
    pub secret: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EndpointRow {
    pub id: Uuid,
    pub url: String,
    pub description: Option<String>,
    pub event_types: Option<Json<Vec<String>>>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_expires_at: Option<DateTime<Utc>>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl EndpointRow {
    pub fn to_input(&self) -> EndpointIn {
        EndpointIn {
            url: self.url.clone(),
            description: self.description.clone(),
            event_types: self.event_types.as_ref().map(|t| t.0.clone()),
            enabled: Some(self.enabled),
        }
    }

    pub fn into_endpoint(self, now: DateTime<Utc>) -> Endpoint {
        Endpoint {
            id: self.id,
            url: self.url,
            description: self.description,
            event_types: self.event_types.map(|t| t.0),
            enabled: self.enabled,
            disabled_reason: self.disabled_reason,
            previous_secret_expires_at: self.previous_expires_at.filter(|at| *at > now),
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }

    /// The secrets that sign at `now`: the current one, and the previous one
    /// during a rotation's overlap.
    pub fn signing_secrets(&self, now: DateTime<Utc>) -> Vec<&str> {
        let mut secrets = vec![self.secret.as_str()];
        if let (Some(previous), Some(until)) = (&self.previous_secret, self.previous_expires_at)
            && until > now
        {
            secrets.push(previous);
        }
        secrets
    }

    /// Whether the endpoint takes events of this type.
    pub fn wants(&self, kind: &str) -> bool {
        self.event_types
            .as_ref()
            .is_none_or(|types| types.0.iter().any(|t| t == kind))
    }
}

/// A new endpoint.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"url": "https://billing.example.com/hooks/rapport", "description": "Billing system",
                          "event_types": ["account.created", "account.updated"]}))]
pub struct EndpointIn {
    /// An absolute `https://` (or `http://`) URL, up to 2,000 characters. Addresses of private networks,
    /// loopback and link-local are refused unless the server allows them (`RAPPORT_WEBHOOK_ALLOW_PRIVATE_URLS`).
    #[validate(length(min = 1, max = 2000))]
    pub url: String,
    /// Up to 500 characters.
    #[validate(length(max = 500))]
    pub description: Option<String>,
    /// The event types to deliver (see `GET /v1/event-types`); leave it out or send `null` for every type.
    #[validate(length(min = 1, max = 100))]
    pub event_types: Option<Vec<String>>,
    /// Defaults to true.
    pub enabled: Option<bool>,
}

impl EndpointIn {
    /// The create's checks, which a patched endpoint passes too.
    pub fn checked(&self, registry: &Registry, allow_private: bool) -> Result<(), ApiError> {
        let mut check = Check::validated(self);
        if !check.has("url")
            && let Err(message) = url_problem(&self.url, allow_private)
        {
            check.fail("url", "invalid_url", message);
        }
        if let Some(types) = &self.event_types {
            let unknown: Vec<&str> = types
                .iter()
                .filter(|t| registry.event_type(t).is_none())
                .map(String::as_str)
                .collect();
            if !unknown.is_empty() {
                check.fail(
                    "event_types",
                    "unknown_event_type",
                    format!(
                        "{} is not an event type; GET /v1/event-types lists the types",
                        unknown.join(", ")
                    ),
                );
            }
        }
        check.finish()
    }
}

/// Why `text` cannot be a webhook URL, if it cannot.
pub fn url_problem(text: &str, allow_private: bool) -> Result<(), String> {
    let url = reqwest::Url::parse(text)
        .map_err(|_| "must be an absolute URL such as https://example.com/hooks".to_string())?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err("must start with https:// (or http://)".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "must not hold a user name or password: authenticate with the signature".into(),
        );
    }
    let Some(host) = url.host_str() else {
        return Err("must name a host".into());
    };
    if !allow_private && is_private_host(host) {
        return Err("must not point at a loopback, private or link-local address".into());
    }
    Ok(())
}

fn is_private_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.eq_ignore_ascii_case("localhost") || host.to_ascii_lowercase().ends_with(".localhost") {
        return true;
    }
    host.parse::<IpAddr>().is_ok_and(is_private_ip)
}

/// Loopback, private, link-local, unspecified or broadcast: addresses a
/// webhook must not reach unless the server allows it (see `worker`, which
/// also checks what a host name resolves to).
pub fn is_private_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => {
            ip.is_loopback()
                || ip.is_private()
                || ip.is_link_local()
                || ip.is_unspecified()
                || ip.is_broadcast()
        }
        IpAddr::V6(ip) => {
            let segments = ip.segments();
            ip.is_loopback()
                || ip.is_unspecified()
                || (segments[0] & 0xfe00) == 0xfc00
                || (segments[0] & 0xffc0) == 0xfe80
                || ip
                    .to_ipv4_mapped()
                    .is_some_and(|v4| is_private_ip(IpAddr::V4(v4)))
        }
    }
}

/// Changes to an endpoint (JSON merge patch); `null` clears `description`
/// and sets `event_types` to every type. Enabling a disabled endpoint resumes
/// its pending deliveries.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
#[schema(example = json!({"enabled": true}))]
pub struct EndpointPatch {
    #[schema(value_type = String)]
    pub url: Patch<String>,
    #[schema(value_type = Option<String>)]
    pub description: Patch<String>,
    #[schema(value_type = Option<Vec<String>>)]
    pub event_types: Patch<Vec<String>>,
    #[schema(value_type = bool)]
    pub enabled: Patch<bool>,
}

impl MergePatch<EndpointIn> for EndpointPatch {
    fn merge_into(self, current: EndpointIn, errors: &mut Vec<FieldError>) -> EndpointIn {
        EndpointIn {
            url: self.url.apply_required(current.url, "url", errors),
            description: self.description.apply(current.description),
            event_types: self.event_types.apply(current.event_types),
            enabled: self
                .enabled
                .apply_present(current.enabled, "enabled", errors),
        }
    }
}

/// A secret rotation.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"overlap_hours": 24}))]
pub struct RotateIn {
    /// How long the old secret keeps signing next to the new one, 0–168 hours (default 24), so receivers can
    /// switch without missing a delivery.
    #[validate(range(min = 0, max = 168))]
    pub overlap_hours: Option<i64>,
}

/// The new secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct RotatedSecret {
    /// The new signing secret (`whsec_…`).
    pub secret: String,
    /// Until when the old secret also signs; `null` with no overlap.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
}

/// One try at delivering an event.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Attempt {
    pub attempted_at: DateTime<Utc>,
    /// The receiver's HTTP status; `null` when it did not answer (timeout, refused connection).
    pub status_code: Option<i64>,
    pub duration_ms: i64,
    /// What went wrong, for a failed attempt.
    pub error: Option<String>,
}

/// One event on its way to one endpoint.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01937c5f-2222-7000-8000-000000000001", "event_id": "01937c5f-0000-7000-8000-000000000001",
    "event_type": "account.updated", "status": "pending", "attempt_count": 2,
    "next_attempt_at": "2026-11-02T09:32:05Z",
    "attempts": [
        {"attempted_at": "2026-11-02T09:31:00Z", "status_code": 503, "duration_ms": 41, "error": "the receiver answered 503"},
        {"attempted_at": "2026-11-02T09:31:05Z", "status_code": null, "duration_ms": 10000, "error": "no answer within 10 s"}
    ],
    "created_at": "2026-11-02T09:31:00Z"
}))]
pub struct Delivery {
    pub id: Uuid,
    /// The event's id: also the `webhook-id` header of every attempt.
    pub event_id: Uuid,
    /// `null` when the event is no longer kept.
    pub event_type: Option<String>,
    pub status: DeliveryStatus,
    pub attempt_count: i64,
    /// When the next attempt is due; `null` unless pending.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Oldest first.
    pub attempts: Vec<Attempt>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeliveryRow {
    pub id: Uuid,
    pub endpoint_id: Uuid,
    pub event_id: Uuid,
    pub event_type: Option<String>,
    pub status: DeliveryStatus,
    pub attempts: i64,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl DeliveryRow {
    pub fn into_delivery(self, attempts: Vec<Attempt>) -> Delivery {
        Delivery {
            id: self.id,
            event_id: self.event_id,
            event_type: self.event_type,
            status: self.status,
            attempt_count: self.attempts,
            next_attempt_at: self.next_attempt_at,
            attempts,
            created_at: self.created_at,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeliveryFilter {
    /// Only deliveries in this state.
    pub status: Option<DeliveryStatus>,
    /// Items per page, 1–200.
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_odd_urls_are_refused() {
        for url in [
            "http://localhost:8080/x",
            "http://127.0.0.1/x",
            "https://10.0.0.5/x",
            "https://192.168.1.1/",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]/x",
            "http://[fd00::1]/x",
            "http://[::ffff:127.0.0.1]/x",
            "http://0.0.0.0/",
        ] {
            assert!(url_problem(url, false).is_err(), "{url}");
            assert!(url_problem(url, true).is_ok(), "{url} allowed");
        }
        assert!(url_problem("ftp://example.com/x", true).is_err());
        assert!(url_problem("https://user:pw@example.com/x", true).is_err());
        assert!(url_problem("/hooks", true).is_err());
        assert!(url_problem("https://hooks.example.com/rapport?x=1", false).is_ok());
    }
}
