//! How soon PostgreSQL vacuums the tables the metrics read.
//!
//! The metrics read `feedback`, `interactions` and `transactions` from
//! indexes alone (migrations 0016, 0018, 0019), which PostgreSQL does only
//! while the visibility map marks the table's pages all-visible; a vacuum
//! marks them. By default autovacuum waits until a fifth of a table's rows
//! changed. The service-level job alone marked 18,000 of 1,000,000 feedback
//! items breached, which left 7 % of the pages unmarked, and the planner then
//! read the whole table instead of the index: satisfaction over a year took
//! 134 ms instead of 76–89, by account segment 240 instead of 161. At 1 %
//! (10,050 rows of a million) they were vacuumed within seconds of
//! autovacuum's next round, where the default waits for 200,050.
//!
//! The migrations are shared by both engines, and SQLite has no such setting,
//! so it is set here, at migration time, on PostgreSQL only. A table whose
//! threshold an operator has set already is left as it is.

use sqlx::PgPool;

/// The share of a table's rows changed (or inserted) before autovacuum runs.
const SCALE_FACTOR: &str = "0.01";

const TABLES: [&str; 5] = [
    "feedback",
    "interactions",
    "transactions",
    "account_transaction_totals",
    "account_activity_spells",
];

pub(super) async fn tune(pool: &PgPool) -> Result<(), sqlx::Error> {
    for table in TABLES {
        let set: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM pg_class c, unnest(COALESCE(c.reloptions, '{}')) AS o
                            WHERE c.oid = to_regclass($1) AND o LIKE 'autovacuum_vacuum_scale_factor=%')",
        )
        .bind(table)
        .fetch_one(pool)
        .await?;
        if !set {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "ALTER TABLE {table} SET (autovacuum_vacuum_scale_factor = {SCALE_FACTOR}, \
                 autovacuum_vacuum_insert_scale_factor = {SCALE_FACTOR}, \
                 autovacuum_analyze_scale_factor = {SCALE_FACTOR})"
            )))
            .execute(pool)
            .await?;
        }
    }
    Ok(())
}
