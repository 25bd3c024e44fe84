//! The activity log of a feedback item: every transition, assignment and
//! comment, with who did it and when (`GET/POST /v1/feedback/{id}/activities`).

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;
use validator::Validate;

use super::{repo, workflow::FeedbackStatus};
use crate::domain::ERASED;
use crate::{
    audit::{self, Actor, Change},
    auth::{Area, Level, Principal},
    bind_args, choice,
    db::{
        Db, Tx, new_id, now,
        sql::{Arg, Filters},
    },
    events,
    http::{
        ApiError, ApiResult, Page, PageParams, ValidatedJson, created, pagination::page_from,
        responses::*,
    },
    on_db, on_tx,
    state::AppState,
};

choice! {
    /// What an activity records.
    pub enum ActivityKind { Transition = "transition", Assignment = "assignment", Comment = "comment" }
}

choice! {
    /// Who an activity's note is for: `internal` notes are for staff; `customer` notes are replies sent to (or
    /// shown to) the customer.
    pub enum Visibility { Internal = "internal", Customer = "customer" }
}

/// One entry in an item's activity log.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01937c91-0000-7000-8000-000000000002", "feedback_id": "01937c90-0000-7000-8000-000000000001",
    "kind": "transition", "occurred_at": "2026-11-06T11:12:00Z", "visibility": "customer",
    "note": "We are looking into the double charge.", "from_status": "new", "to_status": "in_progress",
    "assignee_id": null, "actor_type": "user", "actor_id": "01937c5e-1111-7000-8000-000000000001"
}))]
pub struct Activity {
    pub id: Uuid,
    pub feedback_id: Uuid,
    pub kind: ActivityKind,
    pub occurred_at: DateTime<Utc>,
    pub visibility: Visibility,
    /// The comment, the note given with a transition (for `resolved`, the resolution), or `null`. `[erased]` after
    /// the contact was erased.
    pub note: Option<String>,
    /// Transitions: the state moved from.
    pub from_status: Option<FeedbackStatus>,
    /// Transitions: the state moved to.
    pub to_status: Option<FeedbackStatus>,
    /// Assignments: the new assignee (`null` when the item was unassigned).
    pub assignee_id: Option<Uuid>,
    /// `user`, `api_key` or `system`.
    pub actor_type: String,
    /// The user or API key that acted.
    pub actor_id: Option<Uuid>,
}

#[derive(Debug, sqlx::FromRow)]
pub struct ActivityRow {
    id: Uuid,
    feedback_id: Uuid,
    kind: ActivityKind,
    occurred_at: DateTime<Utc>,
    visibility: Visibility,
    note: Option<String>,
    from_status: Option<FeedbackStatus>,
    to_status: Option<FeedbackStatus>,
    assignee_id: Option<Uuid>,
    actor_type: String,
    actor_id: Option<Uuid>,
}

impl ActivityRow {
    fn into_activity(self) -> Activity {
        Activity {
            id: self.id,
            feedback_id: self.feedback_id,
            kind: self.kind,
            occurred_at: self.occurred_at,
            visibility: self.visibility,
            note: self.note,
            from_status: self.from_status,
            to_status: self.to_status,
            assignee_id: self.assignee_id,
            actor_type: self.actor_type,
            actor_id: self.actor_id,
        }
    }
}

const COLUMNS: &str = "id, feedback_id, kind, occurred_at, visibility, note, from_status, to_status, assignee_id, actor_type, actor_id";

/// An activity to record.
#[derive(Debug, Clone)]
pub struct NewActivity {
    pub kind: ActivityKind,
    pub visibility: Visibility,
    pub note: Option<String>,
    pub from_status: Option<FeedbackStatus>,
    pub to_status: Option<FeedbackStatus>,
    pub assignee_id: Option<Uuid>,
}

impl NewActivity {
    pub fn assignment(assignee_id: Option<Uuid>) -> Self {
        Self {
            kind: ActivityKind::Assignment,
            visibility: Visibility::Internal,
            note: None,
            from_status: None,
            to_status: None,
            assignee_id,
        }
    }
}

/// Records an activity inside the caller's transaction.
pub async fn insert(
    tx: &mut Tx,
    actor: &Actor,
    feedback_id: Uuid,
    at: DateTime<Utc>,
    a: NewActivity,
) -> Result<Activity, ApiError> {
    let actor_id = (actor.kind != "system").then_some(actor.id);
    let row: ActivityRow = on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO feedback_activities (id, feedback_id, occurred_at, kind, visibility, note, from_status, to_status,
            assignee_id, actor_type, actor_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING {COLUMNS}"
    ))).bind(new_id()).bind(feedback_id).bind(at).bind(a.kind.as_str()).bind(a.visibility.as_str()).bind(&a.note)
       .bind(a.from_status.map(|s| s.as_str())).bind(a.to_status.map(|s| s.as_str())).bind(a.assignee_id)
       .bind(actor.kind).bind(actor_id).fetch_one(&mut **c).await)?;
    Ok(row.into_activity())
}

async fn list(
    db: &Db,
    feedback_id: Uuid,
    visibility: Option<Visibility>,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<ActivityRow>, ApiError> {
    let mut f = Filters::new();
    f.when("feedback_id = {}", Arg::Uuid(feedback_id));
    if let Some(v) = visibility {
        f.when("visibility = {}", Arg::Text(v.as_str().into()));
    }
    if let Some((t, id)) = after {
        let t = f.arg(Arg::Time(t));
        f.when(&format!("(occurred_at, id) > ({t}, {{}})"), Arg::Uuid(id));
    }
    // Written in, not bound: see `db::sql::keyset_page`.
    let limit = limit + 1;
    let sql = format!(
        "SELECT {COLUMNS} FROM feedback_activities {} ORDER BY occurred_at, id LIMIT {limit}",
        f.where_sql()
    );
    Ok(
        on_db!(db, pool => bind_args!(sqlx::query_as::<_, ActivityRow>(sqlx::AssertSqlSafe(sql)), f.args)
        .fetch_all(pool).await)?,
    )
}

/// Every activity of a contact's items, oldest first (for the person export).
pub async fn all_of_contact(db: &Db, contact_id: Uuid) -> Result<Vec<Activity>, ApiError> {
    let rows: Vec<ActivityRow> = on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM feedback_activities
         WHERE feedback_id IN (SELECT id FROM feedback WHERE contact_id = $1) ORDER BY occurred_at, id"
    ))).bind(contact_id).fetch_all(pool).await)?;
    Ok(rows.into_iter().map(ActivityRow::into_activity).collect())
}

/// Erase hook: replaces the notes on a contact's items with `[erased]`.
pub async fn erase_notes(tx: &mut Tx, contact_id: Uuid) -> Result<(), ApiError> {
    on_tx!(tx, c => sqlx::query(
        "UPDATE feedback_activities SET note = $1
         WHERE note IS NOT NULL AND feedback_id IN (SELECT id FROM feedback WHERE contact_id = $2)"
    ).bind(ERASED).bind(contact_id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// A comment on an item.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"note": "Called the customer; the refund is on its way.", "visibility": "customer"}))]
pub struct CommentIn {
    /// 1–10,000 characters.
    #[validate(length(min = 1, max = 10000))]
    pub note: String,
    /// `internal` (default): for staff; `customer`: a reply to the customer.
    #[schema(value_type = Option<Visibility>)]
    #[validate(custom(function = "Visibility::validate"))]
    pub visibility: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ActivityParams {
    /// Only activities of this visibility.
    #[param(value_type = Option<Visibility>)]
    pub visibility: Option<String>,
    /// Items per page, 1–200.
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_feedback_activities)
        .service(add_feedback_comment);
}

/// List an item's activities
///
/// Oldest first (the order of a conversation), keyset-paginated: every transition, assignment and comment.
#[utoipa::path(
    security(("bearer" = ["feedback:read"])),
    tag = "feedback",
    params(("id" = Uuid, Path, description = "The feedback item's id."), ActivityParams),
    responses(
        (status = 200, description = "A page of activities.", body = Page<Activity>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
#[get("/feedback/{id}/activities")]
async fn list_feedback_activities(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
    params: web::Query<ActivityParams>,
) -> ApiResult<web::Json<Page<Activity>>> {
    principal.require(Area::Feedback, Level::Read)?;
    let visibility = params
        .visibility
        .as_deref()
        .map(|v| Visibility::from_query("visibility", v))
        .transpose()?;
    let page = PageParams {
        limit: params.limit,
        cursor: params.cursor.clone(),
    };
    let limit = page.limit()?;
    repo::get(&state.db, *id, now()).await?;
    let rows = list(&state.db, *id, visibility, page.cursor()?, limit).await?;
    Ok(web::Json(page_from(
        rows,
        limit,
        |r| (r.occurred_at, r.id),
        ActivityRow::into_activity,
    )))
}

/// Comment on an item
///
/// Adds a `comment` activity: an internal note, or (with `visibility: customer`) a reply to the customer.
/// Comments do not change the status; a first reply does not count as the first response (move the item out
/// of `new` for that).
#[utoipa::path(
    security(("bearer" = ["feedback:write"])),
    tag = "feedback",
    request_body = CommentIn,
    params(
        ("id" = Uuid, Path, description = "The feedback item's id."),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the same key and body return the first response."),
    ),
    responses(
        (status = 201, description = "The comment was added.", body = Activity, headers(("Location" = String))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 422, response = Unprocessable),
    )
)]
#[post("/feedback/{id}/activities")]
async fn add_feedback_comment(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: ValidatedJson<CommentIn>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Feedback, Level::Write)?;
    let note = body.0.note.trim().to_string();
    if note.is_empty() {
        return Err(ApiError::field("note", "required", "must not be blank"));
    }
    let visibility = body
        .0
        .visibility
        .as_deref()
        .and_then(Visibility::parse)
        .unwrap_or(Visibility::Internal);
    let actor = Actor::new(&principal, &req);
    let now = now();
    let id = *id;
    let out = state
        .db
        .write(|db| async move {
            let mut tx = db.begin().await?;
            repo::get(&mut tx, id, now).await?;
            let activity = NewActivity {
                kind: ActivityKind::Comment,
                visibility,
                note: Some(note),
                from_status: None,
                to_status: None,
                assignee_id: None,
            };
            let out = insert(&mut tx, &actor, id, now, activity).await?;
            audit::record(
                &mut tx,
                &actor,
                "comment",
                "feedback",
                id,
                Change::none().with("activity_id", out.id),
            )
            .await?;
            // A comment can change the item (a public reply is its first response).
            let item = repo::get(&mut tx, id, now).await?.into_feedback();
            events::record(
                &mut tx,
                &actor,
                &super::events::UPDATED,
                item.contact_id,
                &item,
            )
            .await?;
            tx.commit().await?;
            Ok::<_, ApiError>(out)
        })
        .await?;
    Ok(created(
        format!("/v1/feedback/{}/activities", id),
        None,
        out,
    ))
}
