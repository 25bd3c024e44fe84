//! `GET/PUT /v1/settings/insights`: the windows and assumptions behind the
//! customer measurements (admins).

use actix_web::{HttpRequest, HttpResponse, get, put, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;
use validator::Validate;

use crate::{
    audit::{self, Actor, Change},
    auth::{Area, Level, Principal},
    db::{Db, On, now},
    domain::currency::CurrencyCode,
    http::{ApiError, ApiResult, check::Check, etag, ok_versioned, responses::*},
    insights::activity,
    on, on_tx,
    state::AppState,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_insight_settings)
        .service(put_insight_settings);
}

/// The currency revenue is measured in when neither the settings nor the
/// loyalty programme name one.
const FALLBACK_CURRENCY: &str = "EUR";

/// The settings in force.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema, sqlx::FromRow)]
#[schema(example = json!({
    "activity_window_days": 365, "at_risk_after_days": 180, "new_customer_days": 90, "gross_margin": 1.0,
    "base_currency": null, "effective_base_currency": "EUR", "version": 0, "updated_at": null
}))]
pub struct InsightSettings {
    /// W: an account is **active at instant t** when it has a `purchase` in (t − W days, t]. Default 365.
    pub activity_window_days: i64,
    /// An active customer whose last purchase is at least this many days ago is `at_risk`. Default 180.
    pub at_risk_after_days: i64,
    /// A customer whose first purchase is less than this many days ago is `new`. Default 90.
    pub new_customer_days: i64,
    /// The share of revenue that is margin, from 0 (exclusive) to 1, used by `clv`. Default 1.0.
    pub gross_margin: f64,
    /// The currency revenue, ARPU, CLV and `monetary` are measured in (ISO 4217); `null` means the loyalty
    /// programme's earn currency.
    pub base_currency: Option<String>,
    /// The currency actually used: `base_currency`, else the loyalty programme's, else `EUR`.
    #[sqlx(skip)]
    pub effective_base_currency: String,
    /// 0 until first saved; sent as the `ETag`.
    pub version: i64,
    pub updated_at: Option<DateTime<Utc>>,
}

impl Default for InsightSettings {
    fn default() -> Self {
        InsightSettings {
            activity_window_days: 365,
            at_risk_after_days: 180,
            new_customer_days: 90,
            gross_margin: 1.0,
            base_currency: None,
            effective_base_currency: FALLBACK_CURRENCY.into(),
            version: 0,
            updated_at: None,
        }
    }
}

/// The settings, as an admin sets them (every field; `base_currency` may be null).
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "activity_window_days": 365, "at_risk_after_days": 120, "new_customer_days": 90, "gross_margin": 0.35,
    "base_currency": "EUR"
}))]
pub struct InsightSettingsIn {
    /// 1–3650.
    #[validate(range(min = 1, max = 3650))]
    pub activity_window_days: i64,
    /// 1–3650.
    #[validate(range(min = 1, max = 3650))]
    pub at_risk_after_days: i64,
    /// 1–3650.
    #[validate(range(min = 1, max = 3650))]
    pub new_customer_days: i64,
    /// More than 0, at most 1.
    #[validate(range(exclusive_min = 0.0, max = 1.0))]
    pub gross_margin: f64,
    /// ISO 4217, or null for the loyalty programme's currency.
    #[serde(default)]
    pub base_currency: Option<String>,
}

const SELECT: &str = "SELECT activity_window_days, at_risk_after_days, new_customer_days, gross_margin, base_currency,
    version, updated_at FROM insight_settings WHERE id = 1";

/// The settings in force, with the base currency resolved.
pub async fn load<'a>(on: impl Into<On<'a>>) -> Result<InsightSettings, ApiError> {
    let mut on = on.into();
    let row: Option<InsightSettings> =
        on!(on.reborrow(), e => sqlx::query_as(SELECT).fetch_optional(e).await)?;
    let mut settings = row.unwrap_or_default();
    settings.effective_base_currency = match &settings.base_currency {
        Some(currency) => currency.clone(),
        None => {
            let programme: Option<String> = on!(on, e => sqlx::query_scalar(
                "SELECT earn_currency FROM loyalty_program LIMIT 1"
            ).fetch_optional(e).await)?;
            programme.unwrap_or_else(|| FALLBACK_CURRENCY.into())
        }
    };
    Ok(settings)
}

/// The measurements' settings
///
/// Admins only. Until first saved, the defaults are in force (`version` 0).
#[utoipa::path(
    security(("bearer" = ["admin"])),
    tag = "insights",
    responses(
        (status = 200, description = "The settings in force.", body = InsightSettings, headers(("ETag" = String))),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    )
)]
#[get("/settings/insights")]
async fn get_insight_settings(
    state: web::Data<AppState>,
    principal: Principal,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Settings, Level::Admin)?;
    let current = load(&state.db).await?;
    Ok(ok_versioned(current.version, current))
}

/// Set the measurements' settings
///
/// Admins only. Stored insights are recomputed with the new settings by the next pass of the background job
/// (within seconds), or at once with `POST /v1/insights/refresh`; the metrics use them from the next call.
#[utoipa::path(
    security(("bearer" = ["admin"])),
    tag = "insights",
    request_body = InsightSettingsIn,
    params(("If-Match" = Option<String>, Header, description = "The ETag of your last read (\"0\" before the first save); 412 if the settings changed since.")),
    responses(
        (status = 200, description = "The saved settings.", body = InsightSettings, headers(("ETag" = String))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 412, response = PreconditionFailed),
        (status = 422, response = Unprocessable),
    )
)]
#[put("/settings/insights")]
async fn put_insight_settings(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    body: web::Json<InsightSettingsIn>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Settings, Level::Admin)?;
    let mut check = Check::validated(&body.0);
    let currency = check.optional(
        "base_currency",
        body.0.base_currency.as_deref(),
        CurrencyCode::parse,
    );
    check.finish()?;
    let currency = currency.map(|c| c.as_str().to_string());
    let actor = Actor::new(&principal, &req);
    let expected = etag::expected_version(&req)?;
    let saved = state
        .db
        .write(|db| async move { save(&db, &actor, &body.0, currency, expected).await })
        .await?;
    Ok(ok_versioned(saved.version, saved))
}

async fn save(
    db: &Db,
    actor: &Actor,
    input: &InsightSettingsIn,
    currency: Option<String>,
    expected: Option<i64>,
) -> Result<InsightSettings, ApiError> {
    let mut tx = db.begin().await?;
    let before = load(&mut tx).await?;
    etag::check(expected, before.version)?;
    let now = now();
    // Both statements are conditional, so of two concurrent saves of one version only one applies.
    let sql = if before.version == 0 {
        "INSERT INTO insight_settings (id, activity_window_days, at_risk_after_days, new_customer_days, gross_margin,
            base_currency, version, updated_at) VALUES (1, $1, $2, $3, $4, $5, 1, $6) ON CONFLICT (id) DO NOTHING"
    } else {
        "UPDATE insight_settings SET activity_window_days = $1, at_risk_after_days = $2, new_customer_days = $3,
            gross_margin = $4, base_currency = $5, version = version + 1, updated_at = $6 WHERE id = 1 AND version = $7"
    };
    let done = on_tx!(&mut tx, c => sqlx::query(sql)
        .bind(input.activity_window_days).bind(input.at_risk_after_days).bind(input.new_customer_days)
        .bind(input.gross_margin).bind(&currency).bind(now).bind(before.version)
        .execute(&mut **c).await.map(|r| r.rows_affected()))?;
    if done == 0 {
        return Err(etag::stale(before.version + 1));
    }
    let after = load(&mut tx).await?;
    if after.activity_window_days != before.activity_window_days {
        activity::change_window(&mut tx, after.activity_window_days).await?;
    }
    audit::record(
        &mut tx,
        actor,
        "update",
        "insight_settings",
        Uuid::nil(),
        Change::diff(&before, &after),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}
