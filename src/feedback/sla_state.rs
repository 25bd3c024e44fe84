//! The SQL of an item's service-level state: the two moments it is built
//! from (when an item is breached, when it goes at risk), indexed by
//! migration 0015, and the state and its list filter read from them. The
//! rules behind the due times are in [`super::service_levels`].

use super::service_levels::SlaState;

/// The moment a workflow item of the table aliased `alias` is (or was)
/// breached, as an SQL expression: the earliest due time of a target that was
/// missed or is still running; NULL when every target was met. The item is
/// `breached` once `now` is past it. Indexed (`feedback_sla_breach`, migration
/// 0015): the index holds this exact text with no alias, so change both together.
pub fn sla_breach_at_sql(alias: &str) -> String {
    let a = column_prefix(alias);
    let first_open = format!(
        "({a}first_responded_at IS NULL OR {a}first_responded_at > {a}first_response_due_at)"
    );
    let resolution_open = format!(
        "({a}resolved_at > {a}resolution_due_at OR ({a}resolved_at IS NULL AND ({a}paused_at IS NULL OR {a}paused_at > {a}resolution_due_at)))"
    );
    format!(
        "(CASE WHEN {a}status IS NULL THEN NULL \
         WHEN {first_open} AND {resolution_open} THEN \
         CASE WHEN {a}first_response_due_at <= {a}resolution_due_at THEN {a}first_response_due_at ELSE {a}resolution_due_at END \
         WHEN {first_open} THEN {a}first_response_due_at \
         WHEN {resolution_open} THEN {a}resolution_due_at END)"
    )
}

/// The moment an unresolved workflow item of the table aliased `alias` goes
/// (or went) `at_risk`: the earliest risk time of a running target; NULL once
/// resolved. A paused resolution clock counts only if it was paused at risk.
/// Indexed (`feedback_sla_risk`, migration 0015) like [`sla_breach_at_sql`].
pub fn sla_risk_at_sql(alias: &str) -> String {
    let a = column_prefix(alias);
    let resolution_running =
        format!("({a}paused_at IS NULL OR {a}paused_at >= {a}resolution_risk_at)");
    format!(
        "(CASE WHEN {a}status IS NULL OR {a}resolved_at IS NOT NULL THEN NULL \
         WHEN {a}first_responded_at IS NULL AND {resolution_running} THEN \
         CASE WHEN {a}first_response_risk_at <= {a}resolution_risk_at THEN {a}first_response_risk_at ELSE {a}resolution_risk_at END \
         WHEN {a}first_responded_at IS NULL THEN {a}first_response_risk_at \
         WHEN {resolution_running} THEN {a}resolution_risk_at END)"
    )
}

fn column_prefix(alias: &str) -> String {
    if alias.is_empty() {
        String::new()
    } else {
        format!("{alias}.")
    }
}

/// The `sla_state` of a feedback row aliased `f`, as an SQL expression;
/// `now` is the placeholder of the current time. Items without a workflow
/// give NULL. Read from the two indexed moments, so the state filter is an
/// index range (see [`sla_state_condition`]).
pub fn sla_state_sql(now: &str) -> String {
    format!(
        "(CASE
            WHEN f.status IS NULL THEN NULL
            WHEN {breach} < {now} THEN 'breached'
            WHEN f.resolved_at IS NOT NULL THEN 'met'
            WHEN {risk} <= {now} THEN 'at_risk'
            ELSE 'on_track'
        END)",
        breach = sla_breach_at_sql("f"),
        risk = sla_risk_at_sql("f"),
    )
}

/// The condition "the row aliased `f` is in `state` at `now`", written so that
/// the database can read it from the moment indexes.
pub fn sla_state_condition(state: SlaState, now: &str) -> String {
    let breach = sla_breach_at_sql("f");
    let risk = sla_risk_at_sql("f");
    let not_breached = format!("({breach} IS NULL OR {breach} >= {now})");
    match state {
        SlaState::Breached => format!("{breach} < {now}"),
        SlaState::Met => {
            format!("f.status IS NOT NULL AND f.resolved_at IS NOT NULL AND {not_breached}")
        }
        SlaState::AtRisk => format!("{risk} <= {now} AND {not_breached}"),
        SlaState::OnTrack => format!(
            "f.status IS NOT NULL AND f.resolved_at IS NULL AND ({risk} IS NULL OR {risk} > {now}) AND {not_breached}"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn the_state_expression_binds_only_now() {
        let sql = sla_state_sql("$7");
        assert!(sql.contains("< $7 THEN 'breached'"));
        assert!(!sql.contains("$1"));
    }

    /// The planner uses an expression index only for the very same expression.
    #[test]
    fn the_migration_indexes_the_moments_the_queries_use() {
        let migration = include_str!("../../migrations/0015_sla_moments.sql");
        for expression in [sla_breach_at_sql(""), sla_risk_at_sql("")] {
            assert!(
                migration.contains(&expression),
                "migration 0015 should index exactly:\n{expression}"
            );
        }
    }

    /// The state as the service levels define it, straight from the due
    /// times (the formula before the moments were introduced).
    const DEFINITION: &str = "(CASE
        WHEN f.status IS NULL THEN NULL
        WHEN (f.first_responded_at IS NOT NULL AND f.first_responded_at > f.first_response_due_at)
          OR (f.first_responded_at IS NULL AND n.now > f.first_response_due_at)
          OR (f.resolved_at IS NOT NULL AND f.resolved_at > f.resolution_due_at)
          OR (f.resolved_at IS NULL AND COALESCE(f.paused_at, n.now) > f.resolution_due_at) THEN 'breached'
        WHEN f.resolved_at IS NOT NULL THEN 'met'
        WHEN (f.first_responded_at IS NULL AND n.now >= f.first_response_risk_at)
          OR COALESCE(f.paused_at, n.now) >= f.resolution_risk_at THEN 'at_risk'
        ELSE 'on_track'
    END)";

    /// Every combination of four moments for each due time and none-or-four
    /// for each event, read at every moment after the events: the state from
    /// the moments and each state's filter agree with the definition.
    #[tokio::test]
    async fn the_moments_give_the_defined_state_for_every_combination() {
        let pool = sqlx::SqlitePool::connect("sqlite::memory:").await.unwrap();
        let grid = "WITH t(v) AS (VALUES (1), (2), (3), (4)),
                         e(v) AS (VALUES (NULL), (1), (2), (3), (4)),
                         s(v) AS (VALUES (NULL), ('new')),
                         n(now) AS (VALUES (1), (2), (3), (4), (5)),
                         f AS (SELECT s.v AS status, e1.v AS first_responded_at, t1.v AS first_response_due_at,
                                      t2.v AS first_response_risk_at, e2.v AS resolved_at, t3.v AS resolution_due_at,
                                      t4.v AS resolution_risk_at, e3.v AS paused_at
                               FROM s, e e1, t t1, t t2, e e2, t t3, t t4, e e3)
                    SELECT COUNT(*) FROM f, n
                    WHERE COALESCE(f.first_responded_at, 0) <= n.now AND COALESCE(f.resolved_at, 0) <= n.now
                      AND COALESCE(f.paused_at, 0) <= n.now AND ";
        let count = |condition: String| {
            let pool = pool.clone();
            async move {
                let sql = format!("{grid} {condition}");
                sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql))
                    .fetch_one(&pool)
                    .await
                    .unwrap()
            }
        };
        let state = sla_state_sql("n.now");
        assert!(count("1 = 1".into()).await > 100_000);
        assert_eq!(count(format!("{state} IS NOT {DEFINITION}")).await, 0);
        for wanted in SlaState::ALL {
            let name = wanted.as_str();
            let filter = sla_state_condition(*wanted, "n.now");
            assert_eq!(
                count(format!(
                    "COALESCE(({filter}), 0) <> COALESCE(({DEFINITION} = '{name}'), 0)"
                ))
                .await,
                0,
                "the {name} filter"
            );
            assert!(
                count(format!("{DEFINITION} = '{name}'")).await > 0,
                "{name} occurs"
            );
        }
    }
}
