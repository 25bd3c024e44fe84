use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::channels::ChannelKind;

/// One event in a contact's or account's history.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "kind": "interaction", "id": "01937c80-0000-7000-8000-000000000001", "occurred_at": "2026-11-03T14:05:00Z",
    "type": "call", "summary": "Renewal questions",
    "channel": {"id": "01937c70-0000-7000-8000-000000000001", "kind": "phone", "name": "Client service hotline"},
    "contact_id": "01937c5e-8f3a-7c4e-9b1a-2f6d8e4c1a20", "account_id": "01937c5d-0000-7000-8000-000000000001",
    "link": "/v1/interactions/01937c80-0000-7000-8000-000000000001"
}))]
pub struct TimelineItem {
    /// What the event is: `interaction`, `feedback`, `loyalty` (points earned, redeemed, adjusted, expired or
    /// reversed; a tier change), `engagement` (an engagement was created or changed status; account and
    /// engagement timelines only) or `transaction` (a purchase or refund). New kinds may appear: show or skip kinds you do not know, do not fail on them.
    pub kind: String,
    /// The id of the full record, which `link` points to.
    pub id: Uuid,
    /// When it happened; the timeline is ordered newest first by this, then by id.
    pub occurred_at: DateTime<Utc>,
    /// The record's type within its kind: an interaction's type (`call`, `email`…); feedback's kind (`complaint`,
    /// `survey`…); for loyalty, the ledger entry's kind (`earn`, `redeem`, `adjust`, `expire`, `reverse`) or
    /// `tier_change`; for an engagement, the status it moved to; for a transaction, `purchase` or `refund`.
    #[serde(rename = "type")]
    pub item_type: String,
    /// One line for a list: an interaction's subject, else the start of its summary, else e.g. `inbound call`;
    /// feedback's text (first 200 characters), else its score (`NPS 9`, `CSAT 4`); for loyalty, e.g.
    /// `Earned 120 points`; for an engagement, e.g. `Pricing study: proposed → active`; for a transaction, its
    /// description, else e.g. `purchase of 120000 EUR minor units`.
    pub summary: String,
    /// The channel it happened on, if any (loyalty events have none).
    pub channel: Option<ChannelRef>,
    pub contact_id: Option<Uuid>,
    pub account_id: Option<Uuid>,
    /// The engagement it belongs to, if any.
    pub engagement_id: Option<Uuid>,
    /// The API path of the full record.
    pub link: String,
}

/// A channel, as shown in a timeline item.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelRef {
    pub id: Uuid,
    pub kind: ChannelKind,
    pub name: String,
}

#[derive(Debug, sqlx::FromRow)]
pub struct TimelineRow {
    pub kind: String,
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub channel_id: Option<Uuid>,
    pub channel_kind: Option<ChannelKind>,
    pub channel_name: Option<String>,
    pub contact_id: Option<Uuid>,
    pub account_id: Option<Uuid>,
    pub engagement_id: Option<Uuid>,
    pub item_type: String,
    pub summary: String,
}

impl TimelineRow {
    pub fn into_item(self, hooks: &crate::hooks::Registry) -> TimelineItem {
        let link = hooks
            .timeline_source(&self.kind)
            .map(|s| (s.link)(&self))
            .unwrap_or_default();
        let channel = match (self.channel_id, self.channel_kind, self.channel_name) {
            (Some(id), Some(kind), Some(name)) => Some(ChannelRef { id, kind, name }),
            _ => None,
        };
        TimelineItem {
            kind: self.kind,
            id: self.id,
            occurred_at: self.occurred_at,
            item_type: self.item_type,
            summary: self.summary,
            channel,
            contact_id: self.contact_id,
            account_id: self.account_id,
            engagement_id: self.engagement_id,
            link,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TimelineParams {
    /// Only events of this kind: `interaction`, `feedback`, `loyalty`, `engagement` or `transaction`.
    pub kind: Option<String>,
    /// Items per page, 1–200.
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}
