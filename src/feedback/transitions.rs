//! `POST /v1/feedback/{id}/transitions`: moves a complaint or inquiry along
//! its workflow. The move is one conditional UPDATE (`… WHERE status = $from
//! AND version = $read`), so of concurrent moves from the same state exactly
//! one wins; the others are answered 409 with the state that won.

use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use super::events::STATUS_CHANGED;
use super::{
    activities::{self, ActivityKind, NewActivity, Visibility},
    model::{Feedback, FeedbackRow},
    repo,
    service_levels::seconds_between,
    workflow::{Effects, FeedbackStatus, Refusal, allowed_names, check_move},
};
use crate::{
    audit::{self, Actor, Change},
    auth::{Area, Level, Principal},
    db::{Db, Tx, now},
    events,
    http::{ApiError, ApiResult, ValidatedJson, etag, ok_versioned, responses::*},
    on_tx,
    state::AppState,
};

/// A move along the workflow.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"to": "resolved", "from": "in_progress", "note": "Refunded the duplicate charge on 7 Nov.", "visibility": "customer"}))]
pub struct TransitionIn {
    /// The state to move to: acknowledged, in_progress, waiting_on_customer, resolved or closed.
    #[schema(value_type = FeedbackStatus)]
    #[validate(custom(function = "FeedbackStatus::validate"))]
    pub to: String,
    /// Optional: the state you saw the item in. When given and the item has moved on meanwhile (someone else
    /// moved it), the move is refused with 409 instead of being applied to the new state.
    #[schema(value_type = Option<FeedbackStatus>)]
    #[validate(custom(function = "FeedbackStatus::validate"))]
    pub from: Option<String>,
    /// Up to 10,000 characters; recorded on the activity. Required for `resolved`: it is the resolution.
    #[validate(length(max = 10000))]
    pub note: Option<String>,
    /// Who the note is for: `internal` (default) or `customer`.
    #[schema(value_type = Option<Visibility>)]
    #[validate(custom(function = "Visibility::validate"))]
    pub visibility: Option<String>,
}

/// The column values after a move, computed from the row as read.
struct After {
    first_responded_at: Option<DateTime<Utc>>,
    first_response_seconds: Option<i64>,
    resolved_at: Option<DateTime<Utc>>,
    resolution_seconds: Option<i64>,
    resolution: Option<String>,
    closed_at: Option<DateTime<Utc>>,
    paused_at: Option<DateTime<Utc>>,
    paused_micros: i64,
    resolution_due_at: Option<DateTime<Utc>>,
    resolution_risk_at: Option<DateTime<Utc>>,
    reopen_count: i64,
}

fn after(row: &FeedbackRow, e: Effects, note: Option<&str>, now: DateTime<Utc>) -> After {
    let mut a = After {
        first_responded_at: row.first_responded_at,
        first_response_seconds: row.first_response_seconds,
        resolved_at: row.resolved_at,
        resolution_seconds: row.resolution_seconds,
        resolution: row.resolution.clone(),
        closed_at: row.closed_at,
        paused_at: row.paused_at,
        paused_micros: row.paused_micros,
        resolution_due_at: row.resolution_due_at,
        resolution_risk_at: row.resolution_risk_at,
        reopen_count: row.reopen_count,
    };
    if e.first_response && a.first_responded_at.is_none() {
        a.first_responded_at = Some(now);
        a.first_response_seconds = Some(seconds_between(row.received_at, now));
    }
    if e.resume
        && let Some(since) = a.paused_at.take()
    {
        let shift = (now - since).max(Duration::zero());
        a.paused_micros += shift.num_microseconds().unwrap_or(0);
        a.resolution_due_at = a.resolution_due_at.map(|t| t + shift);
        a.resolution_risk_at = a.resolution_risk_at.map(|t| t + shift);
    }
    if e.pause {
        a.paused_at = Some(now);
    }
    if e.resolve {
        a.resolved_at = Some(now);
        a.resolution = note.map(str::to_string);
        // Time on the firm's clock: waits on the customer do not count.
        a.resolution_seconds = Some(seconds_between(
            row.received_at + Duration::microseconds(a.paused_micros),
            now,
        ));
    }
    if e.close {
        a.closed_at = Some(now);
    }
    if e.reopen {
        a.resolved_at = None;
        a.resolution_seconds = None;
        a.resolution = None;
        a.closed_at = None;
        a.reopen_count += 1;
    }
    a
}

fn refusal(r: Refusal, id: Uuid) -> ApiError {
    match r {
        Refusal::NoWorkflow(kind) => ApiError::conflict(format!(
            "Feedback {id} is a {kind}: only complaints and inquiries have a handling workflow, so it has no status to change."
        ))
        .with("kind", kind)
        .with("allowed", Vec::<&str>::new()),
        Refusal::Illegal { from, to } => {
            let allowed = allowed_names(from);
            ApiError::conflict(format!(
                "Feedback {id} is {from}; it cannot move to {to}. From {from} it can move to: {}.",
                allowed.join(", ")
            ))
            .with("current_status", from)
            .with("allowed", allowed)
        }
        Refusal::NoteRequired => ApiError::field(
            "note",
            "required",
            "is required to resolve an item: say how it was resolved (it is kept as the resolution)",
        ),
    }
}

async fn apply_move(
    tx: &mut Tx,
    row: &FeedbackRow,
    from: FeedbackStatus,
    to: FeedbackStatus,
    a: &After,
    now: DateTime<Utc>,
) -> Result<bool, ApiError> {
    let done = on_tx!(tx, c => sqlx::query(
        "UPDATE feedback SET status = $1, first_responded_at = $2, first_response_seconds = $3, resolved_at = $4,
            resolution_seconds = $5, resolution = $6, closed_at = $7, paused_at = $8, paused_micros = $9,
            resolution_due_at = $10, resolution_risk_at = $11, reopen_count = $12, version = version + 1,
            updated_at = $13
         WHERE id = $14 AND status = $15 AND version = $16"
    ).bind(to.as_str()).bind(a.first_responded_at).bind(a.first_response_seconds).bind(a.resolved_at)
     .bind(a.resolution_seconds).bind(&a.resolution).bind(a.closed_at).bind(a.paused_at).bind(a.paused_micros)
     .bind(a.resolution_due_at).bind(a.resolution_risk_at).bind(a.reopen_count).bind(now)
     .bind(row.id).bind(from.as_str()).bind(row.version)
     .execute(&mut **c).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// Moves an item; retries when only other fields changed under it.
pub async fn transition(
    db: &Db,
    actor: &Actor,
    id: Uuid,
    input: TransitionIn,
    expected: Option<i64>,
) -> Result<Feedback, ApiError> {
    let to = FeedbackStatus::parse(&input.to).unwrap_or(FeedbackStatus::New);
    let seen = input.from.as_deref().and_then(FeedbackStatus::parse);
    let note = input
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string);
    let visibility = input
        .visibility
        .as_deref()
        .and_then(Visibility::parse)
        .unwrap_or(Visibility::Internal);
    for _ in 0..3 {
        let now = now();
        let mut tx = db.begin().await?;
        let row = repo::get(&mut tx, id, now).await?;
        etag::check(expected, row.version)?;
        let from = row.status();
        if let (Some(seen), Some(current)) = (seen, from)
            && seen != current
        {
            return Err(ApiError::conflict(format!(
                "Feedback {id} is no longer {seen}: it is {current} now. Read it again and decide anew."
            ))
            .with("current_status", current)
            .with("allowed", allowed_names(current)));
        }
        let effects =
            check_move(row.kind(), from, to, note.as_deref()).map_err(|r| refusal(r, id))?;
        let from = from.unwrap_or(FeedbackStatus::New);
        let a = after(&row, effects, note.as_deref(), now);
        if !apply_move(&mut tx, &row, from, to, &a, now).await? {
            // Someone changed the item between our read and our write: read again. If the status moved,
            // the next round answers 409 from the new state; a concurrent edit of other fields is retried.
            drop(tx);
            if expected.is_some() {
                let current = repo::get(db, id, now).await?;
                return Err(etag::stale(current.version));
            }
            continue;
        }
        let activity = NewActivity {
            kind: ActivityKind::Transition,
            visibility,
            note: note.clone(),
            from_status: Some(from),
            to_status: Some(to),
            assignee_id: None,
        };
        activities::insert(&mut tx, actor, id, now, activity).await?;
        let out = repo::get(&mut tx, id, now).await?.into_feedback();
        let change = Change::diff(&row.into_feedback(), &out);
        audit::record(&mut tx, actor, "transition", "feedback", id, change).await?;
        events::record(&mut tx, actor, &STATUS_CHANGED, out.contact_id, &out).await?;
        tx.commit().await?;
        return Ok(out);
    }
    Err(ApiError::conflict(
        "The item kept changing while we tried to move it; read it again and retry.",
    ))
}

/// Move an item along the workflow
///
/// Complaints and inquiries only. Legal moves: `new` → `acknowledged` or `in_progress`; `acknowledged` →
/// `in_progress`; `in_progress` → `waiting_on_customer` or `resolved`; `waiting_on_customer` → `in_progress` or
/// `resolved`; `resolved` → `closed`; and reopening: `resolved`/`closed` → `in_progress`. (`waiting_on_customer`
/// → `resolved` is allowed because a customer's answer often settles the matter.)
///
/// An illegal move is a 409 whose `allowed` member lists the states the item can move to (and `current_status`
/// its current state); other kinds answer 409 with an empty `allowed`. With `from`, a move of an item that has
/// left that state meanwhile is a 409 too. `resolved` requires a `note`, kept as the
/// resolution (422 without). The first move out of `new` sets `first_responded_at`; `resolved` sets
/// `resolved_at`; `closed` sets `closed_at`; reopening clears both (and the resolution) and counts in
/// `reopen_count`, while the original resolution due time keeps running. Entering `waiting_on_customer` stops
/// the resolution clock; leaving it moves `resolution_due_at` later by the wait. Every move is an activity.
///
/// Of concurrent moves from the same state (the same `to`, or any `to` with the same `from` or `If-Match`) exactly
/// one wins; the others get 409 naming the state that won (412 with `If-Match`).
#[utoipa::path(
    security(("bearer" = ["feedback:write"])),
    tag = "feedback",
    request_body = TransitionIn,
    params(
        ("id" = Uuid, Path, description = "The feedback item's id."),
        ("If-Match" = Option<String>, Header, description = "Optional: the ETag of your last read; 412 if the item changed since."),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the same key and body return the first response."),
    ),
    responses(
        (status = 200, description = "The item after the move.", body = Feedback, headers(("ETag" = String))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 412, response = PreconditionFailed),
        (status = 422, response = Unprocessable),
    )
)]
#[post("/feedback/{id}/transitions")]
pub async fn transition_feedback(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: ValidatedJson<TransitionIn>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Feedback, Level::Write)?;
    let actor = Actor::new(&principal, &req);
    let id = *id;
    let input = body.0;
    let expected = etag::expected_version(&req)?;
    let out = state
        .db
        .write(|db| async move { transition(&db, &actor, id, input, expected).await })
        .await?;
    Ok(ok_versioned(out.version, out))
}
