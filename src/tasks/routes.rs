use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::{
    list::{self, SORTS, TaskQuery},
    model::{Task, TaskIn, TaskKind, TaskRow, TaskStatus},
    patch::TaskPatch,
    repo,
};
use crate::{
    audit::Actor,
    auth::{Area, Level, Principal},
    db::now,
    http::{
        ApiError, ApiResult, Page, PageParams, created,
        etag::expected_version,
        ok_versioned,
        pagination::{Sort, page_from, time_key},
        patch::patched,
        responses::*,
    },
    state::AppState,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_tasks)
        .service(create_task)
        .service(my_tasks)
        .service(get_task)
        .service(update_task)
        .service(delete_task)
        .configure(super::settings::configure);
}

/// Agents (and `tasks:write` keys) change the tasks assigned to them;
/// managers and admins change anyone's.
fn may_change(principal: &Principal, task: &TaskRow) -> Result<(), ApiError> {
    if principal.require(Area::Tasks, Level::Manage).is_ok() {
        return Ok(());
    }
    principal.require(Area::Tasks, Level::Write)?;
    if principal.user_id() == Some(task.assignee_id) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "You can change only the tasks assigned to you; a manager can change anyone's.",
        ))
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TaskListParams {
    /// Items per page, 1–200 (default 50).
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// `due_at` (soonest first, the default), `created_at`; prefix with `-` for descending.
    pub sort: Option<String>,
    pub assignee_id: Option<Uuid>,
    pub status: Option<TaskStatus>,
    pub kind: Option<TaskKind>,
    pub contact_id: Option<Uuid>,
    pub account_id: Option<Uuid>,
    /// Only tasks due before this time (RFC 3339).
    #[serde(default, deserialize_with = "crate::domain::time::optional")]
    pub due_before: Option<DateTime<Utc>>,
    /// Only tasks due at or after this time (RFC 3339).
    #[serde(default, deserialize_with = "crate::domain::time::optional")]
    pub due_after: Option<DateTime<Utc>>,
    /// `true`: only open tasks past their deadline now.
    pub overdue: Option<bool>,
    /// Adds `total`, the number of tasks matching the filters.
    pub include_total: Option<bool>,
}

async fn page(
    state: &AppState,
    query: TaskQuery,
    page: PageParams,
    sort: Option<&str>,
    include_total: bool,
) -> ApiResult<web::Json<Page<Task>>> {
    let limit = page.limit()?;
    let sort = Sort::parse(sort, &SORTS, "due_at")?;
    let rows = list::list(&state.db, &query, &sort, page.cursor()?, limit).await?;
    let key = |r: &TaskRow| match sort.field {
        "created_at" => sort.cursor_for(time_key(&r.created_at), r.id),
        _ => sort.cursor_for(time_key(&r.due_at), r.id),
    };
    let now = now();
    let mut result = page_from(rows, limit, key, |r| r.into_task(now));
    if include_total {
        result.total = Some(list::count(&state.db, &query).await?);
    }
    Ok(web::Json(result))
}

/// List tasks
///
/// Soonest deadline first by default; keyset-paginated.
#[utoipa::path(
    security(("bearer" = ["tasks:read"])),
    tag = "tasks",
    params(TaskListParams),
    responses(
        (status = 200, description = "A page of tasks.", body = Page<Task>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    )
)]
#[get("/tasks")]
async fn list_tasks(
    state: web::Data<AppState>,
    principal: Principal,
    params: web::Query<TaskListParams>,
) -> ApiResult<web::Json<Page<Task>>> {
    principal.require(Area::Tasks, Level::Read)?;
    let p = params.into_inner();
    let query = TaskQuery {
        assignee_id: p.assignee_id,
        status: p.status,
        kind: p.kind,
        contact_id: p.contact_id,
        account_id: p.account_id,
        due_before: p.due_before,
        due_after: p.due_after,
        overdue_at: (p.overdue == Some(true)).then(now),
    };
    let paging = PageParams {
        limit: p.limit,
        cursor: p.cursor,
    };
    page(
        &state,
        query,
        paging,
        p.sort.as_deref(),
        p.include_total == Some(true),
    )
    .await
}

/// My open tasks
///
/// The caller's open tasks, soonest deadline first (so overdue ones lead). An API key is no user and is assigned no
/// tasks: its page is empty (use `GET /v1/tasks?assignee_id=…`).
#[utoipa::path(
    security(("bearer" = ["tasks:read"])),
    tag = "tasks",
    params(PageParams),
    responses(
        (status = 200, description = "A page of the caller's open tasks.", body = Page<Task>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    )
)]
#[get("/me/tasks")]
async fn my_tasks(
    state: web::Data<AppState>,
    principal: Principal,
    params: web::Query<PageParams>,
) -> ApiResult<web::Json<Page<Task>>> {
    principal.require(Area::Tasks, Level::Read)?;
    let Some(me) = principal.user_id() else {
        return Ok(web::Json(Page {
            data: vec![],
            next_cursor: None,
            total: None,
        }));
    };
    let query = TaskQuery {
        assignee_id: Some(me),
        status: Some(TaskStatus::Open),
        ..TaskQuery::default()
    };
    page(&state, query, params.into_inner(), None, false).await
}

/// Create a task
///
/// For anyone: the assignee defaults to the caller. A recurring task (`repeat`) creates its next occurrence when
/// it is done or cancelled.
#[utoipa::path(
    security(("bearer" = ["tasks:write"])),
    tag = "tasks",
    request_body = TaskIn,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the same key and body return the first response.")),
    responses(
        (status = 201, description = "The task was created.", body = Task, headers(("Location" = String), ("ETag" = String))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 422, response = Unprocessable),
    )
)]
#[post("/tasks")]
async fn create_task(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    body: web::Json<TaskIn>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Tasks, Level::Write)?;
    let fields = body.into_inner().into_fields()?;
    let actor = Actor::new(&principal, &req);
    let creator = principal.user_id();
    let task = state
        .db
        .write(|db| async move { repo::create(&db, &actor, fields, creator).await })
        .await?
        .into_task(now());
    Ok(created(
        format!("/v1/tasks/{}", task.id),
        Some(task.version),
        task,
    ))
}

/// Get a task
#[utoipa::path(
    security(("bearer" = ["tasks:read"])),
    tag = "tasks",
    params(("id" = Uuid, Path, description = "The task's id.")),
    responses(
        (status = 200, description = "The task.", body = Task, headers(("ETag" = String))),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
#[get("/tasks/{id}")]
async fn get_task(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Tasks, Level::Read)?;
    let task = repo::get(&state.db, *id).await?.into_task(now());
    Ok(ok_versioned(task.version, task))
}

/// Update a task
///
/// A JSON merge patch. `status: done` records `completed_at` (with an optional `outcome`) and, for a recurring
/// task, creates the next occurrence (once, however many completions race). Agents change their own tasks only;
/// managers anyone's. With `If-Match`, applies only at that version (else 412).
#[utoipa::path(
    security(("bearer" = ["tasks:write"])),
    tag = "tasks",
    request_body(content = TaskPatch, content_type = "application/merge-patch+json"),
    params(
        ("id" = Uuid, Path, description = "The task's id."),
        ("If-Match" = Option<String>, Header, description = "The ETag of your last read."),
    ),
    responses(
        (status = 200, description = "The updated task.", body = Task, headers(("ETag" = String))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 412, response = PreconditionFailed),
        (status = 422, response = Unprocessable),
    )
)]
#[patch("/tasks/{id}")]
async fn update_task(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: web::Json<TaskPatch>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Tasks, Level::Write)?;
    let before = repo::get(&state.db, *id).await?;
    may_change(&principal, &before)?;
    let expected = expected_version(&req)?.unwrap_or(before.version);
    let fields = patched(before.to_input(), body.into_inner())?.into_fields()?;
    let actor = Actor::new(&principal, &req);
    let task = state
        .db
        .write(|db| async move { repo::update(&db, &actor, &before, expected, fields).await })
        .await?
        .into_task(now());
    Ok(ok_versioned(task.version, task))
}

/// Delete a task
#[utoipa::path(
    security(("bearer" = ["tasks:manage"])),
    tag = "tasks",
    params(
        ("id" = Uuid, Path, description = "The task's id."),
        ("If-Match" = Option<String>, Header, description = "The ETag of your last read."),
    ),
    responses(
        (status = 204, description = "The task was deleted."),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 412, response = PreconditionFailed),
    )
)]
#[delete("/tasks/{id}")]
async fn delete_task(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Tasks, Level::Manage)?;
    let actor = Actor::new(&principal, &req);
    let id = *id;
    let expected = expected_version(&req)?;
    state
        .db
        .write(|db| async move { repo::delete(&db, &actor, id, expected).await })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
