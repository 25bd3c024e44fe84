use actix_web::{get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::feed::{self, Position, Selection, StoredEvent};
use crate::{
    auth::{Area, Level, Principal},
    domain::mask::mask_contact_details,
    http::{ApiError, ApiResult, responses::*},
    state::AppState,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_events).service(list_event_types);
}

/// A kind of event.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"type": "contact.created", "area": "contacts",
                          "description": "A contact was created; data is the contact."}))]
pub struct EventTypeOut {
    #[serde(rename = "type")]
    pub name: &'static str,
    /// The area whose read access sees it (`<area>:read`); `settings` for admins only.
    pub area: &'static str,
    pub description: &'static str,
}

/// The event types of the caller's areas.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventTypeList {
    pub data: Vec<EventTypeOut>,
}

/// List event types
///
/// Every type of event the caller may read, in the feed or (for admins) as webhook subscriptions.
#[utoipa::path(
    security(("bearer" = [])),
    tag = "events",
    responses(
        (status = 200, description = "The event types.", body = EventTypeList),
        (status = 401, response = Unauthorized),
    )
)]
#[get("/event-types")]
async fn list_event_types(
    state: web::Data<AppState>,
    principal: Principal,
) -> ApiResult<web::Json<EventTypeList>> {
    let data = state
        .hooks
        .event_types()
        .iter()
        .filter(|t| principal.require(t.area, Level::Read).is_ok())
        .map(|t| EventTypeOut {
            name: t.name,
            area: t.area.as_str(),
            description: t.about,
        })
        .collect();
    Ok(web::Json(EventTypeList { data }))
}

pub const DEFAULT_LIMIT: i64 = 100;
pub const MAX_LIMIT: i64 = 1000;

/// Who made a change.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventActor {
    /// `user`, `api_key` or `system` (the server's own jobs: service levels, point expiry).
    #[serde(rename = "type")]
    pub kind: String,
    /// The user's or API key's id; `null` for `system`.
    pub id: Option<Uuid>,
}

/// One change, as the feed and webhooks carry it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01937c5f-0000-7000-8000-000000000001", "type": "contact.updated",
    "occurred_at": "2026-11-02T09:31:00Z",
    "data": {"id": "01937c5e-aaaa-7c4e-9b1a-2f6d8e4c1a20", "first_name": "Ana", "last_name": "Lima",
             "email": "ana@acme.example", "version": 3},
    "actor": {"type": "user", "id": "01937c5e-8f3a-7c4e-9b1a-2f6d8e4c1a20"}
}))]
pub struct Event {
    /// Unique per event (a UUIDv7); a webhook's `webhook-id` is this id.
    pub id: Uuid,
    /// What happened, e.g. `contact.updated` (listed by `GET /v1/event-types`).
    #[serde(rename = "type")]
    pub kind: String,
    pub occurred_at: DateTime<Utc>,
    /// The resource as `GET` returns it to an admin at the time of the change (emails and phone
    /// numbers masked for viewers); for `*.deleted` and `*.erased` only its `id`.
    #[schema(value_type = Object)]
    pub data: Value,
    pub actor: EventActor,
}

impl Event {
    pub fn from_stored(stored: StoredEvent, mask: bool) -> Self {
        let mut data = stored.data.0;
        if mask {
            mask_contact_details(&mut data);
        }
        Event {
            id: stored.id,
            kind: stored.kind,
            occurred_at: stored.occurred_at,
            data,
            actor: EventActor {
                kind: stored.actor_type,
                id: stored.actor_id,
            },
        }
    }
}

/// A page of the feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventPage {
    /// Oldest first, in commit order.
    pub data: Vec<Event>,
    /// Pass as `after` for the events that follow. Always present: on the last page it marks where
    /// you stopped, so keep it and poll with it later.
    pub next_cursor: String,
    /// Whether more events are ready now (ask again at once) or not (poll again later).
    pub has_more: bool,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventFilter {
    /// The `next_cursor` of the previous page. Without it, the feed starts at its oldest kept event.
    pub after: Option<String>,
    /// Comma-separated event types, e.g. `contact.created,contact.updated`; without it, every type
    /// the caller may read.
    pub types: Option<String>,
    /// Events per page, 1–1000.
    #[param(minimum = 1, maximum = 1000, default = 100)]
    pub limit: Option<i64>,
}

/// Read the changes feed
///
/// Every change to CRM data, in commit order: a reader who keeps passing back `next_cursor` sees each event
/// exactly once, including events of transactions that ran long and committed after later ones (the feed
/// holds an event back until every transaction that started before it has finished, usually milliseconds).
/// Each caller sees the events of the areas it may read (an API key with `contacts:read` gets `contact.*` and
/// `consent.changed`, not feedback events); viewers get emails and phone numbers masked. Events are kept for
/// 30 days by default (`RAPPORT_EVENT_RETENTION_DAYS`); a cursor pointing before removed events is answered
/// with 410, after which the reader must resynchronise from the resources' lists.
#[utoipa::path(
    security(("bearer" = [])),
    tag = "events",
    params(EventFilter),
    responses(
        (status = 200, description = "A page of events.", body = EventPage),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 410, response = Gone),
    )
)]
#[get("/events")]
async fn list_events(
    state: web::Data<AppState>,
    principal: Principal,
    filter: web::Query<EventFilter>,
) -> ApiResult<web::Json<EventPage>> {
    let limit = match filter.limit {
        None => DEFAULT_LIMIT,
        Some(n) if (1..=MAX_LIMIT).contains(&n) => n,
        Some(n) => {
            return Err(ApiError::bad_request(format!(
                "limit={n} is out of range: use 1 to {MAX_LIMIT}."
            )));
        }
    };
    let areas: Vec<&'static str> = Area::ALL
        .into_iter()
        .filter(|area| principal.require(*area, Level::Read).is_ok())
        .map(Area::as_str)
        .collect();
    if areas.is_empty() {
        return Err(ApiError::forbidden(
            "This caller may read no area, so it sees no events.",
        ));
    }
    let types = filter
        .types
        .as_deref()
        .map(|text| requested_types(&state, &principal, text))
        .transpose()?;
    let start = match filter.after.as_deref() {
        None => Position::START,
        Some(cursor) => {
            let at = Position::parse(cursor)?;
            if at < feed::pruned_through(&state.db).await? {
                return Err(ApiError::gone(format!(
                    "This cursor points before events that were removed after the {}-day retention period; \
                     start again without `after`, or resynchronise from the resources' lists.",
                    state.settings.event_retention.as_secs() / 86_400
                )));
            }
            at
        }
    };
    let selection = Selection {
        areas: Some(&areas),
        types: types.as_deref(),
    };
    let mut events = feed::after(&state.db, start, &selection, limit + 1).await?;
    let has_more = events.len() as i64 > limit;
    events.truncate(limit as usize);
    let next = events.last().map_or(start, StoredEvent::position);
    let mask = principal.masks_personal_data();
    Ok(web::Json(EventPage {
        data: events
            .into_iter()
            .map(|e| Event::from_stored(e, mask))
            .collect(),
        next_cursor: next.cursor(),
        has_more,
    }))
}

/// The `types` filter: known types, each of an area the caller may read.
fn requested_types(
    state: &AppState,
    principal: &Principal,
    text: &str,
) -> Result<Vec<String>, ApiError> {
    let mut types = Vec::new();
    for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let Some(kind) = state.hooks.event_type(name) else {
            let known: Vec<&str> = state.hooks.event_types().iter().map(|t| t.name).collect();
            return Err(ApiError::bad_request(format!(
                "types: {name} is not an event type; use any of {}.",
                known.join(", ")
            )));
        };
        principal.require(kind.area, Level::Read)?;
        types.push(name.to_string());
    }
    if types.is_empty() {
        return Err(ApiError::bad_request(
            "types is empty: name at least one event type, or leave it out for every type.",
        ));
    }
    Ok(types)
}
