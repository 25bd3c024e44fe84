//! The programme row: a single row (`id = 1`), created with the defaults on
//! first use, so a fresh install has a working programme without set-up.

use sqlx::types::Json;

use uuid::Uuid;

use crate::{
    audit::{self, Actor, Change},
    db::{Db, now},
    http::{ApiError, etag},
    loyalty::program::{ProgramIn, ProgramRow, default_program},
    on_tx,
};
use crate::{db::On, on};

const SELECT: &str = "SELECT name, earn_currency, earn_points, earn_per_amount_minor, tiers, tier_basis, \
     tier_window_months, expiry_months, version, created_at, updated_at FROM loyalty_program WHERE id = 1";

const INSERT_DEFAULT: &str = "INSERT INTO loyalty_program (id, name, earn_currency, earn_points, earn_per_amount_minor, \
     tiers, tier_basis, tier_window_months, expiry_months, version, created_at, updated_at) \
     VALUES (1, $1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $9) ON CONFLICT (id) DO NOTHING";

/// Binds the default programme's values to [`INSERT_DEFAULT`].
macro_rules! bind_default {
    ($query:expr) => {{
        let p = default_program();
        $query
            .bind(p.name)
            .bind(p.earn_rate.currency)
            .bind(p.earn_rate.points)
            .bind(p.earn_rate.per_amount_minor)
            .bind(Json(p.tiers))
            .bind(p.tier_basis.as_str())
            .bind(p.tier_window_months)
            .bind(p.expiry_months)
            .bind(now())
    }};
}

/// The programme; the first use creates it with the defaults (on the pool
/// that may write, or in the caller's transaction).
pub async fn get<'a>(on: impl Into<On<'a>>) -> Result<ProgramRow, ApiError> {
    let mut on = on.into();
    let row: Option<ProgramRow> =
        on!(on.reborrow(), e => sqlx::query_as(SELECT).fetch_optional(e).await)?;
    if let Some(row) = row {
        return Ok(row);
    }
    on!(on.writer(), e => bind_default!(sqlx::query(INSERT_DEFAULT)).execute(e).await.map(|r| r.rows_affected()))?;
    let row: Option<ProgramRow> =
        on!(on.writer(), e => sqlx::query_as(SELECT).fetch_optional(e).await)?;
    row.ok_or_else(|| ApiError::internal("the loyalty programme row is missing after creating it"))
}

/// Replaces the settings; `expected` is the `If-Match` version, checked in
/// the UPDATE itself so two concurrent editors cannot both win. Returns the
/// settings before and after.
pub async fn replace(
    db: &Db,
    actor: &Actor,
    input: &ProgramIn,
    expected: Option<i64>,
) -> Result<(ProgramRow, ProgramRow), ApiError> {
    let mut tx = db.begin().await?;
    let before = get(&mut tx).await?;
    etag::check(expected, before.version)?;
    let version = before.version;
    let row: Option<ProgramRow> = on_tx!(&mut tx, c => sqlx::query_as(
        "UPDATE loyalty_program SET name = $1, earn_currency = $2, earn_points = $3, earn_per_amount_minor = $4,
                tiers = $5, tier_basis = $6, tier_window_months = $7, expiry_months = $8,
                version = version + 1, updated_at = $9
         WHERE id = 1 AND version = $10
         RETURNING name, earn_currency, earn_points, earn_per_amount_minor, tiers, tier_basis,
                   tier_window_months, expiry_months, version, created_at, updated_at"
    ).bind(&input.name).bind(&input.earn_rate.currency).bind(input.earn_rate.points)
     .bind(input.earn_rate.per_amount_minor).bind(Json(&input.tiers)).bind(input.tier_basis.as_str())
     .bind(input.tier_window_months).bind(input.expiry_months).bind(now()).bind(version)
     .fetch_optional(&mut **c).await)?;
    let after = row.ok_or_else(|| etag::stale(before.version + 1))?;
    let change = Change::diff(
        &before.clone().into_program(),
        &after.clone().into_program(),
    );
    audit::record(
        &mut tx,
        actor,
        "update",
        "loyalty_program",
        Uuid::nil(),
        change,
    )
    .await?;
    crate::events::record(
        &mut tx,
        actor,
        &crate::loyalty::events::PROGRAM_UPDATED,
        None,
        &after.clone().into_program(),
    )
    .await?;
    tx.commit().await?;
    Ok((before, after))
}
