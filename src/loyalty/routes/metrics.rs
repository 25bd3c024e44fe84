//! `GET /v1/metrics/loyalty`: the programme's figures over a period.

use actix_web::{get, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::{
    auth::{Area, Level, Principal},
    channels::metrics::period,
    db::now,
    http::{ApiError, ApiResult, responses::*},
    loyalty::{
        metrics::{LoyaltyMetrics, LoyaltyMetricsParams, active_since, by_tier, percent},
        repo::{metrics as repo, program},
    },
    state::AppState,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(loyalty_metrics);
}

/// Loyalty metrics
///
/// The loyalty programme over `[from, to)` (default: the last 30 days), by the ledger entries' `created_at`:
///
/// - **members** = memberships enrolled at `to` (not merged into another).
/// - **participation** = `100 × active_account_members / active_account_contacts`: of the contacts of accounts
///   active at `to`, the share who are members at `to`. An account is **active at instant t** when it has a
///   `purchase` transaction with `occurred_at` in `(t − activity_window_days, t]` (`GET /v1/settings/insights`, default 365 days).
/// - **points_issued** = Σ points of `earn` entries; **points_redeemed** = Σ −points of `redeem` entries;
///   **points_expired** = Σ −points of `expire` entries; **points_adjusted** = Σ points of `adjust` entries. A
///   `reverse` entry counts under the kind of the entry it reverses, with its opposite sign: reversing an earning
///   lowers points_issued, cancelling a reward redemption lowers points_redeemed.
/// - **redemption_rate** = `100 × points_redeemed / points_issued` (`null` when nothing was issued). E.g. 400
///   points issued and 100 redeemed give **25**.
/// - **active_members** = members with at least one ledger entry (any kind) in the period.
/// - **members_by_tier** = members at `to` per tier, from each member's tier history.
///
/// Percentages have two decimals.
#[utoipa::path(
    security(("bearer" = ["metrics:read"])),
    tag = "metrics",
    params(LoyaltyMetricsParams),
    responses(
        (status = 200, description = "The loyalty programme's figures over the period.", body = LoyaltyMetrics),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    )
)]
#[get("/metrics/loyalty")]
async fn loyalty_metrics(
    state: web::Data<AppState>,
    principal: Principal,
    params: web::Query<LoyaltyMetricsParams>,
) -> ApiResult<web::Json<LoyaltyMetrics>> {
    principal.require(Area::Metrics, Level::Read)?;
    let (from, to) = period(params.from, params.to, now())?;
    let window = crate::insights::settings::load(&state.db)
        .await?
        .activity_window_days;
    let since = active_since(to, window).ok_or_else(|| {
        ApiError::bad_request(format!(
            "`to` ({}) is too early: the {window}-day activity window before it does not exist.",
            to.to_rfc3339()
        ))
    })?;
    let db = &state.db;
    let (people, ledger, tiers, programme) = futures_util::future::try_join4(
        repo::participation(db, to, since),
        repo::ledger_totals(db, from, to),
        repo::members_by_tier(db, to),
        program::get(db),
    )
    .await?;
    let names: Vec<String> = programme.tiers.0.iter().map(|t| t.name.clone()).collect();
    Ok(web::Json(LoyaltyMetrics {
        from,
        to,
        activity_window_days: window,
        members: people.members,
        active_account_contacts: people.contacts,
        active_account_members: people.member_contacts,
        participation: percent(people.member_contacts, people.contacts),
        points_issued: ledger.issued,
        points_redeemed: ledger.redeemed,
        points_expired: ledger.expired,
        points_adjusted: ledger.adjusted,
        redemption_rate: percent(ledger.redeemed, ledger.issued),
        active_members: ledger.active_members,
        members_by_tier: by_tier(&names, tiers),
    }))
}
