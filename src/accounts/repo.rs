use uuid::Uuid;

use super::events::{CREATED, DELETED, UPDATED};
use super::model::{AccountFields, AccountRow, COLUMNS};
use crate::{
    audit::{self, Actor, Change},
    bind_args,
    db::{
        Db, Tx, new_id, now,
        refs::{Active, References, TagTable, replace_tags},
        sql::{self, Arg, Filters},
    },
    events,
    http::{
        ApiError, etag,
        pagination::{KeysetCursor, Sort},
    },
    on_db, on_tx,
};

/// The account's references: its owner is a user (active or not).
async fn check_references(tx: &mut Tx, f: &AccountFields) -> Result<(), ApiError> {
    let mut refs = References::new();
    refs.user(tx, "owner_id", f.owner_id, Active::Any).await?;
    refs.finish()
}

pub async fn create(db: &Db, actor: &Actor, fields: AccountFields) -> Result<AccountRow, ApiError> {
    let mut tx = db.begin().await?;
    check_references(&mut tx, &fields).await?;
    let now = now();
    let row = insert(&mut tx, new_id(), &fields, now).await?;
    replace_tags(&mut tx, TagTable::Account, row.id, &fields.tags).await?;
    let account = row.clone().into_account();
    audit::record(
        &mut tx,
        actor,
        "create",
        "account",
        row.id,
        Change::created(&account),
    )
    .await?;
    events::record(&mut tx, actor, &CREATED, None, &account).await?;
    tx.commit().await?;
    Ok(row)
}

async fn insert(
    tx: &mut Tx,
    id: Uuid,
    f: &AccountFields,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<AccountRow, ApiError> {
    let sql = format!(
        "INSERT INTO accounts (id, name, name_key, domain, industry, country, region, employee_count, annual_revenue,
            currency, size_segment, size_segment_set, value_tier, lifecycle_stage, key_account, owner_id, tags,
            custom_fields, version, created_at, updated_at, value_tier_source)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, 1, $19, $19,
            CASE WHEN $13 IS NULL THEN 'computed' ELSE 'manual' END)
         RETURNING {COLUMNS}"
    );
    Ok(
        on_tx!(tx, c => sqlx::query_as::<_, AccountRow>(sqlx::AssertSqlSafe(sql))
        .bind(id).bind(&f.name).bind(&f.name_key).bind(&f.domain).bind(&f.industry).bind(&f.country)
        .bind(&f.region).bind(f.employee_count).bind(f.annual_revenue).bind(&f.currency)
        .bind(f.size_segment.map(|s| s.as_str())).bind(f.size_segment_set).bind(f.value_tier.map(|v| v.as_str()))
        .bind(f.lifecycle_stage.map(|s| s.as_str())).bind(f.key_account).bind(f.owner_id)
        .bind(sqlx::types::Json(&f.tags)).bind(sqlx::types::Json(&f.custom_fields)).bind(now)
        .fetch_one(&mut **c).await)?,
    )
}

pub async fn get(db: &Db, id: Uuid) -> Result<AccountRow, ApiError> {
    let row: Option<AccountRow> = on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM accounts WHERE id = $1 AND deleted_at IS NULL"
    ))).bind(id).fetch_optional(pool).await)?;
    row.ok_or_else(|| ApiError::not_found("account", id))
}

/// Applies new field values when the version still matches (`If-Match`, or
/// the version read when the request carried none).
pub async fn update(
    db: &Db,
    actor: &Actor,
    before: &AccountRow,
    expected: i64,
    f: AccountFields,
) -> Result<AccountRow, ApiError> {
    let mut tx = db.begin().await?;
    check_references(&mut tx, &f).await?;
    let sql = format!(
        "UPDATE accounts SET name = $1, name_key = $2, domain = $3, industry = $4, country = $5, region = $6,
            employee_count = $7, annual_revenue = $8, currency = $9, size_segment = $10, size_segment_set = $11,
            -- A tier given is the firm's; none keeps a computed one, and a cleared one is computed again.
            value_tier = CASE WHEN $12 IS NOT NULL THEN $12 WHEN value_tier_source = 'computed' THEN value_tier END,
            value_tier_source = CASE WHEN $12 IS NULL THEN 'computed' ELSE 'manual' END,
            lifecycle_stage = $13, key_account = $14, owner_id = $15, tags = $16,
            custom_fields = $17, version = version + 1, updated_at = $18
         WHERE id = $19 AND version = $20 AND deleted_at IS NULL
         RETURNING {COLUMNS}"
    );
    let row: Option<AccountRow> = on_tx!(&mut tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(&f.name).bind(&f.name_key).bind(&f.domain).bind(&f.industry).bind(&f.country).bind(&f.region)
        .bind(f.employee_count).bind(f.annual_revenue).bind(&f.currency).bind(f.size_segment.map(|s| s.as_str()))
        .bind(f.size_segment_set).bind(f.value_tier.map(|v| v.as_str())).bind(f.lifecycle_stage.map(|s| s.as_str()))
        .bind(f.key_account).bind(f.owner_id).bind(sqlx::types::Json(&f.tags)).bind(sqlx::types::Json(&f.custom_fields))
        .bind(now()).bind(before.id).bind(expected)
        .fetch_optional(&mut **c).await)?;
    let Some(row) = row else {
        let current = current_version(&mut tx, before.id).await?;
        return Err(current.map_or_else(|| ApiError::not_found("account", before.id), etag::stale));
    };
    replace_tags(&mut tx, TagTable::Account, row.id, &f.tags).await?;
    let account = row.clone().into_account();
    let change = Change::diff(&before.clone().into_account(), &account);
    audit::record(&mut tx, actor, "update", "account", row.id, change).await?;
    events::record(&mut tx, actor, &UPDATED, None, &account).await?;
    tx.commit().await?;
    Ok(row)
}

async fn current_version(tx: &mut Tx, id: Uuid) -> Result<Option<i64>, ApiError> {
    Ok(
        on_tx!(tx, c => sqlx::query_scalar("SELECT version FROM accounts WHERE id = $1 AND deleted_at IS NULL")
        .bind(id).fetch_optional(&mut **c).await)?,
    )
}

/// Soft-deletes an account that has no live contacts.
pub async fn delete(
    db: &Db,
    actor: &Actor,
    id: Uuid,
    expected: Option<i64>,
) -> Result<(), ApiError> {
    let mut tx = db.begin().await?;
    let version = current_version(&mut tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("account", id))?;
    etag::check(expected, version)?;
    for (sql, noun, member, advice) in [
        (
            "SELECT COUNT(*) FROM contacts WHERE account_id = $1 AND deleted_at IS NULL",
            "contact",
            "contact_count",
            "move or delete them first",
        ),
        (
            "SELECT COUNT(*) FROM engagements WHERE account_id = $1",
            "engagement",
            "engagement_count",
            "they are the account's history",
        ),
        (
            "SELECT COUNT(*) FROM transactions WHERE account_id = $1",
            "transaction",
            "transaction_count",
            "they are the account's history",
        ),
    ] {
        let n: i64 =
            on_tx!(&mut tx, c => sqlx::query_scalar(sql).bind(id).fetch_one(&mut **c).await)?;
        if n > 0 {
            return Err(ApiError::conflict(format!(
                "The account still has {n} {noun}{}: {advice}.",
                if n == 1 { "" } else { "s" }
            ))
            .with(member, n));
        }
    }
    let done = on_tx!(&mut tx, c => sqlx::query(
        "UPDATE accounts SET deleted_at = $1, updated_at = $1, version = version + 1 WHERE id = $2 AND version = $3"
    ).bind(now()).bind(id).bind(version).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    if done == 0 {
        return Err(etag::stale(version + 1));
    }
    on_tx!(&mut tx, c => sqlx::query("DELETE FROM account_tags WHERE account_id = $1").bind(id)
        .execute(&mut **c).await.map(|r| r.rows_affected()))?;
    audit::record(&mut tx, actor, "delete", "account", id, Change::none()).await?;
    events::record(&mut tx, actor, &DELETED, None, &events::ids(id)).await?;
    tx.commit().await?;
    Ok(())
}

pub const SORTS: [(&str, &str, crate::http::pagination::SortKind); 6] = [
    (
        "created_at",
        "a.created_at",
        crate::http::pagination::SortKind::Time,
    ),
    (
        "updated_at",
        "a.updated_at",
        crate::http::pagination::SortKind::Time,
    ),
    (
        "name",
        "a.name_key",
        crate::http::pagination::SortKind::Text,
    ),
    (
        "last_purchase_at",
        "a.last_purchase_at",
        crate::http::pagination::SortKind::TimeOrNull,
    ),
    (
        "churn_risk",
        "a.churn_risk",
        crate::http::pagination::SortKind::IntOrNull,
    ),
    // Needs `revenue_currency`, which joins the account's revenue in it as `r`.
    (
        "lifetime_revenue",
        "r.amount",
        crate::http::pagination::SortKind::Int,
    ),
];

/// Filters for the account list, already validated.
#[derive(Default)]
pub struct AccountQuery {
    pub owner_id: Option<Uuid>,
    pub tag: Option<String>,
    pub value_tier: Option<String>,
    pub size_segment: Option<String>,
    pub key_account: Option<bool>,
    pub country: Option<String>,
    pub lifecycle_stage: Option<String>,
    pub updated_since: Option<chrono::DateTime<chrono::Utc>>,
    pub last_purchase_before: Option<chrono::DateTime<chrono::Utc>>,
    pub last_purchase_after: Option<chrono::DateTime<chrono::Utc>>,
    pub last_interaction_before: Option<chrono::DateTime<chrono::Utc>>,
    /// Only accounts with revenue in this currency (ISO 4217, checked).
    pub revenue_currency: Option<String>,
    pub q: Option<String>,
    pub insight: crate::insights::filter::InsightFilter,
}

fn filters(q: &AccountQuery) -> Filters {
    let mut f = Filters::new();
    f.always("a.deleted_at IS NULL");
    q.insight.apply(&mut f, "a");
    if let Some(v) = q.owner_id {
        f.when("a.owner_id = {}", Arg::Uuid(v));
    }
    if let Some(v) = &q.tag {
        f.when(
            "a.id IN (SELECT account_id FROM account_tags WHERE tag = {})",
            Arg::Text(v.to_lowercase()),
        );
    }
    if let Some(v) = &q.value_tier {
        f.when("a.value_tier = {}", Arg::Text(v.clone()));
    }
    if let Some(v) = &q.size_segment {
        f.when("a.size_segment = {}", Arg::Text(v.clone()));
    }
    if let Some(v) = q.key_account {
        f.when("a.key_account = {}", Arg::Bool(v));
    }
    if let Some(v) = &q.country {
        f.when("a.country = {}", Arg::Text(v.to_uppercase()));
    }
    if let Some(v) = &q.lifecycle_stage {
        f.when("a.lifecycle_stage = {}", Arg::Text(v.clone()));
    }
    if let Some(v) = q.updated_since {
        f.when("a.updated_at >= {}", Arg::Time(v));
    }
    if let Some(v) = q.last_purchase_before {
        f.when("a.last_purchase_at < {}", Arg::Time(v));
    }
    if let Some(v) = q.last_purchase_after {
        f.when("a.last_purchase_at >= {}", Arg::Time(v));
    }
    if let Some(v) = q.last_interaction_before {
        f.when("a.last_interaction_at < {}", Arg::Time(v));
    }
    if let Some(v) = q.q.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        f.starts_with_any(&["a.name_key", "a.domain"], v);
    }
    f
}

/// Escapes `%`, `_` and `\` so user text matches literally in LIKE.
pub fn like_escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// The accounts table, joined to their revenue in `revenue_currency` (as
/// `r`, which the `lifetime_revenue` sort orders by) when one is asked for.
fn from(q: &AccountQuery, f: &mut Filters) -> String {
    match &q.revenue_currency {
        Some(currency) => {
            let currency = f.arg(Arg::Text(currency.clone()));
            format!(
                "FROM accounts a JOIN account_revenue r ON r.account_id = a.id AND r.currency = {currency}"
            )
        }
        None => "FROM accounts a".into(),
    }
}

pub async fn list(
    db: &Db,
    q: &AccountQuery,
    sort: &Sort,
    cursor: Option<KeysetCursor>,
    limit: i64,
) -> Result<Vec<AccountRow>, ApiError> {
    let mut f = filters(q);
    let select = format!("SELECT {} {}", prefixed(COLUMNS, "a"), from(q, &mut f));
    sql::keyset_page(db, &select, f, sort, cursor, "a.id", limit).await
}

pub async fn count(db: &Db, q: &AccountQuery) -> Result<i64, ApiError> {
    let mut f = filters(q);
    let from = from(q, &mut f);
    sql::count(db, &from, &f).await
}

/// `a, b` → `t.a, t.b`.
pub fn prefixed(columns: &str, table: &str) -> String {
    columns
        .split(',')
        .map(|c| format!("{table}.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The accounts with these ids (for `?expand=account`).
pub async fn by_ids(db: &Db, ids: &[Uuid]) -> Result<Vec<AccountRow>, ApiError> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let mut f = Filters::new();
    let placeholders: Vec<String> = ids.iter().map(|id| f.arg(Arg::Uuid(*id))).collect();
    let sql = format!(
        "SELECT {COLUMNS} FROM accounts WHERE id IN ({}) AND deleted_at IS NULL",
        placeholders.join(", ")
    );
    Ok(
        on_db!(db, pool => bind_args!(sqlx::query_as::<_, AccountRow>(sqlx::AssertSqlSafe(sql)), f.args).fetch_all(pool).await)?,
    )
}

/// 400 for a sort the query cannot serve: `lifetime_revenue` is kept per
/// currency, so it needs `revenue_currency`.
pub fn check_sort(sort: &Sort, q: &AccountQuery) -> Result<(), ApiError> {
    if sort.field == "lifetime_revenue" && q.revenue_currency.is_none() {
        return Err(ApiError::bad_request(
            "sort=lifetime_revenue needs revenue_currency (e.g. EUR): lifetime revenue is kept per currency.",
        ));
    }
    Ok(())
}

/// The sort value of a row, as a cursor key.
pub fn sort_key(sort: &Sort, q: &AccountQuery, r: &AccountRow) -> KeysetCursor {
    use crate::http::pagination::time_key;
    match sort.field {
        "name" => sort.cursor_for(r.name.to_lowercase(), r.id),
        "updated_at" => sort.cursor_for(time_key(&r.updated_at), r.id),
        "lifetime_revenue" => {
            let currency = q.revenue_currency.as_deref().unwrap_or_default();
            let amount = r.history.lifetime_revenue.get(currency).copied();
            sort.cursor_for(amount.unwrap_or_default().to_string(), r.id)
        }
        "last_purchase_at" => {
            sort.cursor_for_optional(r.history.last_purchase_at.as_ref().map(time_key), r.id)
        }
        "churn_risk" => sort.cursor_for_optional(r.churn_risk.map(|v| v.to_string()), r.id),
        _ => sort.cursor_for(time_key(&r.created_at), r.id),
    }
}
