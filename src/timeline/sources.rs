//! The kinds of event the timeline merges. See the module documentation of
//! [`crate::timeline`] for the columns each branch must produce.

use super::model::TimelineRow;
use crate::auth::Area;

/// One kind of timeline event.
pub struct Source {
    /// The value of the `kind` column and of `?kind=`.
    pub kind: &'static str,
    /// Callers who cannot read this area do not see this kind.
    pub area: Area,
    /// `SELECT <the timeline columns> FROM <table> <alias>`, nothing after.
    pub select: &'static str,
    /// Qualified columns the builder filters and orders by.
    pub occurred_at: &'static str,
    pub id: &'static str,
    pub contact_id: &'static str,
    pub account_id: Option<&'static str>,
    /// The path of the full record.
    pub link: fn(&TimelineRow) -> String,
}

pub const INTERACTIONS: Source = Source {
    kind: "interaction",
    area: Area::Interactions,
    select: "SELECT 'interaction' AS kind, i.id AS id, i.occurred_at AS occurred_at, i.channel_id AS channel_id,
                    i.contact_id AS contact_id, i.account_id AS account_id, i.interaction_type AS item_type,
                    COALESCE(i.subject, SUBSTR(i.summary, 1, 200), i.direction || ' ' || i.interaction_type) AS summary
             FROM interactions i",
    occurred_at: "i.occurred_at",
    id: "i.id",
    contact_id: "i.contact_id",
    account_id: Some("i.account_id"),
    link: |row| format!("/v1/interactions/{}", row.id),
};

/// Loyalty ledger entries (`type`: earn, redeem, adjust, expire, reverse) and
/// tier changes (`type`: tier_change), from the loyalty module's
/// `loyalty_timeline` view. They belong to a contact only (a merged member's
/// events carry the survivor's contact id).
pub const LOYALTY: Source = Source {
    kind: "loyalty",
    area: Area::Loyalty,
    select: "SELECT 'loyalty' AS kind, l.id AS id, l.occurred_at AS occurred_at, CAST(NULL AS UUID) AS channel_id,
                    l.contact_id AS contact_id, CAST(NULL AS UUID) AS account_id,
                    CASE WHEN l.kind = 'loyalty_tier_change' THEN 'tier_change' ELSE l.detail END AS item_type,
                    l.summary AS summary
             FROM loyalty_timeline l",
    occurred_at: "l.occurred_at",
    id: "l.id",
    contact_id: "l.contact_id",
    account_id: None,
    link: |row| match (row.item_type.as_str(), row.contact_id) {
        ("tier_change", Some(contact)) => format!("/v1/loyalty/members/{contact}/tier-changes"),
        (_, Some(contact)) => format!("/v1/loyalty/members/{contact}/ledger/{}", row.id),
        _ => String::new(),
    },
};

/// Feedback items (`type`: complaint, suggestion, praise, inquiry, survey), at
/// the time the customer gave them.
pub const FEEDBACK: Source = Source {
    kind: "feedback",
    area: Area::Feedback,
    select: "SELECT 'feedback' AS kind, f.id AS id, f.received_at AS occurred_at, f.channel_id AS channel_id,
                    f.contact_id AS contact_id, f.account_id AS account_id, f.kind AS item_type,
                    COALESCE(SUBSTR(f.text, 1, 200), 'NPS ' || f.nps, 'CSAT ' || f.csat, f.kind) AS summary
             FROM feedback f",
    occurred_at: "f.received_at",
    id: "f.id",
    contact_id: "f.contact_id",
    account_id: Some("f.account_id"),
    link: |row| format!("/v1/feedback/{}", row.id),
};

/// Every kind, in no particular order (the database orders the merge).
pub const SOURCES: &[Source] = &[INTERACTIONS, FEEDBACK, LOYALTY];

/// The known kinds, for error messages and the API description.
pub fn kinds() -> Vec<&'static str> {
    SOURCES.iter().map(|s| s.kind).collect()
}

pub fn find(kind: &str) -> Option<&'static Source> {
    SOURCES.iter().find(|s| s.kind == kind)
}
