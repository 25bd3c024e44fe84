//! The purchase history kept on every account and contact.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::types::Json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{db::Tx, http::ApiError, on_tx};

#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct HistoryRow {
    pub first_purchase_at: Option<DateTime<Utc>>,
    pub last_purchase_at: Option<DateTime<Utc>>,
    pub purchase_count: i64,
    pub lifetime_revenue: Json<BTreeMap<String, i64>>,
    pub last_interaction_at: Option<DateTime<Utc>>,
}

/// What the customer bought, and when they were last in touch: kept by the
/// server in the transaction of each purchase, refund and interaction. These
/// fields change without changing `version`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PurchaseHistory {
    /// The earliest `purchase`.
    pub first_purchase_at: Option<DateTime<Utc>>,
    /// The latest `purchase`.
    pub last_purchase_at: Option<DateTime<Utc>>,
    /// Purchases recorded (refunds do not subtract).
    pub purchase_count: i64,
    /// Purchases minus refunds, in minor units, per currency: `{"EUR": 1200000}`. Currencies are never converted.
    #[schema(value_type = Object, additional_properties = true, example = json!({"EUR": 1200000}))]
    pub lifetime_revenue: BTreeMap<String, i64>,
    /// The latest interaction.
    pub last_interaction_at: Option<DateTime<Utc>>,
}

impl From<HistoryRow> for PurchaseHistory {
    fn from(row: HistoryRow) -> Self {
        PurchaseHistory {
            first_purchase_at: row.first_purchase_at,
            last_purchase_at: row.last_purchase_at,
            purchase_count: row.purchase_count,
            lifetime_revenue: row.lifetime_revenue.0,
            last_interaction_at: row.last_interaction_at,
        }
    }
}

/// The account and contact a record is about.
#[derive(Clone, Copy, Debug)]
pub struct Parties {
    pub account_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
}

impl Parties {
    fn each(self) -> impl Iterator<Item = (&'static str, &'static str, Uuid)> {
        [
            ("accounts", "account_id", self.account_id),
            ("contacts", "contact_id", self.contact_id),
        ]
        .into_iter()
        .filter_map(|(table, column, id)| id.map(|id| (table, column, id)))
    }
}

/// Moves `last_interaction_at` of an interaction's account and contact
/// forward to it, when it is their latest.
pub async fn note_interaction(
    tx: &mut Tx,
    account_id: Option<Uuid>,
    contact_id: Option<Uuid>,
    at: DateTime<Utc>,
) -> Result<(), ApiError> {
    for (table, _, id) in (Parties {
        account_id,
        contact_id,
    })
    .each()
    {
        let sql = format!(
            "UPDATE {table} SET last_interaction_at = $2
             WHERE id = $1 AND (last_interaction_at IS NULL OR last_interaction_at < $2)"
        );
        on_tx!(&mut *tx, c => sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).bind(at)
            .execute(&mut **c).await.map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// Recomputes `last_interaction_at` of these accounts and contacts (after an
/// interaction changed, moved or was deleted, or a merge).
pub async fn refresh_last_interaction(tx: &mut Tx, parties: &[Parties]) -> Result<(), ApiError> {
    for (table, column, id) in parties.iter().flat_map(|p| p.each()) {
        let sql = format!(
            "UPDATE {table} SET last_interaction_at =
                (SELECT MAX(occurred_at) FROM interactions WHERE {column} = $1) WHERE id = $1"
        );
        on_tx!(&mut *tx, c => sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id)
            .execute(&mut **c).await.map(|r| r.rows_affected()))?;
    }
    Ok(())
}
