//! `PATCH /v1/tasks/{id}`: the fields to change, merged into the task and
//! checked as a create (`TaskIn::into_fields`).

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::model::{TaskIn, TaskKind, TaskStatus};
use super::schedule::Repeat;
use crate::{
    feedback::service_levels::Priority,
    http::{
        FieldError,
        patch::{MergePatch, Patch},
    },
};

/// Changes to a task (JSON merge patch). Setting `status` to `done` records `completed_at` (and an `outcome` when
/// given); to `open` reopens it. Sending `due_at` replaces a `due_on` and the other way round.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
#[schema(example = json!({"status": "done", "outcome": "Agreed the 2027 scope"}))]
pub struct TaskPatch {
    #[schema(value_type = String)]
    pub title: Patch<String>,
    #[schema(value_type = Option<String>)]
    pub description: Patch<String>,
    #[schema(value_type = TaskKind)]
    pub kind: Patch<String>,
    #[serde(deserialize_with = "crate::domain::time::patch")]
    #[schema(value_type = DateTime<Utc>)]
    pub due_at: Patch<DateTime<Utc>>,
    #[schema(value_type = NaiveDate)]
    pub due_on: Patch<NaiveDate>,
    #[schema(value_type = Uuid)]
    pub assignee_id: Patch<Uuid>,
    #[schema(value_type = Priority)]
    pub priority: Patch<String>,
    #[schema(value_type = TaskStatus)]
    pub status: Patch<String>,
    #[schema(value_type = Option<String>)]
    pub outcome: Patch<String>,
    #[schema(value_type = Option<Uuid>)]
    pub contact_id: Patch<Uuid>,
    #[schema(value_type = Option<Uuid>)]
    pub account_id: Patch<Uuid>,
    #[schema(value_type = Option<Uuid>)]
    pub feedback_id: Patch<Uuid>,
    #[schema(value_type = Option<Uuid>)]
    pub engagement_id: Patch<Uuid>,
    #[schema(value_type = Option<Repeat>)]
    pub repeat: Patch<Repeat>,
}

impl MergePatch<TaskIn> for TaskPatch {
    fn merge_into(self, current: TaskIn, nulls: &mut Vec<FieldError>) -> TaskIn {
        self.kind.refuse_null("kind", nulls);
        self.due_at.refuse_null("due_at", nulls);
        self.due_on.refuse_null("due_on", nulls);
        self.assignee_id.refuse_null("assignee_id", nulls);
        self.priority.refuse_null("priority", nulls);
        self.status.refuse_null("status", nulls);
        // A new deadline of either form replaces the old one.
        let (due_at, due_on) = match (&self.due_at, &self.due_on) {
            (Patch::Value(at), _) => (Some(*at), self.due_on.value().copied()),
            (_, Patch::Value(day)) => (None, Some(*day)),
            _ => (current.due_at, current.due_on),
        };
        TaskIn {
            title: self.title.apply_required(current.title, "title", nulls),
            description: self.description.apply(current.description),
            kind: self.kind.apply(current.kind),
            due_at,
            due_on,
            assignee_id: self.assignee_id.apply(current.assignee_id),
            priority: self.priority.apply(current.priority),
            status: self.status.apply(current.status),
            outcome: self.outcome.apply(current.outcome),
            contact_id: self.contact_id.apply(current.contact_id),
            account_id: self.account_id.apply(current.account_id),
            feedback_id: self.feedback_id.apply(current.feedback_id),
            engagement_id: self.engagement_id.apply(current.engagement_id),
            repeat: self.repeat.apply(current.repeat),
        }
    }
}
