//! `GET/PUT /v1/settings/tasks`: which rules create tasks (admins).

use actix_web::{HttpRequest, HttpResponse, get, put, web};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::rules::{TaskSettings, TaskSettingsIn, settings};
use crate::{
    audit::{self, Actor, Change},
    auth::{Area, Level, Principal},
    db::{
        Db, now,
        refs::{Active, References},
    },
    http::{ApiError, ApiResult, ValidatedJson, etag, ok_versioned, responses::*},
    on_tx,
    state::AppState,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_task_settings).service(put_task_settings);
}

/// The rules that create tasks
///
/// Admins only. Until first saved, every rule is on (`version` 0).
#[utoipa::path(
    security(("bearer" = ["admin"])),
    tag = "tasks",
    responses(
        (status = 200, description = "The rules in force.", body = TaskSettings, headers(("ETag" = String))),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    )
)]
#[get("/settings/tasks")]
async fn get_task_settings(
    state: web::Data<AppState>,
    principal: Principal,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Settings, Level::Admin)?;
    let current = settings(&state.db).await?;
    Ok(ok_versioned(current.version, current))
}

/// Set the rules that create tasks
///
/// Admins only. Turning a rule off stops new tasks; the tasks it made stay.
#[utoipa::path(
    security(("bearer" = ["admin"])),
    tag = "tasks",
    request_body = TaskSettingsIn,
    params(("If-Match" = Option<String>, Header, description = "The ETag of your last read (\"0\" before the first save); 412 if the rules changed since.")),
    responses(
        (status = 200, description = "The saved rules.", body = TaskSettings, headers(("ETag" = String))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 412, response = PreconditionFailed),
        (status = 422, response = Unprocessable),
    )
)]
#[put("/settings/tasks")]
async fn put_task_settings(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    body: ValidatedJson<TaskSettingsIn>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Settings, Level::Admin)?;
    let actor = Actor::new(&principal, &req);
    let expected = etag::expected_version(&req)?;
    let saved = state
        .db
        .write(|db| async move { save(&db, &actor, &body.0, expected).await })
        .await?;
    Ok(ok_versioned(saved.version, saved))
}

async fn save(
    db: &Db,
    actor: &Actor,
    input: &TaskSettingsIn,
    expected: Option<i64>,
) -> Result<TaskSettings, ApiError> {
    let mut tx = db.begin().await?;
    let mut refs = References::new();
    refs.user(
        &mut tx,
        "escalation_user_id",
        input.escalation_user_id,
        Active::Required { takes: "tasks" },
    )
    .await?;
    refs.finish()?;
    let before = settings(&mut tx).await?;
    etag::check(expected, before.version)?;
    let now = now();
    // Both statements are conditional, so of two concurrent saves of one version only one applies.
    let done = if before.version == 0 {
        on_tx!(&mut tx, c => sqlx::query(
            "INSERT INTO task_settings (id, complaint_follow_ups, escalation_user_id, key_account_reviews,
                birthday_greetings, version, updated_at) VALUES (1, $1, $2, $3, $4, 1, $5) ON CONFLICT (id) DO NOTHING"
        ).bind(input.complaint_follow_ups).bind(input.escalation_user_id).bind(input.key_account_reviews)
         .bind(input.birthday_greetings).bind(now).execute(&mut **c).await.map(|r| r.rows_affected()))?
    } else {
        on_tx!(&mut tx, c => sqlx::query(
            "UPDATE task_settings SET complaint_follow_ups = $1, escalation_user_id = $2, key_account_reviews = $3,
                birthday_greetings = $4, version = version + 1, updated_at = $5 WHERE id = 1 AND version = $6"
        ).bind(input.complaint_follow_ups).bind(input.escalation_user_id).bind(input.key_account_reviews)
         .bind(input.birthday_greetings).bind(now).bind(before.version).execute(&mut **c).await.map(|r| r.rows_affected()))?
    };
    if done == 0 {
        return Err(etag::stale(before.version + 1));
    }
    let after = settings(&mut tx).await?;
    audit::record(
        &mut tx,
        actor,
        "update",
        "task_settings",
        Uuid::nil(),
        Change::diff(&before, &after),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}
