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
mod satisfaction;
mod service_levels;

pub use complaints::{ComplaintRow, complaints};
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
const CHANNELS: &str = "LEFT JOIN channels ch ON ch.id = f.channel_id";
const OWNERS: &str = "LEFT JOIN users ou ON ou.id = a.owner_id";
const ENGAGEMENTS: &str = "LEFT JOIN engagements en ON en.id = f.engagement_id";

/// What a query selects, joins and groups by for one dimension.
#[derive(Debug, Clone)]
pub struct Keys {
    /// `… AS group_id, … AS group_text, … AS label`.
    pub select: String,
    /// The LEFT JOINs the keys read.
    pub joins: String,
    /// `GROUP BY …`; empty for [`Dimension::Overall`].
    pub group: String,
    /// `ORDER BY …` the keys, groups without a value last on both engines; empty for `Overall`.
    pub order: String,
}

impl Dimension {
    /// The SQL of the UUID key, the text key and the label, and the joins they read.
    fn parts(
        self,
        cal: Calendar,
    ) -> (
        Option<&'static str>,
        Option<&'static str>,
        Option<&'static str>,
        &'static [&'static str],
    ) {
        use Dimension::*;
        match self {
            Overall => (None, None, None, &[]),
            Channel => (Some("f.channel_id"), None, Some("ch.name"), &[CHANNELS]),
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
            Owner => (
                Some("a.owner_id"),
                None,
                Some("ou.display_name"),
                &[ACCOUNTS, OWNERS],
            ),
            Engagement => (
                Some("f.engagement_id"),
                None,
                Some("en.name"),
                &[ENGAGEMENTS],
            ),
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

    /// The key columns, joins, grouping and order; with `accounts`, the accounts are joined (as `a`) even when
    /// the dimension does not need them (for account filters).
    pub fn keys(self, cal: Calendar, accounts: bool) -> Keys {
        let (id, text, label, needs) = self.parts(cal);
        let typed = |expr: Option<&str>, ty: &str| {
            expr.map_or_else(|| format!("CAST(NULL AS {ty})"), str::to_string)
        };
        let select = format!(
            "{} AS group_id, {} AS group_text, {} AS label",
            typed(id, "UUID"),
            typed(text, "TEXT"),
            typed(label, "TEXT"),
        );
        let mut joins: Vec<&str> = Vec::new();
        if accounts && !needs.contains(&ACCOUNTS) {
            joins.push(ACCOUNTS);
        }
        joins.extend(needs);
        let grouped: Vec<&str> = [id, text, label].into_iter().flatten().collect();
        let (group, order) = if grouped.is_empty() {
            (String::new(), String::new())
        } else {
            let order: Vec<String> = [id, text]
                .into_iter()
                .flatten()
                .map(|e| format!("CASE WHEN {e} IS NULL THEN 1 ELSE 0 END, {e}"))
                .collect();
            (
                format!("GROUP BY {}", grouped.join(", ")),
                format!("ORDER BY {}", order.join(", ")),
            )
        };
        Keys {
            select,
            joins: joins.join(" "),
            group,
            order,
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
                let at = |col: &str| {
                    keys.select
                        .find(col)
                        .unwrap_or_else(|| panic!("{dim:?}: {}", keys.select))
                };
                assert!(
                    at("AS group_id") < at("AS group_text") && at("AS group_text") < at("AS label")
                );
                assert_eq!(keys.group.is_empty(), dim == Dimension::Overall, "{dim:?}");
                assert_eq!(keys.order.is_empty(), dim == Dimension::Overall, "{dim:?}");
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
        assert_eq!(owner.joins, format!("{ACCOUNTS} {OWNERS}"));
        assert_eq!(owner.group, "GROUP BY a.owner_id, ou.display_name");
        assert_eq!(
            owner.order,
            "ORDER BY CASE WHEN a.owner_id IS NULL THEN 1 ELSE 0 END, a.owner_id"
        );
        assert_eq!(Dimension::Overall.keys(calendars()[1], false).group, "");
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
