//! The SQL behind `GET /v1/metrics/loyalty`: every figure is aggregated by the
//! database; only totals and one row per tier come back.

use chrono::{DateTime, Utc};

use crate::{db::Db, http::ApiError, on_db};

/// A member at `$1` (the period's end): enrolled by then, not merged into another membership.
const MEMBER_AT: &str = "m.merged_into IS NULL AND m.enrolled_at <= $1";

#[derive(Debug, sqlx::FromRow)]
pub struct Participation {
    pub members: i64,
    pub contacts: i64,
    pub member_contacts: i64,
}

/// Members at `at`, and the contacts of accounts active at `at` (a purchase in `(active_since, at]`) with how
/// many of them are members then.
pub async fn participation(
    db: &Db,
    at: DateTime<Utc>,
    active_since: DateTime<Utc>,
) -> Result<Participation, ApiError> {
    let sql = format!(
        "SELECT
            (SELECT COUNT(*) FROM loyalty_members m WHERE {MEMBER_AT}) AS members,
            COUNT(c.id) AS contacts,
            COALESCE(SUM(CASE WHEN EXISTS (
                SELECT 1 FROM loyalty_members m WHERE m.contact_id = c.id AND {MEMBER_AT}
            ) THEN 1 ELSE 0 END), 0) AS member_contacts
         FROM contacts c
         JOIN accounts a ON a.id = c.account_id AND a.deleted_at IS NULL
         WHERE c.deleted_at IS NULL AND c.created_at <= $1
           AND EXISTS (SELECT 1 FROM transactions t WHERE t.account_id = a.id AND t.kind = 'purchase'
                       AND t.occurred_at > $2 AND t.occurred_at <= $1)"
    );
    Ok(on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(at).bind(active_since).fetch_one(pool).await)?)
}

#[derive(Debug, sqlx::FromRow)]
pub struct LedgerTotals {
    pub issued: i64,
    pub redeemed: i64,
    pub expired: i64,
    pub adjusted: i64,
    pub active_members: i64,
}

/// The ledger entries written in `[$1, $2)`. A `reverse` entry counts under the kind of the entry it reverses
/// (its points have the opposite sign, so it lowers that figure). PostgreSQL sums BIGINT as NUMERIC: the sums are
/// cast back.
pub async fn ledger_totals(
    db: &Db,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<LedgerTotals, ApiError> {
    let sum = |kind: &str, sign: &str| {
        format!(
            "CAST(COALESCE(SUM(CASE WHEN e.kind = '{kind}' OR (e.kind = 'reverse' AND o.kind = '{kind}') \
             THEN {sign}e.points ELSE 0 END), 0) AS BIGINT)"
        )
    };
    let sql = format!(
        "SELECT {} AS issued, {} AS redeemed, {} AS expired, {} AS adjusted,
                COUNT(DISTINCT m.contact_id) AS active_members
         FROM loyalty_ledger e
         JOIN loyalty_members m ON m.id = e.member_id
         LEFT JOIN loyalty_ledger o ON o.id = e.reverses_id
         WHERE e.created_at >= $1 AND e.created_at < $2",
        sum("earn", ""),
        sum("redeem", "-"),
        sum("expire", "-"),
        sum("adjust", ""),
    );
    Ok(on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(from).bind(to).fetch_one(pool).await)?)
}

/// Members at `at` per tier: the last tier change recorded by then (the current tier when none is).
pub async fn members_by_tier(db: &Db, at: DateTime<Utc>) -> Result<Vec<(String, i64)>, ApiError> {
    let sql = format!(
        "SELECT tier, COUNT(*) AS members FROM (
            SELECT COALESCE((SELECT t.to_tier FROM loyalty_tier_changes t
                             WHERE t.member_id = m.id AND t.occurred_at <= $1
                             ORDER BY t.occurred_at DESC, t.id DESC LIMIT 1), m.tier) AS tier
            FROM loyalty_members m WHERE {MEMBER_AT}
         ) x
         GROUP BY tier ORDER BY tier"
    );
    Ok(on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(at).fetch_all(pool).await)?)
}
