//! Handlers for `/v1/loyalty/...`.
//!
//! Who may do what: any authenticated reader of loyalty data reads
//! (viewers, `loyalty:read` keys); agents and `loyalty:write` keys (partner
//! tills, billing systems) enrol, earn, redeem and redeem rewards; managers
//! also adjust, reverse, cancel redemptions, edit the rewards catalogue and
//! run expiry; admins edit the programme. API keys follow the scope rules of
//! every area: `loyalty:write` reaches what agents do, `loyalty:manage` what
//! managers do; no key edits the programme.

mod ledger;
mod members;
mod metrics;
mod program;
mod redemptions;
mod rewards;

use actix_web::HttpRequest;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::http::{ApiError, idempotency::key_of};

pub fn configure(cfg: &mut ServiceConfig) {
    program::configure(cfg);
    members::configure(cfg);
    ledger::configure(cfg);
    rewards::configure(cfg);
    redemptions::configure(cfg);
    metrics::configure(cfg);
}

/// Ledger writes and redemptions refuse to run without an `Idempotency-Key`.
fn required_key(req: &HttpRequest) -> Result<String, ApiError> {
    key_of(req).filter(|k| !k.is_empty()).ok_or_else(|| {
        ApiError::precondition_required(
            "Send an Idempotency-Key header (any unique string up to 255 visible characters, e.g. a UUID) \
             so that a retried request is never counted twice.",
        )
    })
}
