use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use super::schedule::{Repeat, RepeatUnit};
use crate::{
    choice,
    feedback::service_levels::Priority,
    http::{
        ApiError,
        check::{Check, trimmed},
    },
};

choice! {
    /// What kind of follow-up a task is.
    pub enum TaskKind {
        Call = "call",
        Email = "email",
        Meeting = "meeting",
        Visit = "visit",
        Review = "review",
        Greeting = "greeting",
        FollowUp = "follow_up",
        Other = "other",
    }
}

choice! {
    /// Where a task stands: `done` and `cancelled` can be reopened.
    pub enum TaskStatus {
        Open = "open",
        Done = "done",
        Cancelled = "cancelled",
    }
}

/// What must happen next, by when, and who does it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01937cb0-0000-7000-8000-000000000001", "title": "Quarterly review with Acme", "description": null,
    "kind": "review", "due_at": "2027-03-31T15:59:59Z", "due_on": "2027-03-31", "time_zone": "Asia/Shanghai",
    "overdue": false, "assignee_id": "01937c5e-8f3a-7c4e-9b1a-2f6d8e4c1a20", "priority": "normal", "status": "open",
    "completed_at": null, "outcome": null, "contact_id": null, "account_id": "01937c5d-0000-7000-8000-000000000001",
    "feedback_id": null, "engagement_id": null, "repeat": {"every": 1, "unit": "quarter"}, "follows_id": null, "rule": null,
    "version": 1, "created_at": "2027-01-02T09:00:00Z", "updated_at": "2027-01-02T09:00:00Z"
}))]
pub struct Task {
    pub id: Uuid,
    pub title: String,
    pub description: Option<String>,
    pub kind: TaskKind,
    /// The deadline. A task given `due_on` is due at the end of that day in `time_zone`.
    pub due_at: DateTime<Utc>,
    /// The local date it is due on, when it was given one.
    pub due_on: Option<NaiveDate>,
    /// The IANA time zone its dates are read in: the contact's, else the working calendar's.
    pub time_zone: String,
    /// Open and past its deadline, at the time of the request.
    pub overdue: bool,
    pub assignee_id: Uuid,
    pub priority: Priority,
    pub status: TaskStatus,
    /// When it was done or cancelled.
    pub completed_at: Option<DateTime<Utc>>,
    /// How it went, recorded when done.
    pub outcome: Option<String>,
    pub contact_id: Option<Uuid>,
    pub account_id: Option<Uuid>,
    pub feedback_id: Option<Uuid>,
    pub engagement_id: Option<Uuid>,
    /// Completing or cancelling an occurrence creates the next one.
    pub repeat: Option<Repeat>,
    /// The occurrence this one follows.
    pub follows_id: Option<Uuid>,
    /// The rule that created it, if one did: `complaint_at_risk`, `key_account_review` or `birthday_greeting`.
    pub rule: Option<String>,
    /// Increases on every change; sent as the `ETag`.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TaskRow {
    pub id: Uuid,
    pub title: String,
    pub description: Option<String>,
    pub kind: TaskKind,
    pub due_at: DateTime<Utc>,
    pub due_on: Option<String>,
    pub time_zone: String,
    pub assignee_id: Uuid,
    pub priority: Priority,
    pub status: TaskStatus,
    pub completed_at: Option<DateTime<Utc>>,
    pub outcome: Option<String>,
    pub contact_id: Option<Uuid>,
    pub account_id: Option<Uuid>,
    pub feedback_id: Option<Uuid>,
    pub engagement_id: Option<Uuid>,
    pub repeat_every: Option<i64>,
    pub repeat_unit: Option<RepeatUnit>,
    pub follows_id: Option<Uuid>,
    pub series_anchor: Option<String>,
    pub series_index: i64,
    pub rule: Option<String>,
    pub created_by: Option<Uuid>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub const COLUMNS: &str = "id, title, description, kind, due_at, due_on, time_zone, assignee_id, priority, status, \
    completed_at, outcome, contact_id, account_id, feedback_id, engagement_id, repeat_every, repeat_unit, follows_id, \
    series_anchor, series_index, rule, created_by, version, created_at, updated_at";

impl TaskRow {
    pub fn repeat(&self) -> Option<Repeat> {
        Some(Repeat {
            every: self.repeat_every?,
            unit: self.repeat_unit?,
        })
    }

    pub fn due_on(&self) -> Option<NaiveDate> {
        self.due_on.as_deref().and_then(|d| d.parse().ok())
    }

    pub fn into_task(self, now: DateTime<Utc>) -> Task {
        Task {
            overdue: self.status == TaskStatus::Open && self.due_at < now,
            repeat: self.repeat(),
            due_on: self.due_on(),
            id: self.id,
            title: self.title,
            description: self.description,
            kind: self.kind,
            due_at: self.due_at,
            time_zone: self.time_zone,
            assignee_id: self.assignee_id,
            priority: self.priority,
            status: self.status,
            completed_at: self.completed_at,
            outcome: self.outcome,
            contact_id: self.contact_id,
            account_id: self.account_id,
            feedback_id: self.feedback_id,
            engagement_id: self.engagement_id,
            follows_id: self.follows_id,
            rule: self.rule,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }

    /// The task as a create would have sent it (what a patch applies to).
    pub fn to_input(&self) -> TaskIn {
        let due_on = self.due_on();
        TaskIn {
            title: self.title.clone(),
            description: self.description.clone(),
            kind: Some(self.kind.as_str().into()),
            due_at: due_on.is_none().then_some(self.due_at),
            due_on,
            assignee_id: Some(self.assignee_id),
            priority: Some(self.priority.as_str().into()),
            status: Some(self.status.as_str().into()),
            outcome: self.outcome.clone(),
            contact_id: self.contact_id,
            account_id: self.account_id,
            feedback_id: self.feedback_id,
            engagement_id: self.engagement_id,
            repeat: self.repeat(),
        }
    }
}

/// A new task.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "title": "Quarterly review with Acme", "kind": "review", "due_on": "2027-03-31",
    "account_id": "01937c5d-0000-7000-8000-000000000001", "repeat": {"every": 1, "unit": "quarter"}
}))]
pub struct TaskIn {
    #[validate(length(min = 1, max = 200))]
    pub title: String,
    /// Up to 5,000 characters.
    #[serde(default)]
    #[validate(length(max = 5000))]
    pub description: Option<String>,
    /// Default `other`.
    #[serde(default)]
    #[schema(value_type = Option<TaskKind>)]
    #[validate(custom(function = "TaskKind::validate"))]
    pub kind: Option<String>,
    /// The deadline (RFC 3339). Give `due_at` or `due_on`, not both.
    #[serde(default, deserialize_with = "crate::domain::time::optional")]
    pub due_at: Option<DateTime<Utc>>,
    /// A local date in the contact's time zone (else the working calendar's): due by the end of that day.
    #[serde(default)]
    pub due_on: Option<NaiveDate>,
    /// An active user; defaults to the caller (required for API keys).
    #[serde(default)]
    pub assignee_id: Option<Uuid>,
    /// low, normal (default), high or urgent.
    #[serde(default)]
    #[schema(value_type = Option<Priority>)]
    #[validate(custom(function = "Priority::validate"))]
    pub priority: Option<String>,
    /// Default `open`.
    #[serde(default)]
    #[schema(value_type = Option<TaskStatus>)]
    #[validate(custom(function = "TaskStatus::validate"))]
    pub status: Option<String>,
    /// How it went (with `done`), up to 2,000 characters.
    #[serde(default)]
    #[validate(length(max = 2000))]
    pub outcome: Option<String>,
    #[serde(default)]
    pub contact_id: Option<Uuid>,
    #[serde(default)]
    pub account_id: Option<Uuid>,
    #[serde(default)]
    pub feedback_id: Option<Uuid>,
    #[serde(default)]
    pub engagement_id: Option<Uuid>,
    #[serde(default)]
    pub repeat: Option<Repeat>,
}

/// When a task falls due, as given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    At(DateTime<Utc>),
    On(NaiveDate),
}

/// A task's fields, checked; the time zone and references are resolved in the repository.
#[derive(Debug, Clone)]
pub struct TaskFields {
    pub title: String,
    pub description: Option<String>,
    pub kind: TaskKind,
    pub due: Due,
    pub assignee_id: Option<Uuid>,
    pub priority: Priority,
    pub status: TaskStatus,
    pub outcome: Option<String>,
    pub contact_id: Option<Uuid>,
    pub account_id: Option<Uuid>,
    pub feedback_id: Option<Uuid>,
    pub engagement_id: Option<Uuid>,
    pub repeat: Option<Repeat>,
}

impl TaskIn {
    /// Every rule that needs no database, at once.
    pub fn into_fields(self) -> Result<TaskFields, ApiError> {
        let mut check = Check::validated(&self);
        let title = self.title.trim().to_string();
        if title.is_empty() && !check.has("title") {
            check.fail("title", "required", "must not be blank");
        }
        let due = match (self.due_at, self.due_on) {
            (Some(at), None) => Some(Due::At(chrono::SubsecRound::trunc_subsecs(at, 6))),
            (None, Some(day)) if (1900..=2200).contains(&chrono::Datelike::year(&day)) => {
                Some(Due::On(day))
            }
            (None, Some(_)) => {
                check.fail(
                    "due_on",
                    "out_of_range",
                    "must be a date from 1900-01-01 to 2200-12-31",
                );
                None
            }
            (None, None) => {
                check.fail(
                    "due_at",
                    "required",
                    "give due_at (an instant) or due_on (a local date)",
                );
                None
            }
            (Some(_), Some(_)) => {
                check.fail("due_on", "exclusive", "give due_at or due_on, not both");
                None
            }
        };
        if let Some(r) = self.repeat
            && !(1..=1000).contains(&r.every)
        {
            check.fail("repeat.every", "range", "must be from 1 to 1000");
        }
        check.finish()?;
        let Some(due) = due else {
            return Err(ApiError::internal("a checked task has no due time"));
        };
        Ok(TaskFields {
            title,
            description: trimmed(self.description),
            kind: self
                .kind
                .as_deref()
                .and_then(TaskKind::parse)
                .unwrap_or(TaskKind::Other),
            due,
            assignee_id: self.assignee_id,
            priority: self
                .priority
                .as_deref()
                .and_then(Priority::parse)
                .unwrap_or(Priority::Normal),
            status: self
                .status
                .as_deref()
                .and_then(TaskStatus::parse)
                .unwrap_or(TaskStatus::Open),
            outcome: trimmed(self.outcome),
            contact_id: self.contact_id,
            account_id: self.account_id,
            feedback_id: self.feedback_id,
            engagement_id: self.engagement_id,
            repeat: self.repeat,
        })
    }
}
