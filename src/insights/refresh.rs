//! Keeping every customer's insights current: a full refresh (hourly, after
//! a settings change, `rapport insights refresh`, `POST /v1/insights/refresh`)
//! and, between them, the customers whose purchases, feedback or record
//! changed since the job's last pass, scored against the thresholds of the
//! last full refresh.

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;
use sqlx::types::Json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    figures::{self, Subject},
    model::Insights,
    rules::assess,
    scores::ScoreCuts,
    settings::{self, InsightSettings},
};
use crate::{
    db::{Conn, Db, now},
    http::ApiError,
    on_db, on_tx, on_writer,
};

/// Customers recomputed per database transaction (and per statement's id
/// list): small, so a request that waits for one of these rows waits little.
const BATCH: usize = 200;

/// Changes read per query, and the changes to follow per source and pass
/// beyond which a pass recomputes everyone instead (see `keep_current`).
const CHANGES_PER_PASS: usize = 2_000;

/// Queries per source and pass: rows that change no insight (new customers)
/// are read past, a few pages at most, and the rest waits for the next pass.
const PAGES_PER_PASS: usize = 8;

/// The least time between two full refreshes a burst of changes triggers.
const BURST_REFRESH_EVERY: TimeDelta = TimeDelta::minutes(5);

/// How long a full refresh stays good.
const REFRESH_EVERY: TimeDelta = TimeDelta::hours(1);

/// What a full refresh did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RefreshReport {
    /// Accounts and contacts whose insights were recomputed.
    pub accounts: u64,
    pub contacts: u64,
    /// The moment the figures are computed at.
    pub computed_at: DateTime<Utc>,
}

/// Every customer's insights, now.
pub async fn refresh_all(db: &Db) -> Result<RefreshReport, ApiError> {
    let settings = settings::load(db).await?;
    let (accounts, computed_at) = refresh_subject(db, Subject::Account, &settings).await?;
    let (contacts, _) = refresh_subject(db, Subject::Contact, &settings).await?;
    Ok(RefreshReport {
        accounts,
        contacts,
        computed_at,
    })
}

/// Everyone of one kind: the new thresholds are stored first, so a pass of
/// the job that starts meanwhile scores with them, and then each customer
/// is recomputed at a moment after that (see `recompute`: a write never
/// replaces one computed later).
async fn refresh_subject(
    db: &Db,
    subject: Subject,
    settings: &InsightSettings,
) -> Result<(u64, DateTime<Utc>), ApiError> {
    let currency = &settings.effective_base_currency;
    let ranked_at = now();
    let ranked = figures::population(
        db,
        subject,
        settings.activity_window_days,
        currency,
        ranked_at,
    )
    .await?;
    let cuts = ScoreCuts::of(&ranked, ranked_at);
    on_writer!(db, pool => sqlx::query(
        "INSERT INTO insight_refreshes (subject, refreshed_at, settings_version, cuts) VALUES ($1, $2, $3, $4)
         ON CONFLICT (subject) DO UPDATE SET refreshed_at = $2, settings_version = $3, cuts = $4"
    ).bind(subject.as_str()).bind(ranked_at).bind(settings.version).bind(Json(&cuts))
     .execute(pool).await.map(|r| r.rows_affected()))?;
    let at = now();
    let mut after = Uuid::nil();
    let mut done = 0;
    loop {
        let ids = figures::ids_after(db, subject, after, BATCH as i64).await?;
        let Some(last) = ids.last() else { break };
        after = *last;
        let mut pending = ids;
        // Rows a request holds are skipped (see `recompute`); a full refresh comes back for them.
        for _ in 0..50 {
            let (recomputed, skipped) =
                recompute(db, subject, &pending, &cuts, settings, at).await?;
            done += recomputed;
            if skipped.is_empty() {
                break;
            }
            pending = skipped;
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
    Ok((done, at))
}

/// These customers' insights, scored against `cuts`, in one transaction.
/// On PostgreSQL the rows are locked first, in id order, skipping any a
/// request holds: the job never waits for a request, so it can never
/// deadlock with one, and a skipped customer is being changed, so the next
/// pass picks it up again. Returns how many were recomputed, and the skipped.
async fn recompute(
    db: &Db,
    subject: Subject,
    ids: &[Uuid],
    cuts: &ScoreCuts,
    settings: &InsightSettings,
    at: DateTime<Utc>,
) -> Result<(u64, Vec<Uuid>), ApiError> {
    let mut tx = db.begin().await?;
    let asked = ids;
    let mut ids = ids.to_vec();
    if !tx.is_sqlite() {
        // Opens the transaction: the lock below runs on the raw connection.
        tx.flush().await?;
    }
    if let Conn::Postgres(c) = &mut tx.conn {
        let sql = format!(
            "SELECT id FROM {} WHERE id = ANY($1) ORDER BY id FOR UPDATE SKIP LOCKED",
            subject.table()
        );
        ids = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(&ids)
            .fetch_all(&mut **c)
            .await?;
    }
    let skipped: Vec<Uuid> = asked
        .iter()
        .filter(|id| !ids.contains(id))
        .copied()
        .collect();
    if ids.is_empty() {
        return Ok((0, skipped));
    }
    let all = figures::figures(
        db,
        subject,
        Some(&ids),
        settings.activity_window_days,
        &settings.effective_base_currency,
        at,
    )
    .await?;
    let tier = match subject {
        Subject::Account => {
            ", value_tier = CASE WHEN value_tier_source = 'computed' THEN $7 ELSE value_tier END"
        }
        Subject::Contact => "",
    };
    // Live customers only: one erased since its figures were read stays unprofiled.
    let sql = format!(
        "UPDATE {} AS s SET loyalty_status = $2, rfm_segment = $3, nps_class = $4, churn_risk = $5, insights = $6,
            insights_computed_at = $8 {tier}
         WHERE s.id = $1 AND (s.insights_computed_at IS NULL OR s.insights_computed_at <= $8) AND {}",
        subject.table(),
        subject.live()
    );
    for f in &all {
        let insights = assess(f, cuts, settings, at);
        let tier_value = insights.value_tier.map(|t| t.as_str());
        on_tx!(&mut tx, c => {
            let query = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(f.id)
                .bind(insights.loyalty_status.as_str())
                .bind(insights.rfm_segment.map(|s| s.as_str()))
                .bind(insights.satisfaction.nps_class.map(|c| c.as_str()))
                .bind(insights.churn_risk)
                .bind(Json(&insights));
            // Contacts have no value tier column: $7 is bound only where the statement uses it.
            let query = if subject == Subject::Account { query.bind(tier_value) } else { query.bind(None::<&str>) };
            query.bind(at).execute(&mut **c).await.map(|r| r.rows_affected())
        })?;
    }
    tx.commit().await?;
    Ok((all.len() as u64, skipped))
}

/// The insights stored for one customer, or computed on the spot for one
/// that no refresh has reached yet (created since).
pub async fn for_customer(
    db: &Db,
    subject: Subject,
    id: Uuid,
) -> Result<Option<Insights>, ApiError> {
    let sql = format!(
        "SELECT s.insights FROM {} s WHERE s.id = $1 AND {}",
        subject.table(),
        subject.live()
    );
    let stored: Option<Option<Json<Insights>>> = on_db!(db, pool => sqlx::query_scalar(
        sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await)?;
    match stored {
        None => Ok(None),
        Some(Some(Json(insights))) => Ok(Some(insights)),
        Some(None) => {
            let settings = settings::load(db).await?;
            let at = now();
            let cuts = stored_cuts(db, subject).await?.unwrap_or_default();
            let all = figures::figures(
                db,
                subject,
                Some(&[id]),
                settings.activity_window_days,
                &settings.effective_base_currency,
                at,
            )
            .await?;
            Ok(all.first().map(|f| assess(f, &cuts, &settings, at)))
        }
    }
}

async fn stored_cuts(db: &Db, subject: Subject) -> Result<Option<ScoreCuts>, ApiError> {
    let cuts: Option<Json<ScoreCuts>> = on_db!(db, pool => sqlx::query_scalar(
        "SELECT cuts FROM insight_refreshes WHERE subject = $1"
    ).bind(subject.as_str()).fetch_optional(pool).await)?;
    Ok(cuts.map(|c| c.0))
}

/// Whether this node should refresh everyone of this kind now (an hour
/// since the last refresh, or new settings); of several nodes asking at
/// once, one gets a yes.
async fn claim_refresh(
    db: &Db,
    subject: Subject,
    settings_version: i64,
    at: DateTime<Utc>,
) -> Result<bool, ApiError> {
    // Read first: most passes have nothing due, and a read takes no writer.
    let last: Option<(DateTime<Utc>, i64)> = on_db!(db, pool => sqlx::query_as(
        "SELECT refreshed_at, settings_version FROM insight_refreshes WHERE subject = $1"
    ).bind(subject.as_str()).fetch_optional(pool).await)?;
    let claimed = match last {
        Some((refreshed_at, version))
            if refreshed_at > at - REFRESH_EVERY && version == settings_version =>
        {
            return Ok(false);
        }
        Some((refreshed_at, _)) => on_writer!(db, pool => sqlx::query(
            "UPDATE insight_refreshes SET refreshed_at = $2, settings_version = $3
             WHERE subject = $1 AND refreshed_at = $4"
        ).bind(subject.as_str()).bind(at).bind(settings_version).bind(refreshed_at)
         .execute(pool).await.map(|r| r.rows_affected()))?,
        None => on_writer!(db, pool => sqlx::query(
            "INSERT INTO insight_refreshes (subject, refreshed_at, settings_version, cuts) VALUES ($1, $2, $3, $4)
             ON CONFLICT (subject) DO NOTHING"
        ).bind(subject.as_str()).bind(at).bind(settings_version).bind(Json(ScoreCuts::default()))
         .execute(pool).await.map(|r| r.rows_affected()))?,
    };
    Ok(claimed > 0)
}

/// Where the job has read changes up to, per source (in memory, per node:
/// a node that restarts starts from its start, and the hourly refresh
/// covers anything in between).
#[derive(Debug, Clone)]
pub struct ChangeCursor {
    sources: Vec<(&'static str, (DateTime<Utc>, Uuid))>,
    burst_refreshed_at: Option<DateTime<Utc>>,
}

impl ChangeCursor {
    pub fn starting_now() -> Self {
        let start = (now(), Uuid::max());
        ChangeCursor {
            sources: CHANGES.iter().map(|(name, _)| (*name, start)).collect(),
            burst_refreshed_at: None,
        }
    }
}

/// What changes a customer's insights: (name, query of rows changed after
/// `($1, $2)` with the account and contact they are about).
///
/// `new_customer` marks an account or contact unchanged since it was created:
/// with no purchase or feedback yet, its insights are the columns' defaults
/// (and computed when read, `for_customer`), so the job reads past it: it
/// took SQLite's writer from the creates (1,800 against 5,300 creates/s).
const CHANGES: [(&str, &str); 4] = [
    (
        "transactions",
        "SELECT created_at AS at, id, account_id, contact_id, FALSE AS new_customer FROM transactions
         WHERE (created_at, id) > ($1, $2) ORDER BY created_at, id LIMIT $3",
    ),
    (
        "feedback",
        "SELECT updated_at AS at, id, account_id, contact_id, FALSE AS new_customer FROM feedback
         WHERE (updated_at, id) > ($1, $2) ORDER BY updated_at, id LIMIT $3",
    ),
    (
        "accounts",
        "SELECT updated_at AS at, id, id AS account_id, CAST(NULL AS UUID) AS contact_id,
                updated_at = created_at AS new_customer FROM accounts
         WHERE (updated_at, id) > ($1, $2) ORDER BY updated_at, id LIMIT $3",
    ),
    (
        "contacts",
        "SELECT updated_at AS at, id, account_id, id AS contact_id, updated_at = created_at AS new_customer
         FROM contacts
         WHERE (updated_at, id) > ($1, $2) ORDER BY updated_at, id LIMIT $3",
    ),
];

#[derive(sqlx::FromRow)]
struct Change {
    at: DateTime<Utc>,
    id: Uuid,
    account_id: Option<Uuid>,
    contact_id: Option<Uuid>,
    new_customer: bool,
}

/// One pass of the job: everyone if a refresh is due, else the customers
/// whose inputs changed since the last pass.
pub async fn keep_current(db: &Db, cursor: &mut ChangeCursor) -> Result<(), ApiError> {
    let settings = settings::load(db).await?;
    let at = now();
    let mut changed: [Vec<Uuid>; 2] = [vec![], vec![]];
    let mut backlog = false;
    for (name, position) in cursor.sources.iter_mut() {
        let Some((_, sql)) = CHANGES.iter().find(|(n, _)| n == name) else {
            continue;
        };
        let mut followed = 0;
        for _ in 0..PAGES_PER_PASS {
            let rows: Vec<Change> = on_db!(db, pool => sqlx::query_as(*sql)
                .bind(position.0).bind(position.1).bind(CHANGES_PER_PASS as i64).fetch_all(pool).await)?;
            let more = rows.len() == CHANGES_PER_PASS;
            if let Some(last) = rows.last() {
                *position = (last.at, last.id);
            }
            for row in rows.into_iter().filter(|row| !row.new_customer) {
                followed += 1;
                changed[0].extend(row.account_id);
                changed[1].extend(row.contact_id);
            }
            if !more || followed >= CHANGES_PER_PASS {
                break;
            }
        }
        backlog |= followed >= CHANGES_PER_PASS;
    }
    // After a bulk import thousands of changes wait: recomputing everyone
    // once is cheaper than following them, and covers them all (at most
    // every few minutes, so a steady stream of writes is followed instead).
    if backlog
        && cursor
            .burst_refreshed_at
            .is_none_or(|last| at - last >= BURST_REFRESH_EVERY)
    {
        for (_, position) in cursor.sources.iter_mut() {
            *position = (at, Uuid::max());
        }
        cursor.burst_refreshed_at = Some(at);
        let report = refresh_all(db).await?;
        tracing::info!(
            ?report,
            "refreshed every customer's insights after a burst of changes"
        );
        return Ok(());
    }
    for (subject, mut ids) in Subject::ALL.into_iter().zip(changed) {
        if claim_refresh(db, subject, settings.version, at).await? {
            let (done, _) = refresh_subject(db, subject, &settings).await?;
            tracing::info!(
                subject = subject.as_str(),
                done,
                "refreshed every customer's insights"
            );
            continue;
        }
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            continue;
        }
        let cuts = stored_cuts(db, subject).await?.unwrap_or_default();
        for chunk in ids.chunks(BATCH) {
            recompute(db, subject, chunk, &cuts, &settings, at).await?;
        }
    }
    Ok(())
}
