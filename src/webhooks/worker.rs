//! The background job that moves events to webhook endpoints. Every node
//! runs it; the database decides who does what, so any number of nodes can.
//!
//! Each tick: the *dispatcher* fans the feed's new events out into one
//! delivery per subscribed endpoint (one node at a time holds the feed's
//! dispatch place), then the *deliverer* claims due deliveries for a lease,
//! sends them outside any transaction, and records each attempt. A node that
//! dies mid-delivery leaves a claim whose lease runs out; another node then
//! makes the attempt again (at least once, never lost).

use std::time::{Duration, Instant};

use chrono::TimeDelta;
use serde_json::json;

use super::{
    ENDPOINT_DISABLED, TEST,
    model::{DeliveryStatus, is_private_ip},
    repo::{
        self,
        deliveries::{self, Claimed, Outcome},
    },
    schedule, signing,
};
use crate::{
    audit::Actor,
    db::{Db, now},
    events::{self, feed},
    http::ApiError,
};

/// Events fanned out per tick, and deliveries claimed per tick.
const DISPATCH_BATCH: i64 = 500;
const DELIVERY_BATCH: i64 = 16;

pub struct Deliverer {
    db: Db,
    client: reqwest::Client,
    timeout: Duration,
}

/// Resolves receivers' host names and refuses private addresses, so a public
/// name that points (or is re-pointed) at the server's own network is not
/// reached either.
struct PublicAddressesOnly;

impl reqwest::dns::Resolve for PublicAddressesOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addresses: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| !is_private_ip(a.ip()))
                .collect();
            if addresses.is_empty() {
                return Err(format!(
                    "{host} has no public address (private addresses are refused)"
                )
                .into());
            }
            let addresses: reqwest::dns::Addrs = Box::new(addresses.into_iter());
            Ok(addresses)
        })
    }
}

impl Deliverer {
    pub fn new(db: Db, timeout: Duration, allow_private: bool) -> Self {
        let mut builder = reqwest::Client::builder();
        if !allow_private {
            builder = builder.dns_resolver(std::sync::Arc::new(PublicAddressesOnly));
        }
        let client = builder
            .timeout(timeout)
            // A receiver answers itself; a redirect could send the signed
            // payload somewhere the admin never configured.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Rapport-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("the webhook HTTP client builds");
        Self {
            db,
            client,
            timeout,
        }
    }

    /// One round of both jobs.
    pub async fn tick(&self) -> Result<(), ApiError> {
        dispatch(&self.db).await?;
        self.deliver_due().await
    }

    async fn deliver_due(&self) -> Result<(), ApiError> {
        if !deliveries::any_due(&self.db).await? {
            return Ok(());
        }
        let lease =
            TimeDelta::from_std(self.timeout).unwrap_or(TimeDelta::MAX) + TimeDelta::seconds(30);
        let claims = deliveries::claim_due(&self.db, lease, DELIVERY_BATCH).await?;
        let attempts = claims.iter().map(|claim| self.attempt(claim));
        for result in futures_util::future::join_all(attempts).await {
            if let Err(err) = result {
                tracing::warn!(%err, "could not record a webhook attempt");
            }
        }
        Ok(())
    }

    /// Sends one delivery and records what happened.
    async fn attempt(&self, claim: &Claimed) -> Result<(), ApiError> {
        let endpoint = repo::get(&self.db, claim.endpoint_id).await?;
        let event = feed::by_id(&self.db, claim.event_id).await?;
        let attempted_at = now();
        let started = Instant::now();
        let (status_code, error) = match event {
            None => (
                None,
                Some("the event is no longer kept (past the retention period)".to_string()),
            ),
            Some(event) => {
                let body = serde_json::to_vec(&json!({
                    "type": event.kind, "timestamp": event.occurred_at, "data": event.data.0,
                }))
                .map_err(ApiError::internal)?;
                let id = event.id.to_string();
                let timestamp = attempted_at.timestamp();
                let signature = signing::header(
                    &endpoint.signing_secrets(attempted_at),
                    &id,
                    timestamp,
                    &body,
                );
                let sent = self
                    .client
                    .post(&endpoint.url)
                    .header("content-type", "application/json")
                    .header("webhook-id", &id)
                    .header("webhook-timestamp", timestamp.to_string())
                    .header("webhook-signature", signature)
                    .body(body)
                    .send()
                    .await;
                match sent {
                    Ok(response) if response.status().is_success() => {
                        (Some(i64::from(response.status().as_u16())), None)
                    }
                    Ok(response) => {
                        let code = response.status().as_u16();
                        (
                            Some(i64::from(code)),
                            Some(format!("the receiver answered {code}")),
                        )
                    }
                    Err(err) if err.is_timeout() => (
                        None,
                        Some(format!("no answer within {} ms", self.timeout.as_millis())),
                    ),
                    Err(err) => (
                        None,
                        Some(format!(
                            "could not reach the receiver: {}",
                            root_cause(&err)
                        )),
                    ),
                }
            }
        };
        let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        let attempts = claim.attempts + 1;
        let (status, next_attempt_at) =
            match (&error, schedule::delay_after(attempts, schedule::jitter())) {
                (None, _) => (DeliveryStatus::Succeeded, None),
                (Some(_), Some(delay)) => (DeliveryStatus::Pending, Some(now() + delay)),
                (Some(_), None) => (DeliveryStatus::Failed, None),
            };
        let outcome = Outcome {
            attempted_at,
            status_code,
            duration_ms,
            error,
            next_attempt_at,
            status,
        };
        let mut tx = self.db.begin().await?;
        if !deliveries::finish(&mut tx, claim, &outcome).await? {
            return Ok(());
        }
        if status == DeliveryStatus::Failed {
            let since = deliveries::created_at(&mut tx, claim.id).await?;
            if !deliveries::succeeded_since(&mut tx, claim.endpoint_id, since).await?
                && let Some(disabled) = repo::disable(
                    &mut tx,
                    claim.endpoint_id,
                    "Every attempt of a delivery's whole retry schedule failed; fix the receiver, then enable the \
                     endpoint again (PATCH {\"enabled\": true}) and retry the failed deliveries.",
                )
                .await?
            {
                let data = disabled.into_endpoint(now());
                events::record(&mut tx, &Actor::system(), &ENDPOINT_DISABLED, None, &data).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }
}

/// The innermost error's message (reqwest's outer ones only say "error
/// sending request").
fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = err;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// Fans the feed's new events out to the endpoints that want them. Events
/// that happened before an endpoint was created are not sent to it.
pub async fn dispatch(db: &Db) -> Result<usize, ApiError> {
    if !feed::undispatched(db).await? {
        return Ok(0);
    }
    let mut tx = db.begin().await?;
    let Some(at) = feed::claim_dispatch(&mut tx).await? else {
        return Ok(0);
    };
    let events = feed::after(&mut tx, at, &feed::Selection::ALL, DISPATCH_BATCH).await?;
    let Some(last) = events.last().map(feed::StoredEvent::position) else {
        return Ok(0);
    };
    let endpoints = repo::enabled(&mut tx).await?;
    let mut created = 0;
    for event in &events {
        // A test event goes only to the endpoint it was sent to.
        if event.kind == TEST.name {
            continue;
        }
        for endpoint in endpoints
            .iter()
            .filter(|e| e.wants(&event.kind) && event.occurred_at >= e.created_at)
        {
            deliveries::insert(&mut tx, endpoint.id, event.id).await?;
            created += 1;
        }
    }
    feed::set_dispatched(&mut tx, last).await?;
    tx.commit().await?;
    Ok(created)
}

#[cfg(test)]
mod tests {
    use reqwest::dns::Resolve;

    use super::*;

    #[tokio::test]
    async fn a_name_that_resolves_to_a_private_address_is_refused() {
        let name: reqwest::dns::Name = "localhost".parse().unwrap();
        let refused = PublicAddressesOnly.resolve(name).await.err().unwrap();
        assert!(
            refused.to_string().contains("no public address"),
            "{refused}"
        );
    }
}
