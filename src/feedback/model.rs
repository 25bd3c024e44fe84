//! Feedback items: the In / Out / Row types.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use super::{
    service_levels::{Priority, SlaState},
    workflow::{FeedbackKind, FeedbackStatus},
};
use crate::http::patch::Patch;

/// Something a customer told the firm.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01937c90-0000-7000-8000-000000000001", "kind": "complaint", "status": "in_progress",
    "text": "The October invoice charged us twice for the panel study.", "csat": null, "nps": null, "ces": null,
    "contact_id": "01937c5e-8f3a-7c4e-9b1a-2f6d8e4c1a20", "account_id": "01937c5d-0000-7000-8000-000000000001",
    "channel_id": "01937c70-0000-7000-8000-000000000001", "category": "billing", "priority": "high",
    "assignee_id": "01937c5e-1111-7000-8000-000000000001", "received_at": "2026-11-06T10:00:00Z",
    "sla_state": "on_track", "first_response_target_minutes": 480, "resolution_target_business_days": 5,
    "first_response_due_at": "2026-11-06T18:00:00Z", "resolution_due_at": "2026-11-14T00:00:00Z",
    "first_responded_at": "2026-11-06T11:12:00Z", "resolved_at": null, "closed_at": null, "resolution": null,
    "waiting_since": null, "paused_seconds": 0.0, "reopen_count": 0, "version": 3,
    "created_at": "2026-11-06T10:00:02Z", "updated_at": "2026-11-06T11:12:00Z"
}))]
pub struct Feedback {
    pub id: Uuid,
    pub kind: FeedbackKind,
    /// Complaints and inquiries only (`null` for other kinds): `new` → `acknowledged` → `in_progress` ⇄
    /// `waiting_on_customer` → `resolved` → `closed`. Change it with `POST /v1/feedback/{id}/transitions`.
    pub status: Option<FeedbackStatus>,
    /// What the customer said. `[erased]` after the contact was erased.
    pub text: Option<String>,
    /// Customer satisfaction score, 1 (very dissatisfied) to 5 (very satisfied).
    pub csat: Option<i64>,
    /// Net Promoter answer, 0 to 10 ("how likely are you to recommend us?").
    pub nps: Option<i64>,
    /// Customer effort score, 1 (very low effort) to 7 (very high effort): lower is better.
    pub ces: Option<i64>,
    pub contact_id: Option<Uuid>,
    /// The organisation; filled in from the contact's account when the item was created without one.
    pub account_id: Option<Uuid>,
    /// The channel the feedback came in on; its service-level targets apply.
    pub channel_id: Option<Uuid>,
    /// A free label for grouping, stored lowercase (e.g. `billing`, `delivery`).
    pub category: Option<String>,
    pub priority: Priority,
    /// The user handling the item.
    pub assignee_id: Option<Uuid>,
    /// The engagement it is about (a post-project survey), if any.
    pub engagement_id: Option<Uuid>,
    /// When the customer gave the feedback; lists, periods, timelines and service-level clocks use it.
    pub received_at: DateTime<Utc>,
    /// Complaints and inquiries only, computed at read time: `breached` once a target was missed (and for good),
    /// else `met` once resolved, else `at_risk` when less than 20% of a running target's window is left, else
    /// `on_track`.
    pub sla_state: Option<SlaState>,
    /// The first-response promise that applies, in minutes (see the service-level rules in the API description).
    pub first_response_target_minutes: Option<i64>,
    /// The resolution promise that applies, in business days of the working calendar.
    pub resolution_target_business_days: Option<i64>,
    /// `received_at` plus the first-response target (elapsed time).
    pub first_response_due_at: Option<DateTime<Utc>>,
    /// The end (local midnight) of the N-th working day after the day of receipt, moved later by the time spent
    /// waiting on the customer.
    pub resolution_due_at: Option<DateTime<Utc>>,
    /// Set by the first move out of `new`.
    pub first_responded_at: Option<DateTime<Utc>>,
    /// Set on `resolved`; cleared when the item is reopened.
    pub resolved_at: Option<DateTime<Utc>>,
    /// Set on `closed`; cleared when the item is reopened.
    pub closed_at: Option<DateTime<Utc>>,
    /// The resolution note given with the move to `resolved`.
    pub resolution: Option<String>,
    /// While `waiting_on_customer`: when the wait began (the resolution clock is stopped since).
    pub waiting_since: Option<DateTime<Utc>>,
    /// Total seconds (to the microsecond) spent waiting on the customer in finished waits; `resolution_due_at`
    /// has moved later by exactly this.
    pub paused_seconds: f64,
    /// How often the item was reopened after being resolved or closed.
    pub reopen_count: i64,
    /// Increases on every change; sent as the `ETag`.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FeedbackRow {
    pub id: Uuid,
    pub kind: FeedbackKind,
    pub text: Option<String>,
    pub csat: Option<i64>,
    pub nps: Option<i64>,
    pub ces: Option<i64>,
    pub contact_id: Option<Uuid>,
    pub account_id: Option<Uuid>,
    pub channel_id: Option<Uuid>,
    pub category: Option<String>,
    pub priority: Priority,
    pub assignee_id: Option<Uuid>,
    pub engagement_id: Option<Uuid>,
    pub status: Option<FeedbackStatus>,
    pub received_at: DateTime<Utc>,
    pub first_response_target_minutes: Option<i64>,
    pub resolution_target_business_days: Option<i64>,
    pub first_response_due_at: Option<DateTime<Utc>>,
    pub resolution_due_at: Option<DateTime<Utc>>,
    pub first_response_risk_at: Option<DateTime<Utc>>,
    pub resolution_risk_at: Option<DateTime<Utc>>,
    pub first_responded_at: Option<DateTime<Utc>>,
    pub first_response_seconds: Option<i64>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolution_seconds: Option<i64>,
    pub closed_at: Option<DateTime<Utc>>,
    pub resolution: Option<String>,
    pub paused_at: Option<DateTime<Utc>>,
    pub paused_micros: i64,
    pub reopen_count: i64,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Computed by [`super::sla_state::sla_state_sql`].
    pub sla_state: Option<SlaState>,
}

/// The stored columns of a feedback row aliased `f`; the query adds `sla_state`.
pub const COLUMNS: &str = "f.id, f.kind, f.text, f.csat, f.nps, f.ces, f.contact_id, f.account_id, f.channel_id, f.category, \
    f.priority, f.assignee_id, f.engagement_id, f.status, f.received_at, f.first_response_target_minutes, \
    f.resolution_target_business_days, f.first_response_due_at, f.resolution_due_at, f.first_response_risk_at, \
    f.resolution_risk_at, f.first_responded_at, f.first_response_seconds, f.resolved_at, f.resolution_seconds, f.closed_at, f.resolution, f.paused_at, f.paused_micros, f.reopen_count, f.version, \
    f.created_at, f.updated_at";

impl FeedbackRow {
    pub fn kind(&self) -> FeedbackKind {
        self.kind
    }
    pub fn status(&self) -> Option<FeedbackStatus> {
        self.status
    }
    pub fn priority(&self) -> Priority {
        self.priority
    }

    pub fn into_feedback(self) -> Feedback {
        Feedback {
            kind: self.kind(),
            status: self.status(),
            priority: self.priority(),
            sla_state: self.sla_state,
            id: self.id,
            text: self.text,
            csat: self.csat,
            nps: self.nps,
            ces: self.ces,
            contact_id: self.contact_id,
            account_id: self.account_id,
            channel_id: self.channel_id,
            category: self.category,
            assignee_id: self.assignee_id,
            engagement_id: self.engagement_id,
            received_at: self.received_at,
            first_response_target_minutes: self.first_response_target_minutes,
            resolution_target_business_days: self.resolution_target_business_days,
            first_response_due_at: self.first_response_due_at,
            resolution_due_at: self.resolution_due_at,
            first_responded_at: self.first_responded_at,
            resolved_at: self.resolved_at,
            closed_at: self.closed_at,
            resolution: self.resolution,
            waiting_since: self.paused_at,
            paused_seconds: self.paused_micros as f64 / 1e6,
            reopen_count: self.reopen_count,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// New feedback. Partner systems post survey answers here with an API key scoped `feedback:write`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "kind": "complaint", "text": "The October invoice charged us twice for the panel study.",
    "contact_id": "01937c5e-8f3a-7c4e-9b1a-2f6d8e4c1a20", "channel_id": "01937c70-0000-7000-8000-000000000001",
    "category": "billing", "priority": "high"
}))]
pub struct FeedbackIn {
    /// One of: complaint, suggestion, praise, inquiry, survey. Complaints and inquiries start `new` in the
    /// handling workflow and get service-level due times; the others have no workflow.
    #[schema(value_type = FeedbackKind)]
    #[validate(custom(function = "FeedbackKind::validate"))]
    pub kind: String,
    /// What the customer said, up to 10,000 characters. Required except for surveys.
    #[validate(length(max = 10000))]
    pub text: Option<String>,
    /// 1–5. A survey needs at least one of `csat`, `nps` and `ces`.
    #[validate(range(min = 1, max = 5, message = "must be an integer from 1 to 5"))]
    pub csat: Option<i64>,
    /// 0–10.
    #[validate(range(min = 0, max = 10, message = "must be an integer from 0 to 10"))]
    pub nps: Option<i64>,
    /// Customer effort score, 1 (very low effort) to 7 (very high effort): lower is better.
    #[schema(minimum = 1, maximum = 7)]
    #[validate(range(min = 1, max = 7, message = "must be an integer from 1 to 7"))]
    pub ces: Option<i64>,
    /// An existing contact. When `account_id` is omitted, the contact's account is used.
    pub contact_id: Option<Uuid>,
    /// An existing account.
    pub account_id: Option<Uuid>,
    /// An existing channel; its service-level targets apply.
    pub channel_id: Option<Uuid>,
    /// 1–100 characters, stored lowercase.
    #[validate(length(min = 1, max = 100))]
    pub category: Option<String>,
    /// low, normal (default), high or urgent; sets the service-level targets.
    #[schema(value_type = Option<Priority>)]
    #[validate(custom(function = "Priority::validate"))]
    pub priority: Option<String>,
    /// An existing user who handles the item.
    pub assignee_id: Option<Uuid>,
    /// The engagement it is about (a post-project survey): one of the item's account.
    pub engagement_id: Option<Uuid>,
    /// When the customer gave the feedback (RFC 3339); defaults to now, at most 5 minutes ahead of the server.
    /// Service-level clocks start here, so an old complaint entered late may be breached at once.
    #[serde(default, deserialize_with = "crate::domain::time::optional")]
    pub received_at: Option<DateTime<Utc>>,
}

/// Changes to feedback, as a JSON merge patch: absent fields stay, `null` clears an optional field. `kind` and
/// `received_at` are fixed; `status` changes only through transitions. A change of `priority` or `channel_id`
/// recomputes the service-level due times.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, default)]
#[schema(example = json!({"priority": "urgent", "assignee_id": "01937c5e-1111-7000-8000-000000000001"}))]
pub struct FeedbackPatch {
    #[schema(value_type = Option<String>)]
    #[validate(length(max = 10000))]
    pub text: Patch<String>,
    #[schema(value_type = Option<i64>)]
    #[validate(range(min = 1, max = 5, message = "must be an integer from 1 to 5"))]
    pub csat: Patch<i64>,
    #[schema(value_type = Option<i64>)]
    #[validate(range(min = 0, max = 10, message = "must be an integer from 0 to 10"))]
    pub nps: Patch<i64>,
    /// Customer effort score, 1–7 (lower is better); `null` clears it.
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 7)]
    #[validate(range(min = 1, max = 7, message = "must be an integer from 1 to 7"))]
    pub ces: Patch<i64>,
    #[schema(value_type = Option<Uuid>)]
    pub contact_id: Patch<Uuid>,
    #[schema(value_type = Option<Uuid>)]
    pub account_id: Patch<Uuid>,
    #[schema(value_type = Option<Uuid>)]
    pub channel_id: Patch<Uuid>,
    #[schema(value_type = Option<String>)]
    #[validate(length(min = 1, max = 100))]
    pub category: Patch<String>,
    #[schema(value_type = Priority)]
    #[validate(custom(function = "Priority::validate"))]
    pub priority: Patch<String>,
    #[schema(value_type = Option<Uuid>)]
    pub assignee_id: Patch<Uuid>,
    #[schema(value_type = Option<Uuid>)]
    pub engagement_id: Patch<Uuid>,
}
