//! What the transactions module does when a contact is merged, erased or
//! exported, and its branch of the timelines (registered in `crate::modules`).

use uuid::Uuid;

use super::{model::TransactionRow, repo};
use crate::{
    auth::Area,
    db::{Db, Tx},
    hooks::{ContactRecords, Hook, Section, SectionSchema, list_of, section},
    on_db, on_tx,
    timeline::sources::Source,
};

pub struct Transactions;

impl ContactRecords for Transactions {
    /// The survivor takes the duplicate's transactions (they stay on the
    /// account they were booked on) and their purchase history.
    fn reassign<'a>(&'a self, tx: &'a mut Tx, duplicate: Uuid, survivor: Uuid) -> Hook<'a> {
        Box::pin(async move {
            on_tx!(&mut *tx, c => sqlx::query("UPDATE transactions SET contact_id = $2 WHERE contact_id = $1")
                .bind(duplicate).bind(survivor).execute(&mut **c).await.map(|r| r.rows_affected()))?;
            // A contact with no account keys its external ids itself: the survivor's key them from now on,
            // except where the survivor already holds the same external id.
            on_tx!(&mut *tx, c => sqlx::query(
                "UPDATE transactions SET idempotency_scope = $2 WHERE idempotency_scope = $1 AND external_id NOT IN
                    (SELECT external_id FROM transactions WHERE idempotency_scope = $2 AND external_id IS NOT NULL)"
            ).bind(duplicate).bind(survivor).execute(&mut **c).await.map(|r| r.rows_affected()))?;
            repo::recompute_contact_history(tx, duplicate).await?;
            repo::recompute_contact_history(tx, survivor).await
        })
    }

    /// Amounts stay (the firm's revenue does not change); the free text goes.
    fn erase<'a>(&'a self, tx: &'a mut Tx, contact: Uuid) -> Hook<'a> {
        Box::pin(async move {
            on_tx!(tx, c => sqlx::query("UPDATE transactions SET description = NULL WHERE contact_id = $1")
                .bind(contact).execute(&mut **c).await.map(|r| r.rows_affected()))?;
            Ok(())
        })
    }

    fn export<'a>(&'a self, db: &'a Db, contact: Uuid) -> Hook<'a, Vec<Section>> {
        Box::pin(async move {
            let rows: Vec<TransactionRow> = on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {} FROM transactions WHERE contact_id = $1 ORDER BY occurred_at, id",
                super::model::COLUMNS
            ))).bind(contact).fetch_all(pool).await)?;
            let transactions: Vec<_> = rows
                .into_iter()
                .map(TransactionRow::into_transaction)
                .collect();
            Ok(vec![section("transactions", transactions)?])
        })
    }

    fn export_schema(&self) -> Vec<SectionSchema> {
        vec![SectionSchema {
            name: "transactions",
            schema: list_of(
                "Transaction",
                "The contact's purchases and refunds, oldest first.",
            ),
        }]
    }
}

pub const TIMELINE: Source = Source {
    kind: "transaction",
    area: Area::Transactions,
    select: "SELECT 'transaction' AS kind, t.id AS id, t.occurred_at AS occurred_at, CAST(NULL AS UUID) AS channel_id,
                    t.contact_id AS contact_id, t.account_id AS account_id, t.engagement_id AS engagement_id,
                    t.kind AS item_type,
                    COALESCE(SUBSTR(t.description, 1, 200), t.kind || ' of ' || t.amount || ' ' || t.currency || ' minor units')
                        AS summary
             FROM transactions t",
    occurred_at: "t.occurred_at",
    id: "t.id",
    contact_id: Some("t.contact_id"),
    account_id: Some("t.account_id"),
    engagement_id: Some("t.engagement_id"),
    in_account_timeline: true,
    link: |row| format!("/v1/transactions/{}", row.id),
};
