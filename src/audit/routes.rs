use actix_web::{get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::types::Json;
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::{
    auth::{Area, Level, Principal},
    http::{ApiError, ApiResult, Page, PageParams, pagination::page_from, responses::*},
    on_db,
    state::AppState,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_audit_events);
}

/// One change to data: who made it, when, and the fields it changed.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
#[schema(example = json!({
    "id": "01937c5f-0000-7000-8000-000000000001", "occurred_at": "2026-11-02T09:31:00Z",
    "actor_type": "user", "actor_id": "01937c5e-8f3a-7c4e-9b1a-2f6d8e4c1a20", "action": "update",
    "entity_type": "contact", "entity_id": "01937c5e-aaaa-7c4e-9b1a-2f6d8e4c1a20",
    "changes": {"email": {"before": "p***@acme.example", "after": "p***@globex.example"}},
    "request_id": "01937c5f-0000-7000-8000-00000000abcd"
}))]
pub struct AuditEvent {
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    /// `user`, `api_key` or `system`.
    pub actor_type: String,
    pub actor_id: Option<Uuid>,
    /// `create`, `update`, `delete`, `merge`, `import`, `erase`, …
    pub action: String,
    pub entity_type: String,
    pub entity_id: Uuid,
    /// Changed fields as `{"field": {"before": …, "after": …}}`; personal values are masked.
    #[schema(value_type = Object)]
    pub changes: Json<Value>,
    pub request_id: Option<String>,
}

/// The area whose read access an entity's events need: the log shows the
/// changed values, so it is as private as the records themselves. Every
/// entity type written to the log is listed here.
pub const ENTITY_AREAS: [(&str, Area); 18] = [
    ("account", Area::Accounts),
    ("contact", Area::Contacts),
    ("channel", Area::Channels),
    ("interaction", Area::Interactions),
    ("feedback", Area::Feedback),
    ("engagement", Area::Engagements),
    ("transaction", Area::Transactions),
    ("task", Area::Tasks),
    ("segment", Area::Segments),
    ("service_calendar", Area::Settings),
    ("task_settings", Area::Settings),
    ("loyalty_member", Area::Loyalty),
    ("loyalty_program", Area::Loyalty),
    ("loyalty_redemption", Area::Loyalty),
    ("loyalty_reward", Area::Loyalty),
    ("user", Area::Users),
    ("api_key", Area::ApiKeys),
    ("webhook_endpoint", Area::Settings),
];

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditFilter {
    /// `account`, `contact`, `channel`, `interaction`, `feedback`, `engagement`, `transaction`, `task`, `segment`, `service_calendar`, `task_settings`, `loyalty_member`,
    /// `loyalty_program`, `loyalty_redemption`, `loyalty_reward`, `user`, `api_key` or `webhook_endpoint`. Without it, the events of
    /// every entity type the caller may read.
    pub entity_type: Option<String>,
    pub entity_id: Option<Uuid>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// List audit events
///
/// Admins and managers, and API keys with `audit:read`. Oldest first, keyset-paginated; filter by entity.
/// Each event is shown only to a caller who may also read its entity's area (an `audit:read` key with
/// `contacts:read` sees contact events, not feedback events): asking for another type is a 403.
#[utoipa::path(
    security(("bearer" = ["audit:read"])),
    tag = "audit",
    params(AuditFilter),
    responses(
        (status = 200, description = "A page of audit events.", body = Page<AuditEvent>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    )
)]
#[get("/audit-events")]
async fn list_audit_events(
    state: web::Data<AppState>,
    principal: Principal,
    filter: web::Query<AuditFilter>,
) -> ApiResult<web::Json<Page<AuditEvent>>> {
    principal.require(Area::Audit, Level::Read)?;
    let page = PageParams {
        limit: filter.limit,
        cursor: filter.cursor.clone(),
    };
    let limit = page.limit()?;
    let after: Option<Uuid> = page.cursor()?;
    if let Some(kind) = &filter.entity_type {
        let Some((_, area)) = ENTITY_AREAS.iter().find(|(name, _)| name == kind) else {
            let names: Vec<&str> = ENTITY_AREAS.iter().map(|(name, _)| *name).collect();
            return Err(ApiError::bad_request(format!(
                "entity_type={kind} is not known: use one of {}.",
                names.join(", ")
            )));
        };
        principal.require(*area, Level::Read)?;
    }
    // The readable types are our own constants, safe to write into the SQL.
    let readable: Vec<String> = ENTITY_AREAS
        .iter()
        .filter(|(_, area)| principal.require(*area, Level::Read).is_ok())
        .map(|(name, _)| format!("'{name}'"))
        .collect();
    if readable.is_empty() {
        return Ok(web::Json(page_from(
            Vec::new(),
            limit,
            |r: &AuditEvent| r.id,
            |r| r,
        )));
    }
    let rows: Vec<AuditEvent> = on_db!(&state.db, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT id, occurred_at, actor_type, actor_id, action, entity_type, entity_id, changes, request_id
         FROM audit_events
         WHERE entity_type IN ({}) AND ($1 IS NULL OR entity_type = $1) AND ($2 IS NULL OR entity_id = $2)
           AND ($3 IS NULL OR id > $3)
         ORDER BY id LIMIT $4", readable.join(", ")
    ))).bind(&filter.entity_type).bind(filter.entity_id).bind(after).bind(limit + 1).fetch_all(pool).await)?;
    Ok(web::Json(page_from(rows, limit, |r| r.id, |r| r)))
}
