//! The totals and spells of migration 0020, kept with each transaction and
//! built from the transactions when missing or out of date.

use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

use super::{Spell, Unit, merged, spells};
use crate::{
    db::{Db, Tx},
    dialect,
    http::ApiError,
    insights::settings,
    on_db, on_tx,
};

/// The activity window the spells were built with, `None` before they are
/// built. On PostgreSQL the row is key-share locked: a change of the window
/// (which locks the table) waits for the writes that read the old one.
async fn built_window(tx: &mut Tx) -> Result<Option<i64>, ApiError> {
    let sql = dialect!(tx,
        sqlite: "SELECT window_days FROM account_activity_built WHERE id = 1",
        postgres: "SELECT window_days FROM account_activity_built WHERE id = 1 FOR KEY SHARE",
    );
    Ok(on_tx!(tx, c => sqlx::query_scalar(sql).fetch_optional(&mut **c).await)?)
}

/// One transaction of `account_id`, added to its totals and, for a purchase,
/// to its spells. Call it after the account's row is locked for the write
/// (the purchase history's update), so writers of one account take turns.
pub async fn add_transaction(
    tx: &mut Tx,
    account_id: Uuid,
    purchase: bool,
    currency: &str,
    net_amount: i64,
    occurred_at: DateTime<Utc>,
) -> Result<(), ApiError> {
    // Before the first build the build will count it.
    let Some(window_days) = built_window(tx).await? else {
        return Ok(());
    };
    let keys = Unit::LARGEST_FIRST.map(|unit| (unit, unit.key(occurred_at)));
    let purchases = i64::from(purchase);
    let updated: Vec<String> = on_tx!(tx, c => sqlx::query_scalar(
        "UPDATE account_transaction_totals
         SET purchases = purchases + $3, transactions = transactions + 1, net_amount = net_amount + $4
         WHERE account_id = $1 AND currency = $2 AND (
            (period_unit = 'year' AND period_key = $5) OR (period_unit = 'quarter' AND period_key = $6)
            OR (period_unit = 'month' AND period_key = $7))
         RETURNING period_unit"
    ).bind(account_id).bind(currency).bind(purchases).bind(net_amount)
     .bind(keys[0].1).bind(keys[1].1).bind(keys[2].1).fetch_all(&mut **c).await)?;
    // The units the account had no row of yet, in one statement.
    let missing: Vec<(Unit, i64)> = keys
        .into_iter()
        .filter(|(unit, _)| !updated.iter().any(|name| name == unit.name()))
        .collect();
    if !missing.is_empty() {
        let values: Vec<String> = (0..missing.len())
            .map(|i| format!("(${}, ${}, $1, $2, $3, 1, $4)", 5 + 2 * i, 6 + 2 * i))
            .collect();
        let sql = format!(
            "INSERT INTO account_transaction_totals
                (period_unit, period_key, account_id, currency, purchases, transactions, net_amount)
             VALUES {}",
            values.join(", ")
        );
        on_tx!(tx, c => {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .bind(account_id).bind(currency).bind(purchases).bind(net_amount);
            for (unit, key) in &missing {
                query = query.bind(unit.name()).bind(*key);
            }
            query.execute(&mut **c).await.map(|r| r.rows_affected())
        })?;
    }
    if purchase {
        add_purchase_to_spells(tx, account_id, occurred_at, TimeDelta::days(window_days)).await?;
    }
    Ok(())
}

async fn add_purchase_to_spells(
    tx: &mut Tx,
    account_id: Uuid,
    at: DateTime<Utc>,
    window: TimeDelta,
) -> Result<(), ApiError> {
    // The condition of `Spell::meets`.
    const MEETING: &str = "account_id = $1 AND starts_at <= $2 AND last_purchase_at >= $3";
    let (latest_start, earliest_last) = (at + window, at - window);
    let meeting: Vec<Spell> = on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT starts_at, last_purchase_at FROM account_activity_spells WHERE {MEETING}"
    ))).bind(account_id).bind(latest_start).bind(earliest_last).fetch_all(&mut **c).await)?;
    let spell = merged(&meeting, at);
    if meeting.contains(&spell) {
        return Ok(());
    }
    if !meeting.is_empty() {
        on_tx!(tx, c => sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM account_activity_spells WHERE {MEETING}"
        ))).bind(account_id).bind(latest_start).bind(earliest_last)
           .execute(&mut **c).await.map(|r| r.rows_affected()))?;
    }
    insert_spells(tx, &[(account_id, spell)]).await
}

async fn insert_spells(tx: &mut Tx, spells: &[(Uuid, Spell)]) -> Result<(), ApiError> {
    // Three parameters a row, well under either engine's limit per statement.
    for chunk in spells.chunks(1_000) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| format!("(${}, ${}, ${})", 3 * i + 1, 3 * i + 2, 3 * i + 3))
            .collect();
        let sql = format!(
            "INSERT INTO account_activity_spells (account_id, starts_at, last_purchase_at) VALUES {}",
            values.join(", ")
        );
        on_tx!(tx, c => {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
            for (account_id, spell) in chunk {
                query = query.bind(*account_id).bind(spell.starts_at).bind(spell.last_purchase_at);
            }
            query.execute(&mut **c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}

/// Builds what is missing or out of date: everything on a database that has
/// never built it (or whose builder row was removed after rows were written
/// by SQL), the spells alone when the activity window changed. Run once the
/// database is migrated, before the server serves.
pub async fn build_if_needed(db: &Db) -> Result<(), ApiError> {
    let window_days = settings::load(db).await?.activity_window_days;
    // Most starts find the tables built: a read, with no lock that writes would wait for.
    let built: Option<i64> = on_db!(db, pool => sqlx::query_scalar(
        "SELECT window_days FROM account_activity_built WHERE id = 1"
    ).fetch_optional(pool).await)?;
    if built == Some(window_days) {
        return Ok(());
    }
    let mut tx = db.begin().await?;
    lock(&mut tx).await?;
    match built_window(&mut tx).await? {
        Some(built) if built == window_days => return Ok(()),
        Some(_) => rebuild_spells(&mut tx, window_days).await?,
        None => {
            build_totals(&mut tx).await?;
            rebuild_spells(&mut tx, window_days).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Rebuilds the spells with a new activity window, in the transaction that
/// saves it.
pub async fn change_window(tx: &mut Tx, window_days: i64) -> Result<(), ApiError> {
    lock(tx).await?;
    if built_window(tx).await?.is_some() {
        rebuild_spells(tx, window_days).await?;
    }
    Ok(())
}

/// On PostgreSQL, one builder at a time (nodes starting together), and no
/// write reads the window while it changes.
async fn lock(tx: &mut Tx) -> Result<(), ApiError> {
    if !tx.is_sqlite() {
        on_tx!(tx, c => sqlx::query("LOCK TABLE account_activity_built IN EXCLUSIVE MODE")
            .execute(&mut **c).await.map(|r| r.rows_affected()))?;
    }
    Ok(())
}

async fn build_totals(tx: &mut Tx) -> Result<(), ApiError> {
    // The month key of `t.occurred_at`; quarters and years are added up from the months.
    let month = dialect!(tx,
        sqlite: "(CAST(strftime('%Y', t.occurred_at) AS INTEGER) * 12 + CAST(strftime('%m', t.occurred_at) AS INTEGER) - 1)",
        postgres: "(CAST(EXTRACT(YEAR FROM t.occurred_at AT TIME ZONE 'UTC') AS BIGINT) * 12
                    + CAST(EXTRACT(MONTH FROM t.occurred_at AT TIME ZONE 'UTC') AS BIGINT) - 1)",
    );
    let statements = [
        "DELETE FROM account_transaction_totals".to_string(),
        format!(
            "INSERT INTO account_transaction_totals
                (period_unit, period_key, account_id, currency, purchases, transactions, net_amount)
             SELECT 'month', {month}, t.account_id, t.currency,
                SUM(CASE WHEN t.kind = 'purchase' THEN 1 ELSE 0 END), COUNT(*),
                SUM(CASE WHEN t.kind = 'purchase' THEN t.amount ELSE -t.amount END)
             FROM transactions t WHERE t.account_id IS NOT NULL
             GROUP BY {month}, t.account_id, t.currency"
        ),
    ];
    let coarser = [("quarter", 3), ("year", 12)].map(|(unit, months)| {
        format!(
            "INSERT INTO account_transaction_totals
                (period_unit, period_key, account_id, currency, purchases, transactions, net_amount)
             SELECT '{unit}', period_key / {months}, account_id, currency, SUM(purchases), SUM(transactions),
                SUM(net_amount)
             FROM account_transaction_totals WHERE period_unit = 'month'
             GROUP BY period_key / {months}, account_id, currency"
        )
    });
    for sql in statements.into_iter().chain(coarser) {
        on_tx!(tx, c => sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    }
    Ok(())
}

async fn rebuild_spells(tx: &mut Tx, window_days: i64) -> Result<(), ApiError> {
    let window = TimeDelta::days(window_days);
    on_tx!(tx, c => sqlx::query("DELETE FROM account_activity_spells")
        .execute(&mut **c).await.map(|r| r.rows_affected()))?;
    // The purchases in account order, a page at a time; an account's spells are written once its last
    // purchase is read.
    const PAGE: i64 = 50_000;
    let mut after: Option<(Uuid, DateTime<Utc>, Uuid)> = None;
    let mut current: Option<(Uuid, Vec<DateTime<Utc>>)> = None;
    loop {
        let page: Vec<(Uuid, DateTime<Utc>, Uuid)> = match after {
            None => on_tx!(tx, c => sqlx::query_as(
                "SELECT account_id, occurred_at, id FROM transactions
                 WHERE account_id IS NOT NULL AND kind = 'purchase'
                 ORDER BY account_id, occurred_at, id LIMIT $1"
            ).bind(PAGE).fetch_all(&mut **c).await)?,
            Some((account, at, id)) => on_tx!(tx, c => sqlx::query_as(
                "SELECT account_id, occurred_at, id FROM transactions
                 WHERE account_id IS NOT NULL AND kind = 'purchase' AND (account_id, occurred_at, id) > ($2, $3, $4)
                 ORDER BY account_id, occurred_at, id LIMIT $1"
            ).bind(PAGE).bind(account).bind(at).bind(id).fetch_all(&mut **c).await)?,
        };
        let mut finished: Vec<(Uuid, Spell)> = vec![];
        for &(account, at, _) in &page {
            match &mut current {
                Some((id, times)) if *id == account => times.push(at),
                _ => {
                    if let Some((id, times)) = current.replace((account, vec![at])) {
                        finished.extend(spells(&times, window).into_iter().map(|s| (id, s)));
                    }
                }
            }
        }
        insert_spells(tx, &finished).await?;
        if (page.len() as i64) < PAGE {
            break;
        }
        after = page.last().copied();
    }
    if let Some((id, times)) = current {
        let last: Vec<(Uuid, Spell)> = spells(&times, window)
            .into_iter()
            .map(|s| (id, s))
            .collect();
        insert_spells(tx, &last).await?;
    }
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO account_activity_built (id, window_days) VALUES (1, $1)
         ON CONFLICT (id) DO UPDATE SET window_days = excluded.window_days"
    ).bind(window_days).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    Ok(())
}
