//! What every account and contact record shows of the customer's activity:
//! purchases, the last interaction and the next task, kept in the
//! transactions that change them.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::types::Json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    db::{
        Tx,
        records::{Bind, Record},
    },
    http::ApiError,
    on_tx,
};

#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct ActivityRow {
    pub first_purchase_at: Option<DateTime<Utc>>,
    pub last_purchase_at: Option<DateTime<Utc>>,
    pub purchase_count: i64,
    pub lifetime_revenue: Json<BTreeMap<String, i64>>,
    pub last_interaction_at: Option<DateTime<Utc>>,
    pub next_task_due_at: Option<DateTime<Utc>>,
}

/// What the customer bought, when they were last in touch and what is due
/// next: kept by the server in the transaction of each purchase, refund,
/// interaction and task. These fields change without changing `version`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CustomerActivity {
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
    /// The deadline of the earliest open task about the customer.
    pub next_task_due_at: Option<DateTime<Utc>>,
}

impl From<ActivityRow> for CustomerActivity {
    fn from(row: ActivityRow) -> Self {
        CustomerActivity {
            first_purchase_at: row.first_purchase_at,
            last_purchase_at: row.last_purchase_at,
            purchase_count: row.purchase_count,
            lifetime_revenue: row.lifetime_revenue.0,
            last_interaction_at: row.last_interaction_at,
            next_task_due_at: row.next_task_due_at,
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
/// forward to it, when it is their latest; kept rows, written with the
/// transaction's next statement or its commit (see `db::records`).
pub fn note_interaction(
    tx: &mut Tx,
    account_id: Option<Uuid>,
    contact_id: Option<Uuid>,
    at: DateTime<Utc>,
) {
    for (table, _, id) in (Parties {
        account_id,
        contact_id,
    })
    .each()
    {
        tx.append(Record::new(
            format!(
                "UPDATE {table} SET last_interaction_at = $2
                 WHERE id = $1 AND (last_interaction_at IS NULL OR last_interaction_at < $2)"
            ),
            vec![Bind::Uuid(id), Bind::Time(at)],
        ));
    }
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

/// Recomputes `next_task_due_at` of these accounts and contacts (after a
/// task was created, changed, closed, moved or deleted, or a merge).
pub async fn refresh_next_task(tx: &mut Tx, parties: &[Parties]) -> Result<(), ApiError> {
    for (table, column, id) in parties.iter().flat_map(|p| p.each()) {
        let sql = format!(
            "UPDATE {table} SET next_task_due_at =
                (SELECT MIN(due_at) FROM tasks WHERE {column} = $1 AND status = 'open') WHERE id = $1"
        );
        on_tx!(&mut *tx, c => sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id)
            .execute(&mut **c).await.map(|r| r.rows_affected()))?;
    }
    Ok(())
}
