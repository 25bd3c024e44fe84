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
    /// `None` for a kind that is about an account, not a person (it shows in
    /// account and engagement timelines only).
    pub contact_id: Option<&'static str>,
    pub account_id: Option<&'static str>,
    /// `None` for a kind never tied to an engagement.
    pub engagement_id: Option<&'static str>,
    /// False for a branch whose rows the account's timeline already holds
    /// through another source of the same kind (it serves contacts only).
    pub in_account_timeline: bool,
    /// The path of the full record.
    pub link: fn(&TimelineRow) -> String,
}
