//! Transactions' SQL, and the purchase history they keep on accounts and
//! contacts (in the same database transaction as the money).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::events::CREATED;
use super::model::{COLUMNS, TransactionFields, TransactionKind, TransactionRow};
use crate::{
    audit::{self, Actor, Change},
    db::{
        Db, Tx, is_unique_violation, new_id, now,
        refs::References,
        sql::{self, Arg, Filters},
    },
    dialect, events,
    http::{
        ApiError, FieldError,
        pagination::{KeysetCursor, Sort, SortKind},
    },
    insights::activity,
    loyalty::repo::purchases::{self, Money},
    on_db, on_tx,
};

/// A stored transaction, and whether it was stored by an earlier post.
pub struct Posted {
    pub row: TransactionRow,
    pub replayed: bool,
}

/// Stores a transaction; a post with an `external_id` already stored gives
/// the stored transaction when its body is the same (else 409).
pub async fn post(db: &Db, actor: &Actor, f: &TransactionFields) -> Result<Posted, ApiError> {
    // A second attempt finds the row of the post that won a race.
    for _ in 0..2 {
        let mut tx = db.begin().await?;
        if let Some(posted) = record(&mut tx, actor, f).await? {
            if !posted.replayed {
                tx.commit().await?;
            }
            return Ok(posted);
        }
    }
    Err(ApiError::conflict(
        "Another post with this external_id is being stored right now: retry.",
    ))
}

/// The account the transaction is booked on: the given one, else the
/// contact's. Every bad reference is reported at once.
async fn resolve_account(tx: &mut Tx, f: &TransactionFields) -> Result<Option<Uuid>, ApiError> {
    let mut refs = References::new();
    refs.account(tx, "account_id", f.account_id).await?;
    let contact_account = refs.contact(tx, "contact_id", f.contact_id).await?;
    let account = match (f.account_id, contact_account) {
        (Some(given), Some(of_contact)) if of_contact != Some(given) => {
            refs.also(FieldError::new(
                "contact_id",
                "other_account",
                format!("the contact does not belong to the account {given}"),
            ));
            Some(given)
        }
        (Some(given), _) => Some(given),
        (None, Some(of_contact)) => of_contact,
        (None, None) => None,
    };
    refs.engagement(tx, "engagement_id", f.engagement_id, account)
        .await?;
    refs.finish()?;
    Ok(account)
}

/// Records a transaction inside the caller's database transaction (which
/// commits it). Every rule is checked before the first write, so an error
/// leaves nothing behind even when the caller goes on (an import). `None`
/// when another post with the same `external_id` committed first: nothing
/// was written, and the caller's transaction must be rolled back.
pub async fn record(
    tx: &mut Tx,
    actor: &Actor,
    f: &TransactionFields,
) -> Result<Option<Posted>, ApiError> {
    let account_id = resolve_account(tx, f).await?;
    let Some(scope) = account_id.or(f.contact_id) else {
        return Err(ApiError::internal(
            "a checked transaction has neither account nor contact",
        ));
    };
    if let Some(external_id) = &f.external_id {
        let existing: Option<TransactionRow> = on_tx!(&mut *tx, c => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM transactions WHERE idempotency_scope = $1 AND external_id = $2"
        ))).bind(scope).bind(external_id).fetch_optional(&mut **c).await)?;
        if let Some(row) = existing {
            if row.request_hash == f.request_hash {
                return Ok(Some(Posted {
                    row,
                    replayed: true,
                }));
            }
            return Err(ApiError::conflict(format!(
                "A different transaction with the external_id {external_id:?} is already stored for this \
                 customer: nothing was written. Correct a stored transaction with a refund, not a new post."
            ))
            .with("transaction_id", row.id));
        }
    }
    let money = match (f.award_points, f.contact_id) {
        (true, Some(contact_id)) => Some(Money {
            contact_id,
            transaction_id: new_id(),
            amount: f.amount,
            currency: f.currency.as_str(),
            refund: f.kind == TransactionKind::Refund,
            actor,
        }),
        _ => None,
    };
    if let Some(money) = &money {
        purchases::check(tx, money).await?;
    }
    let id = money.as_ref().map_or_else(new_id, |m| m.transaction_id);
    let inserted = on_tx!(&mut *tx, c => sqlx::query_as::<_, TransactionRow>(sqlx::AssertSqlSafe(format!(
        "INSERT INTO transactions (id, kind, account_id, contact_id, engagement_id, amount, currency, occurred_at,
            description, external_id, idempotency_scope, request_hash, award_points, points, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, NULL, $14, $15) RETURNING {COLUMNS}"
    ))).bind(id).bind(f.kind).bind(account_id).bind(f.contact_id).bind(f.engagement_id).bind(f.amount)
       .bind(&f.currency).bind(f.occurred_at).bind(&f.description).bind(&f.external_id).bind(scope)
       .bind(&f.request_hash).bind(f.award_points).bind(actor.user_id()).bind(now())
       .fetch_one(&mut **c).await);
    let mut row = match inserted {
        Ok(row) => row,
        Err(e) if is_unique_violation(&e) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    if let Some(money) = &money {
        let points = purchases::for_transaction(tx, money).await?;
        on_tx!(&mut *tx, c => sqlx::query("UPDATE transactions SET points = $1 WHERE id = $2")
            .bind(points).bind(id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        row.points = Some(points);
    }
    add_to_history(tx, &row).await?;
    let transaction = row.clone().into_transaction();
    audit::record(
        tx,
        actor,
        "create",
        "transaction",
        id,
        Change::created(&transaction),
    )
    .await?;
    events::record(tx, actor, &CREATED, row.contact_id, &transaction).await?;
    Ok(Some(Posted {
        row,
        replayed: false,
    }))
}

/// Adds one transaction to its account's and contact's purchase history:
/// per owner, the net revenue in its currency, then one update of the
/// record's history columns.
async fn add_to_history(tx: &mut Tx, row: &TransactionRow) -> Result<(), ApiError> {
    let net = match row.kind {
        TransactionKind::Purchase => row.amount,
        TransactionKind::Refund => -row.amount,
    };
    let purchase = i64::from(row.kind == TransactionKind::Purchase);
    for (table, revenue, owner_column, owner) in [
        ("accounts", "account_revenue", "account_id", row.account_id),
        ("contacts", "contact_revenue", "contact_id", row.contact_id),
    ] {
        let Some(owner) = owner else { continue };
        let sql = format!(
            "INSERT INTO {revenue} ({owner_column}, currency, amount) VALUES ($1, $2, $3)
             ON CONFLICT ({owner_column}, currency) DO UPDATE SET amount = {revenue}.amount + excluded.amount"
        );
        on_tx!(&mut *tx, c => sqlx::query(sqlx::AssertSqlSafe(sql)).bind(owner).bind(&row.currency).bind(net)
            .execute(&mut **c).await.map(|r| r.rows_affected()))?;
        // $3 is 1 for a purchase: only purchases move the purchase dates and count.
        let totals = revenue_object(tx, revenue, owner_column);
        let sql = format!(
            "UPDATE {table} SET purchase_count = purchase_count + $3,
                first_purchase_at = CASE WHEN $3 = 1 AND (first_purchase_at IS NULL OR first_purchase_at > $2)
                                    THEN $2 ELSE first_purchase_at END,
                last_purchase_at = CASE WHEN $3 = 1 AND (last_purchase_at IS NULL OR last_purchase_at < $2)
                                   THEN $2 ELSE last_purchase_at END,
                lifetime_revenue = {totals}
             WHERE id = $1"
        );
        on_tx!(&mut *tx, c => sqlx::query(sqlx::AssertSqlSafe(sql)).bind(owner).bind(row.occurred_at)
            .bind(purchase).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    }
    // After the account's row is locked by its update above.
    if let Some(account_id) = row.account_id {
        activity::add_transaction(
            tx,
            account_id,
            purchase == 1,
            &row.currency,
            net,
            row.occurred_at,
        )
        .await?;
    }
    Ok(())
}

/// SQL for an owner's (`$1`) revenue rows as one JSON object, `{"EUR": 1200}`.
fn revenue_object(tx: &Tx, revenue: &str, owner_column: &str) -> String {
    let aggregate = dialect!(tx, sqlite: "json_group_object(currency, amount)", postgres: "jsonb_object_agg(currency, amount)");
    format!("COALESCE((SELECT {aggregate} FROM {revenue} WHERE {owner_column} = $1), '{{}}')")
}

/// Recomputes a contact's purchase history from its transactions (after a merge).
pub async fn recompute_contact_history(tx: &mut Tx, contact_id: Uuid) -> Result<(), ApiError> {
    on_tx!(&mut *tx, c => sqlx::query(
        "UPDATE contacts SET
            purchase_count = (SELECT COUNT(*) FROM transactions WHERE contact_id = $1 AND kind = 'purchase'),
            first_purchase_at = (SELECT MIN(occurred_at) FROM transactions WHERE contact_id = $1 AND kind = 'purchase'),
            last_purchase_at = (SELECT MAX(occurred_at) FROM transactions WHERE contact_id = $1 AND kind = 'purchase')
         WHERE id = $1"
    ).bind(contact_id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    on_tx!(&mut *tx, c => sqlx::query("DELETE FROM contact_revenue WHERE contact_id = $1")
        .bind(contact_id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    on_tx!(&mut *tx, c => sqlx::query(
        "INSERT INTO contact_revenue (contact_id, currency, amount)
         SELECT contact_id, currency, CAST(SUM(CASE WHEN kind = 'purchase' THEN amount ELSE -amount END) AS BIGINT)
         FROM transactions WHERE contact_id = $1 GROUP BY contact_id, currency"
    ).bind(contact_id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    let totals = revenue_object(tx, "contact_revenue", "contact_id");
    let sql = format!("UPDATE contacts SET lifetime_revenue = {totals} WHERE id = $1");
    on_tx!(&mut *tx, c => sqlx::query(sqlx::AssertSqlSafe(sql)).bind(contact_id)
        .execute(&mut **c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn get(db: &Db, id: Uuid) -> Result<TransactionRow, ApiError> {
    let row: Option<TransactionRow> = on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM transactions WHERE id = $1"
    ))).bind(id).fetch_optional(pool).await)?;
    row.ok_or_else(|| ApiError::not_found("transaction", id))
}

/// `-occurred_at` (newest first, the default) or `occurred_at`.
pub const SORTS: [(&str, &str, SortKind); 1] = [("occurred_at", "t.occurred_at", SortKind::Time)];
pub const DEFAULT_SORT: &str = "-occurred_at";

/// Filters for the transaction list, already validated.
#[derive(Default)]
pub struct TransactionQuery {
    pub account_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub engagement_id: Option<Uuid>,
    pub kind: Option<TransactionKind>,
    pub currency: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

fn filters(q: &TransactionQuery) -> Filters {
    let mut f = Filters::new();
    if let Some(v) = q.account_id {
        f.when("t.account_id = {}", Arg::Uuid(v));
    }
    if let Some(v) = q.contact_id {
        f.when("t.contact_id = {}", Arg::Uuid(v));
    }
    if let Some(v) = q.engagement_id {
        f.when("t.engagement_id = {}", Arg::Uuid(v));
    }
    if let Some(v) = q.kind {
        f.when("t.kind = {}", Arg::Text(v.as_str().into()));
    }
    if let Some(v) = &q.currency {
        f.when("t.currency = {}", Arg::Text(v.trim().to_ascii_uppercase()));
    }
    if let Some(v) = q.from {
        f.when("t.occurred_at >= {}", Arg::Time(v));
    }
    if let Some(v) = q.to {
        f.when("t.occurred_at < {}", Arg::Time(v));
    }
    f
}

pub async fn list(
    db: &Db,
    q: &TransactionQuery,
    sort: &Sort,
    cursor: Option<KeysetCursor>,
    limit: i64,
) -> Result<Vec<TransactionRow>, ApiError> {
    let select = format!(
        "SELECT {} FROM transactions t",
        crate::accounts::repo::prefixed(COLUMNS, "t")
    );
    sql::keyset_page(db, &select, filters(q), sort, cursor, "t.id", limit).await
}

pub async fn count(db: &Db, q: &TransactionQuery) -> Result<i64, ApiError> {
    sql::count(db, "FROM transactions t", &filters(q)).await
}
