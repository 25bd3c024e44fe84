use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::transactions::history;
use crate::{choice, http::patch::Patch};

choice! {
    /// Who started the touch: the contact (`inbound`) or the firm (`outbound`).
    pub enum Direction { Inbound = "inbound", Outbound = "outbound" }
}

choice! {
    /// What kind of touch it was.
    pub enum InteractionType {
        Call = "call",
        Email = "email",
        Meeting = "meeting",
        Message = "message",
        Visit = "visit",
        Webinar = "webinar",
        Event = "event",
        Note = "note",
    }
}

choice! {
    /// Why the touch happened. Outbound `marketing` touches need the contact's consent for the channel's kind and
    /// count against their weekly cap; `service` touches are always allowed.
    pub enum Purpose { Service = "service", Marketing = "marketing", Research = "research", Sales = "sales" }
}

/// One touch with a contact and/or an account on a channel.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01937c80-0000-7000-8000-000000000001", "contact_id": "01937c5e-8f3a-7c4e-9b1a-2f6d8e4c1a20",
    "account_id": "01937c5d-0000-7000-8000-000000000001", "channel_id": "01937c70-0000-7000-8000-000000000001",
    "direction": "inbound", "type": "call", "purpose": "service", "subject": "Renewal questions",
    "summary": "Asked about the 2027 price list; sent it by email.", "outcome": "resolved",
    "occurred_at": "2026-11-03T14:05:00Z", "duration_seconds": 540,
    "handled_by": "01937c5e-1111-7000-8000-000000000001", "version": 1,
    "created_at": "2026-11-03T14:20:00Z", "updated_at": "2026-11-03T14:20:00Z"
}))]
pub struct Interaction {
    pub id: Uuid,
    /// The person the touch was with; `null` for an account-level touch.
    pub contact_id: Option<Uuid>,
    /// The organisation; filled in from the contact's account when the interaction was logged without one.
    pub account_id: Option<Uuid>,
    pub channel_id: Uuid,
    pub direction: Direction,
    #[serde(rename = "type")]
    pub interaction_type: InteractionType,
    pub purpose: Purpose,
    /// A one-line title. `[erased]` after the contact was erased.
    pub subject: Option<String>,
    /// What was said or done. `[erased]` after the contact was erased.
    pub summary: Option<String>,
    /// How it ended, e.g. `resolved`, `follow_up`, `no_answer`. `[erased]` after the contact was erased.
    pub outcome: Option<String>,
    /// When the touch happened (UTC).
    pub occurred_at: DateTime<Utc>,
    pub duration_seconds: Option<i64>,
    /// The user who handled it.
    pub handled_by: Option<Uuid>,
    /// The engagement it was part of, if any.
    pub engagement_id: Option<Uuid>,
    /// Increases on every change; sent as the `ETag`.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InteractionRow {
    pub id: Uuid,
    pub contact_id: Option<Uuid>,
    pub account_id: Option<Uuid>,
    pub channel_id: Uuid,
    pub direction: Direction,
    pub interaction_type: InteractionType,
    pub purpose: Purpose,
    pub subject: Option<String>,
    pub summary: Option<String>,
    pub outcome: Option<String>,
    pub occurred_at: DateTime<Utc>,
    pub duration_seconds: Option<i64>,
    pub handled_by: Option<Uuid>,
    pub engagement_id: Option<Uuid>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Interaction {
    /// Its account and contact, as the customer record's history names them.
    pub fn parties(&self) -> history::Parties {
        history::Parties {
            account_id: self.account_id,
            contact_id: self.contact_id,
        }
    }
}

impl InteractionRow {
    pub fn direction(&self) -> Direction {
        // CHECK constraints admit only known values.
        self.direction
    }
    pub fn interaction_type(&self) -> InteractionType {
        self.interaction_type
    }
    pub fn purpose(&self) -> Purpose {
        self.purpose
    }

    pub fn into_interaction(self) -> Interaction {
        Interaction {
            direction: self.direction(),
            interaction_type: self.interaction_type(),
            purpose: self.purpose(),
            id: self.id,
            contact_id: self.contact_id,
            account_id: self.account_id,
            channel_id: self.channel_id,
            subject: self.subject,
            summary: self.summary,
            outcome: self.outcome,
            occurred_at: self.occurred_at,
            duration_seconds: self.duration_seconds,
            handled_by: self.handled_by,
            engagement_id: self.engagement_id,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// A new interaction. Give `contact_id`, `account_id` or both.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "contact_id": "01937c5e-8f3a-7c4e-9b1a-2f6d8e4c1a20", "channel_id": "01937c70-0000-7000-8000-000000000001",
    "direction": "inbound", "type": "call", "purpose": "service", "subject": "Renewal questions",
    "summary": "Asked about the 2027 price list; sent it by email.", "outcome": "resolved",
    "occurred_at": "2026-11-03T14:05:00Z", "duration_seconds": 540
}))]
pub struct InteractionIn {
    /// The person (an existing, not deleted or erased contact). Required unless `account_id` is given.
    pub contact_id: Option<Uuid>,
    /// The organisation (an existing account). When omitted, the contact's account is used.
    pub account_id: Option<Uuid>,
    /// An active channel. Its kind decides which consent an outbound marketing touch needs.
    pub channel_id: Uuid,
    /// `inbound` or `outbound`.
    #[schema(value_type = Direction)]
    #[validate(custom(function = "Direction::validate"))]
    pub direction: String,
    /// One of: call, email, meeting, message, visit, webinar, event, note.
    // Checked in `rules`: validator would report it under its Rust name.
    #[serde(rename = "type")]
    #[schema(value_type = InteractionType)]
    pub interaction_type: String,
    /// One of: service, marketing, research, sales. Required, because an outbound `marketing` touch is refused
    /// (409) without the contact's granted consent for the channel's kind or beyond their weekly cap.
    #[schema(value_type = Purpose)]
    #[validate(custom(function = "Purpose::validate"))]
    pub purpose: String,
    /// Up to 500 characters.
    #[validate(length(max = 500))]
    pub subject: Option<String>,
    /// Up to 20,000 characters.
    #[validate(length(max = 20_000))]
    pub summary: Option<String>,
    /// Up to 500 characters.
    #[validate(length(max = 500))]
    pub outcome: Option<String>,
    /// When it happened (RFC 3339); defaults to now. At most one day in the future.
    #[serde(default, deserialize_with = "crate::domain::time::optional")]
    pub occurred_at: Option<DateTime<Utc>>,
    /// 0 or more.
    #[validate(range(min = 0))]
    pub duration_seconds: Option<i64>,
    /// The user who handled it (an existing user); defaults to the calling user (none for API keys).
    pub handled_by: Option<Uuid>,
    /// The engagement it was part of: one of the interaction's account.
    pub engagement_id: Option<Uuid>,
}

/// Changes to an interaction (JSON merge patch: absent fields stay as they are, `null` clears an optional field).
/// The same rules as on creation apply to the result, including consent and the weekly cap when it becomes (or
/// stays and is moved as) an outbound marketing touch.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, default)]
#[schema(example = json!({"outcome": "follow_up", "summary": "Sent the price list; call back on Friday."}))]
pub struct InteractionPatch {
    #[schema(value_type = Option<Uuid>)]
    pub contact_id: Patch<Uuid>,
    #[schema(value_type = Option<Uuid>)]
    pub account_id: Patch<Uuid>,
    #[schema(value_type = Uuid)]
    pub channel_id: Patch<Uuid>,
    #[schema(value_type = Direction)]
    #[validate(custom(function = "Direction::validate"))]
    pub direction: Patch<String>,
    // Checked in `rules`: validator would report it under its Rust name.
    #[serde(rename = "type")]
    #[schema(value_type = InteractionType)]
    pub interaction_type: Patch<String>,
    #[schema(value_type = Purpose)]
    #[validate(custom(function = "Purpose::validate"))]
    pub purpose: Patch<String>,
    #[schema(value_type = Option<String>)]
    #[validate(length(max = 500))]
    pub subject: Patch<String>,
    #[schema(value_type = Option<String>)]
    #[validate(length(max = 20_000))]
    pub summary: Patch<String>,
    #[schema(value_type = Option<String>)]
    #[validate(length(max = 500))]
    pub outcome: Patch<String>,
    #[serde(deserialize_with = "crate::domain::time::patch")]
    #[schema(value_type = DateTime<Utc>)]
    pub occurred_at: Patch<DateTime<Utc>>,
    #[schema(value_type = Option<i64>)]
    #[validate(range(min = 0))]
    pub duration_seconds: Patch<i64>,
    #[schema(value_type = Option<Uuid>)]
    pub handled_by: Patch<Uuid>,
    #[schema(value_type = Option<Uuid>)]
    pub engagement_id: Patch<Uuid>,
}

/// Filters for the interaction list; all combine with AND.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct InteractionFilter {
    pub contact_id: Option<Uuid>,
    pub account_id: Option<Uuid>,
    pub channel_id: Option<Uuid>,
    #[param(value_type = Option<Direction>)]
    pub direction: Option<String>,
    #[serde(rename = "type")]
    #[param(value_type = Option<InteractionType>)]
    pub interaction_type: Option<String>,
    #[param(value_type = Option<Purpose>)]
    pub purpose: Option<String>,
    /// Only interactions that occurred at or after this time (RFC 3339).
    #[serde(default, deserialize_with = "crate::domain::time::optional")]
    pub from: Option<DateTime<Utc>>,
    /// Only interactions that occurred before this time (RFC 3339).
    #[serde(default, deserialize_with = "crate::domain::time::optional")]
    pub to: Option<DateTime<Utc>>,
    /// Only interactions handled by this user.
    pub handled_by: Option<Uuid>,
    /// Only interactions of this engagement.
    pub engagement_id: Option<Uuid>,
    /// `-occurred_at` (newest first, the default) or `occurred_at` (oldest first).
    #[param(value_type = Option<String>, example = "-occurred_at")]
    pub sort: Option<String>,
    /// Items per page, 1–200.
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page (with the same filters and sort).
    pub cursor: Option<String>,
}

/// A validated new interaction, with its parties resolved.
#[derive(Debug, Clone)]
pub struct NewInteraction {
    pub contact_id: Option<Uuid>,
    pub account_id: Option<Uuid>,
    pub channel_id: Uuid,
    pub direction: Direction,
    pub interaction_type: InteractionType,
    pub purpose: Purpose,
    pub subject: Option<String>,
    pub summary: Option<String>,
    pub outcome: Option<String>,
    pub occurred_at: DateTime<Utc>,
    pub duration_seconds: Option<i64>,
    pub handled_by: Option<Uuid>,
    pub engagement_id: Option<Uuid>,
}
