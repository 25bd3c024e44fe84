//! The SQL behind the satisfaction, service-level and complaint metrics. Every
//! figure is aggregated by the database; only one row per group comes back.
//!
//! Whatever a query groups by, it selects the same three key columns:
//! `group_id` (a UUID key: a channel, an owner, an engagement), `group_text`
//! (a text key: a segment, a month, a priority…) and `label` (a name shown
//! beside a UUID key), NULL where a grouping does not use them, so one row
//! type ([`GroupKey`]) serves every grouping and a new dimension adds no
//! column. UUIDs stay UUIDs (16-byte BLOBs on SQLite): they are never cast to
//! text in SQL.

mod complaints;
mod parts;
mod satisfaction;
mod service_levels;

pub use complaints::{ComplaintRow, complaints};
use parts::add_up_parts;
pub use satisfaction::{SatisfactionFilter, SatisfactionRow, satisfaction};
pub use service_levels::{ServiceLevelRow, service_levels};

use uuid::Uuid;

use crate::{db::Db, dialect};

/// What a metrics query groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    Overall,
    Channel,
    /// The account's size segment.
    Segment,
    /// `YYYY-MM` of `received_at`, UTC.
    Month,
    /// `YYYY-Qn` of `received_at`, UTC.
    Quarter,
    Priority,
    Category,
    /// The account's key-account flag, as `true` / `false`.
    KeyAccount,
    ValueTier,
    LifecycleStage,
    Industry,
    /// The account's country.
    Country,
    /// The account's owner (a user), labelled with their display name.
    Owner,
    /// The item's engagement, labelled with its name.
    Engagement,
}

/// The engine's SQL for the UTC month (`YYYY-MM`) and quarter (`YYYY-Qn`) of an item's `received_at`.
#[derive(Debug, Clone, Copy)]
pub struct Calendar {
    pub month: &'static str,
    pub quarter: &'static str,
}

pub fn calendar(db: &Db) -> Calendar {
    dialect!(db,
        // SQLite keeps RFC 3339 text in UTC: the month is its first seven characters.
        sqlite: Calendar {
            month: "SUBSTR(f.received_at, 1, 7)",
            quarter: "(SUBSTR(f.received_at, 1, 4) || '-Q' || ((CAST(SUBSTR(f.received_at, 6, 2) AS INTEGER) + 2) / 3))",
        },
        postgres: Calendar {
            month: "TO_CHAR(f.received_at AT TIME ZONE 'UTC', 'YYYY-MM')",
            quarter: "TO_CHAR(f.received_at AT TIME ZONE 'UTC', 'YYYY-\"Q\"Q')",
        },
    )
}

/// The join every account attribute (and account filter) reads.
pub const ACCOUNTS: &str = "LEFT JOIN accounts a ON a.id = f.account_id";

/// A name shown beside a UUID key, read once per group (as `g`), after the items are grouped, rather than
/// once per item: its SQL and the join that reads it.
#[derive(Debug, Clone, Copy)]
struct Label {
    column: &'static str,
    join: &'static str,
}

const CHANNEL_NAME: Label = Label {
    column: "ch.name",
    join: "LEFT JOIN channels ch ON ch.id = g.group_id",
};
const OWNER_NAME: Label = Label {
    column: "ou.display_name",
    join: "LEFT JOIN users ou ON ou.id = g.group_id",
};
const ENGAGEMENT_NAME: Label = Label {
    column: "en.name",
    join: "LEFT JOIN engagements en ON en.id = g.group_id",
};

/// What a query selects, joins and groups by for one dimension.
#[derive(Debug, Clone)]
pub struct Keys {
    /// `… AS group_id, … AS group_text`.
    pub select: String,
    /// The LEFT JOINs the keys read.
    pub joins: String,
    /// `GROUP BY …`; empty for [`Dimension::Overall`].
    pub group: String,
    label: Option<Label>,
    grouped: bool,
}

impl Keys {
    /// `grouped` (a query selecting [`Keys::select`]'s two columns and grouped by [`Keys::group`]) with each
    /// group's `label` added and the groups in key order, those without a value last on both engines.
    pub fn labelled(&self, grouped: &str) -> String {
        let (label, join) = self
            .label
            .map_or(("CAST(NULL AS TEXT)", ""), |l| (l.column, l.join));
        let order = if self.grouped {
            "ORDER BY CASE WHEN g.group_id IS NULL THEN 1 ELSE 0 END, g.group_id, \
             CASE WHEN g.group_text IS NULL THEN 1 ELSE 0 END, g.group_text"
        } else {
            ""
        };
        format!("SELECT g.*, {label} AS label FROM ({grouped}) g {join} {order}")
    }
}

impl Dimension {
    /// The SQL of the UUID key, the text key and the label, and the joins the keys read.
    fn parts(
        self,
        cal: Calendar,
    ) -> (
        Option<&'static str>,
        Option<&'static str>,
        Option<Label>,
        &'static [&'static str],
    ) {
        use Dimension::*;
        match self {
            Overall => (None, None, None, &[]),
            Channel => (Some("f.channel_id"), None, Some(CHANNEL_NAME), &[]),
            Segment => (None, Some("a.size_segment"), None, &[ACCOUNTS]),
            Month => (None, Some(cal.month), None, &[]),
            Quarter => (None, Some(cal.quarter), None, &[]),
            Priority => (None, Some("f.priority"), None, &[]),
            Category => (None, Some("f.category"), None, &[]),
            KeyAccount => (
                None,
                Some(
                    "CASE WHEN a.id IS NULL THEN NULL WHEN a.key_account THEN 'true' ELSE 'false' END",
                ),
                None,
                &[ACCOUNTS],
            ),
            ValueTier => (None, Some("a.value_tier"), None, &[ACCOUNTS]),
            LifecycleStage => (None, Some("a.lifecycle_stage"), None, &[ACCOUNTS]),
            Industry => (None, Some("a.industry"), None, &[ACCOUNTS]),
            Country => (None, Some("a.country"), None, &[ACCOUNTS]),
            Owner => (Some("a.owner_id"), None, Some(OWNER_NAME), &[ACCOUNTS]),
            Engagement => (Some("f.engagement_id"), None, Some(ENGAGEMENT_NAME), &[]),
        }
    }

    /// The item column that is the key, where an index leads with it and `received_at` (`feedback_channel`,
    /// `feedback_priority`, `feedback_category`): each key's items of a period are then one range of it.
    pub fn indexed_column(self) -> Option<&'static str> {
        match self {
            Dimension::Channel => Some("channel_id"),
            Dimension::Priority => Some("priority"),
            Dimension::Category => Some("category"),
            _ => None,
        }
    }

    /// The calendar period of `received_at` the dimension groups by, if any.
    pub fn calendar_interval(self) -> Option<crate::feedback::complaint_metrics::Interval> {
        use crate::feedback::complaint_metrics::Interval;
        match self {
            Dimension::Month => Some(Interval::Month),
            Dimension::Quarter => Some(Interval::Quarter),
            _ => None,
        }
    }

    /// Whether the key is an attribute of the item's account. (The calendar only shapes the month and
    /// quarter keys, never the joins.)
    pub fn reads_accounts(self) -> bool {
        self.parts(Calendar {
            month: "",
            quarter: "",
        })
        .3
        .contains(&ACCOUNTS)
    }

    /// The key columns, joins and grouping; with `accounts`, the accounts are joined (as `a`) even when the
    /// dimension does not need them (for account filters).
    pub fn keys(self, cal: Calendar, accounts: bool) -> Keys {
        let (id, text, label, needs) = self.parts(cal);
        let typed = |expr: Option<&str>, ty: &str| {
            expr.map_or_else(|| format!("CAST(NULL AS {ty})"), str::to_string)
        };
        let select = format!(
            "{} AS group_id, {} AS group_text",
            typed(id, "UUID"),
            typed(text, "TEXT"),
        );
        let mut joins: Vec<&str> = Vec::new();
        if accounts && !needs.contains(&ACCOUNTS) {
            joins.push(ACCOUNTS);
        }
        joins.extend(needs);
        let grouped: Vec<&str> = [id, text].into_iter().flatten().collect();
        let group = if grouped.is_empty() {
            String::new()
        } else {
            format!("GROUP BY {}", grouped.join(", "))
        };
        Keys {
            select,
            joins: joins.join(" "),
            group,
            label,
            grouped: !grouped.is_empty(),
        }
    }
}

/// The key columns of a row; which are set depends on the dimension.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, sqlx::FromRow)]
pub struct GroupKey {
    pub group_id: Option<Uuid>,
    pub group_text: Option<String>,
    pub label: Option<String>,
}

impl GroupKey {
    /// The key as the API shows it: the UUID's text, or the text key.
    pub fn key(&self) -> Option<String> {
        self.group_id
            .map(|id| id.to_string())
            .or_else(|| self.group_text.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Dimension; 14] = [
        Dimension::Country,
        Dimension::Overall,
        Dimension::Channel,
        Dimension::Segment,
        Dimension::Month,
        Dimension::Quarter,
        Dimension::Priority,
        Dimension::Category,
        Dimension::KeyAccount,
        Dimension::ValueTier,
        Dimension::LifecycleStage,
        Dimension::Industry,
        Dimension::Owner,
        Dimension::Engagement,
    ];

    fn calendars() -> [Calendar; 2] {
        [
            Calendar {
                month: "SUBSTR(f.received_at, 1, 7)",
                quarter: "q(f.received_at)",
            },
            Calendar {
                month: "TO_CHAR(f.received_at, 'YYYY-MM')",
                quarter: "TO_CHAR(f.received_at, 'YYYY-\"Q\"Q')",
            },
        ]
    }

    #[test]
    fn every_dimension_selects_the_same_three_key_columns() {
        for dim in ALL {
            for cal in calendars() {
                let keys = dim.keys(cal, false);
                let sql = keys.labelled(&format!(
                    "SELECT {} FROM feedback f {}",
                    keys.select, keys.group
                ));
                let at = |col: &str| {
                    keys.select
                        .find(col)
                        .unwrap_or_else(|| panic!("{dim:?}: {}", keys.select))
                };
                assert!(at("AS group_id") < at("AS group_text"));
                // The label comes from the wrapper, over the grouped rows.
                assert!(
                    sql.starts_with("SELECT g.*, ") && sql.contains(" AS label FROM ("),
                    "{sql}"
                );
                assert_eq!(keys.group.is_empty(), dim == Dimension::Overall, "{dim:?}");
                assert_eq!(
                    sql.contains("ORDER BY"),
                    dim != Dimension::Overall,
                    "{dim:?}"
                );
            }
        }
    }

    #[test]
    fn uuids_are_never_cast_to_text() {
        for dim in ALL {
            let keys = dim.keys(calendars()[0], true);
            assert!(
                !keys.select.contains("_id AS TEXT"),
                "{dim:?}: {}",
                keys.select
            );
        }
    }

    #[test]
    fn joins_follow_the_dimension_and_the_account_filters() {
        let seg = Dimension::Segment.keys(calendars()[0], false);
        assert_eq!(seg.joins, ACCOUNTS);
        assert_eq!(seg.group, "GROUP BY a.size_segment");
        // Asked for by a filter as well: joined once.
        assert_eq!(
            Dimension::Segment.keys(calendars()[0], true).joins,
            ACCOUNTS
        );
        assert_eq!(Dimension::Month.keys(calendars()[0], false).joins, "");
        assert_eq!(Dimension::Month.keys(calendars()[0], true).joins, ACCOUNTS);
        let owner = Dimension::Owner.keys(calendars()[0], true);
        assert_eq!(owner.joins, ACCOUNTS);
        assert_eq!(owner.group, "GROUP BY a.owner_id");
        assert_eq!(Dimension::Overall.keys(calendars()[1], false).group, "");
    }

    #[test]
    fn names_are_read_once_per_group_after_grouping() {
        let channel = Dimension::Channel.keys(calendars()[0], false);
        assert_eq!(channel.joins, "");
        assert_eq!(
            channel.labelled("SELECT 1"),
            "SELECT g.*, ch.name AS label FROM (SELECT 1) g LEFT JOIN channels ch ON ch.id = g.group_id \
             ORDER BY CASE WHEN g.group_id IS NULL THEN 1 ELSE 0 END, g.group_id, \
             CASE WHEN g.group_text IS NULL THEN 1 ELSE 0 END, g.group_text"
        );
        assert_eq!(
            Dimension::Overall
                .keys(calendars()[0], false)
                .labelled("SELECT 1"),
            "SELECT g.*, CAST(NULL AS TEXT) AS label FROM (SELECT 1) g  "
        );
    }

    #[test]
    fn the_api_key_is_the_uuid_or_the_text() {
        let id = Uuid::now_v7();
        let key = |group_id, group_text: Option<&str>| {
            GroupKey {
                group_id,
                group_text: group_text.map(str::to_string),
                label: None,
            }
            .key()
        };
        assert_eq!(key(Some(id), None), Some(id.to_string()));
        assert_eq!(key(None, Some("2026-Q2")), Some("2026-Q2".into()));
        assert_eq!(key(None, None), None);
    }
}
