//! Accounts written as CSV or NDJSON, streamed page by page (a segment of
//! accounts exports through this): the counterpart of the contacts' export.

use serde_json::Value;
use uuid::Uuid;

use super::{
    model::AccountRow,
    repo::{self, AccountQuery, sort_key},
};
use crate::{
    db::Db,
    http::{
        ApiError,
        export::{self, ExportFormat, Pages},
        pagination::{KeysetCursor, Sort},
    },
};

/// The CSV's columns, in order.
pub const CSV_HEADER: [&str; 22] = [
    "id",
    "name",
    "domain",
    "industry",
    "country",
    "region",
    "employee_count",
    "annual_revenue",
    "currency",
    "size_segment",
    "value_tier",
    "lifecycle_stage",
    "key_account",
    "owner_id",
    "tags",
    "custom_fields",
    "purchase_count",
    "lifetime_revenue",
    "last_purchase_at",
    "last_interaction_at",
    "created_at",
    "updated_at",
];

/// The accounts a query matches, as CSV or NDJSON. Accounts hold no
/// personal data, so nothing is masked.
pub struct Export {
    pub db: Db,
    pub query: AccountQuery,
    pub sort: Sort,
    pub format: ExportFormat,
}

impl Pages for Export {
    type Row = AccountRow;

    async fn page(
        &self,
        after: Option<KeysetCursor>,
        limit: i64,
    ) -> Result<Vec<AccountRow>, ApiError> {
        repo::list(&self.db, &self.query, &self.sort, after, limit).await
    }

    fn key(&self, row: &AccountRow) -> KeysetCursor {
        sort_key(&self.sort, &self.query, row)
    }

    fn render(&self, rows: &[AccountRow], first: bool) -> Vec<u8> {
        let accounts = rows.iter().map(|r| r.clone().into_account());
        match self.format {
            ExportFormat::Ndjson => export::ndjson(accounts),
            ExportFormat::Csv => {
                let text = |v: &Option<String>| v.clone().unwrap_or_default();
                let number = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
                let id = |v: Option<Uuid>| v.map(|v| v.to_string()).unwrap_or_default();
                let time = |v: Option<chrono::DateTime<chrono::Utc>>| {
                    v.map(|t| t.to_rfc3339()).unwrap_or_default()
                };
                let choice = |v: Option<&str>| v.unwrap_or_default().to_string();
                let records = accounts.map(|a| {
                    [
                        a.id.to_string(),
                        a.name.clone(),
                        text(&a.domain),
                        text(&a.industry),
                        text(&a.country),
                        text(&a.region),
                        number(a.employee_count),
                        number(a.annual_revenue),
                        text(&a.currency),
                        choice(a.size_segment.map(|v| v.as_str())),
                        choice(a.value_tier.map(|v| v.as_str())),
                        choice(a.lifecycle_stage.map(|v| v.as_str())),
                        a.key_account.to_string(),
                        id(a.owner_id),
                        a.tags.join(";"),
                        if a.custom_fields.is_empty() {
                            String::new()
                        } else {
                            Value::Object(a.custom_fields.clone()).to_string()
                        },
                        a.history.purchase_count.to_string(),
                        if a.history.lifetime_revenue.is_empty() {
                            String::new()
                        } else {
                            serde_json::to_string(&a.history.lifetime_revenue)
                                .expect("a map of numbers serializes")
                        },
                        time(a.history.last_purchase_at),
                        time(a.history.last_interaction_at),
                        a.created_at.to_rfc3339(),
                        a.updated_at.to_rfc3339(),
                    ]
                });
                export::csv(first.then_some(CSV_HEADER), records)
            }
        }
    }
}
