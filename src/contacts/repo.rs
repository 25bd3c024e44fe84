//! SQL for contacts: single-record writes, lists, and the shared upsert used by imports.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::events::{CREATED, DELETED, UPDATED};
use super::model::{COLUMNS, ContactFields, ContactRow};
use crate::domain::EmailAddress;
use crate::{
    accounts::repo::prefixed,
    audit::{self, Actor, Change},
    db::{
        Db, Tx, is_unique_violation, is_unique_violation_on, new_id, now,
        records::{Bind, Record},
        refs::{Active, References, TagTable, insert_tags, replace_tags},
        sql::{self, Arg, Filters},
    },
    events,
    http::{
        ApiError, etag,
        pagination::{KeysetCursor, Sort, SortKind},
    },
    on_tx,
};
use crate::{db::On, on};

/// 409 for a second live contact with the same email, carrying the first one's id.
pub fn duplicate_email(email: &str, existing_id: Uuid) -> ApiError {
    ApiError::conflict(format!(
        "A contact with the email {email} already exists; update it, or merge the two with POST /v1/contacts/{{id}}/merge."
    ))
    .with("existing_id", existing_id)
}

/// The live contact with this (normalised) email, if any.
pub async fn id_by_email<'a>(
    on: impl Into<On<'a>>,
    email: &EmailAddress,
) -> Result<Option<Uuid>, ApiError> {
    Ok(
        on!(on.into(), e => sqlx::query_scalar("SELECT id FROM contacts WHERE email = $1 AND deleted_at IS NULL")
        .bind(email.as_str()).fetch_optional(e).await)?,
    )
}

/// Checks the references of `f` inside `tx`: its account, and its owner (a
/// user, active or not); every bad one is reported.
pub async fn ensure_references(tx: &mut Tx, f: &ContactFields) -> Result<(), ApiError> {
    let mut refs = References::new();
    refs.account(tx, "account_id", f.account_id).await?;
    refs.user(tx, "owner_id", f.owner_id, Active::Any).await?;
    refs.finish()
}

/// Keeps a new contact's row in `tx`, written with its next statement or its
/// commit (see `db::records`), and returns the row as it reads back: every
/// value is the caller's or the server's, so nothing needs reading back, and
/// a create is one statement with its tags, audit and outbox events. A
/// duplicate email surfaces there, as a unique violation.
pub fn insert(tx: &mut Tx, f: &ContactFields, now: DateTime<Utc>) -> ContactRow {
    let text = |v: Option<&str>| Bind::OptionalText(v.map(str::to_string));
    let row = ContactRow {
        id: new_id(),
        first_name: f.first_name.clone(),
        last_name: f.last_name.clone(),
        name_key: f.name_key.clone(),
        email: f.email.as_ref().map(|v| v.as_str().to_string()),
        phone: f.phone.as_ref().map(|v| v.as_str().to_string()),
        title: f.title.clone(),
        account_id: f.account_id,
        language: f.language.as_ref().map(|v| v.as_str().to_string()),
        time_zone: f.time_zone.as_ref().map(|v| v.as_str().to_string()),
        birthday: f.birthday.clone(),
        country: f.country.as_ref().map(|v| v.as_str().to_string()),
        lifecycle_stage: f.lifecycle_stage,
        owner_id: f.owner_id,
        tags: sqlx::types::Json(f.tags.clone()),
        custom_fields: sqlx::types::Json(f.custom_fields.clone()),
        erased_at: None,
        history: Default::default(),
        churn_risk: None,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    tx.append(Record::new(
        "INSERT INTO contacts (id, first_name, last_name, name_key, email, phone, title, account_id, language,
            time_zone, country, lifecycle_stage, owner_id, tags, custom_fields, version, created_at, updated_at,
            given_name_key, birthday)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 1, $16, $16, $17, $18)",
        vec![
            Bind::Uuid(row.id),
            text(row.first_name.as_deref()),
            text(row.last_name.as_deref()),
            Bind::Text(row.name_key.clone()),
            text(row.email.as_deref()),
            text(row.phone.as_deref()),
            text(row.title.as_deref()),
            Bind::OptionalUuid(row.account_id),
            text(row.language.as_deref()),
            text(row.time_zone.as_deref()),
            text(row.country.as_deref()),
            Bind::Text(row.lifecycle_stage.as_str().to_string()),
            Bind::OptionalUuid(row.owner_id),
            Bind::Json(serde_json::json!(row.tags.0)),
            Bind::Json(serde_json::Value::Object(row.custom_fields.0.clone())),
            Bind::Time(now),
            Bind::Text(f.given_name_key.clone()),
            text(row.birthday.as_deref()),
        ],
    ));
    row
}

/// Writes new field values if the row is still at `expected`; `None` when it is not.
pub async fn update_row(
    tx: &mut Tx,
    id: Uuid,
    expected: i64,
    f: &ContactFields,
) -> Result<Option<ContactRow>, sqlx::Error> {
    let sql = format!(
        "UPDATE contacts SET first_name = $1, last_name = $2, name_key = $3, email = $4, phone = $5, title = $6,
            account_id = $7, language = $8, time_zone = $9, country = $10, lifecycle_stage = $11, owner_id = $12,
            tags = $13, custom_fields = $14, version = version + 1, updated_at = $15, given_name_key = $18,
            birthday = $19
         WHERE id = $16 AND version = $17 AND deleted_at IS NULL
         RETURNING {COLUMNS}"
    );
    on_tx!(tx, c => sqlx::query_as::<_, ContactRow>(sqlx::AssertSqlSafe(sql))
        .bind(&f.first_name).bind(&f.last_name).bind(&f.name_key).bind(&f.email).bind(&f.phone).bind(&f.title)
        .bind(f.account_id).bind(&f.language).bind(&f.time_zone).bind(&f.country).bind(f.lifecycle_stage.as_str())
        .bind(f.owner_id).bind(sqlx::types::Json(&f.tags)).bind(sqlx::types::Json(&f.custom_fields)).bind(now())
        .bind(id).bind(expected).bind(&f.given_name_key).bind(&f.birthday)
        .fetch_optional(&mut **c).await)
}

pub async fn create(db: &Db, actor: &Actor, f: ContactFields) -> Result<ContactRow, ApiError> {
    let mut tx = db.begin().await?;
    ensure_references(&mut tx, &f).await?;
    let row = insert(&mut tx, &f, now());
    insert_tags(&mut tx, TagTable::Contact, row.id, &f.tags).await?;
    let contact = row.clone().into_contact();
    audit::record(
        &mut tx,
        actor,
        "create",
        "contact",
        row.id,
        Change::created(&contact),
    )
    .await?;
    events::record(&mut tx, actor, &CREATED, Some(row.id), &contact).await?;
    // The unique index finds a duplicate email; no lookup first.
    match tx.commit().await {
        Ok(()) => Ok(row),
        Err(e) if is_unique_violation_on(&e, "contacts") => {
            let Some(email) = &f.email else {
                return Err(ApiError::conflict(
                    "The contact conflicts with another one.",
                ));
            };
            let existing = id_by_email(db, email).await?.unwrap_or_default();
            Err(duplicate_email(email.as_str(), existing))
        }
        Err(e) => Err(e.into()),
    }
}

/// A live contact (not deleted).
pub async fn get<'a>(on: impl Into<On<'a>>, id: Uuid) -> Result<ContactRow, ApiError> {
    let row: Option<ContactRow> = on!(on.into(), e => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM contacts WHERE id = $1 AND deleted_at IS NULL"
    ))).bind(id).fetch_optional(e).await)?;
    row.ok_or_else(|| ApiError::not_found("contact", id))
}

/// A contact whether live, deleted or merged away (erasure reaches them all).
pub async fn get_any<'a>(on: impl Into<On<'a>>, id: Uuid) -> Result<ContactRow, ApiError> {
    let row: Option<ContactRow> = on!(on.into(), e => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM contacts WHERE id = $1"
    ))).bind(id).fetch_optional(e).await)?;
    row.ok_or_else(|| ApiError::not_found("contact", id))
}

/// Records that `duplicate` was merged into `survivor`.
pub async fn mark_merged(tx: &mut Tx, duplicate: Uuid, survivor: Uuid) -> Result<(), ApiError> {
    on_tx!(tx, c => sqlx::query("UPDATE contacts SET merged_into_id = $1 WHERE id = $2")
        .bind(survivor).bind(duplicate).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// The contacts merged into `id`, directly or through earlier merges.
pub async fn merged_into(tx: &mut Tx, id: Uuid) -> Result<Vec<Uuid>, ApiError> {
    let mut found = Vec::new();
    let mut frontier = vec![id];
    while let Some(next) = frontier.pop() {
        let ids: Vec<Uuid> = on_tx!(tx, c => sqlx::query_scalar(
            "SELECT id FROM contacts WHERE merged_into_id = $1"
        ).bind(next).fetch_all(&mut **c).await)?;
        for merged in ids {
            if merged != id && !found.contains(&merged) {
                found.push(merged);
                frontier.push(merged);
            }
        }
    }
    Ok(found)
}

pub async fn current_version(tx: &mut Tx, id: Uuid) -> Result<Option<i64>, ApiError> {
    Ok(
        on_tx!(tx, c => sqlx::query_scalar("SELECT version FROM contacts WHERE id = $1 AND deleted_at IS NULL")
        .bind(id).fetch_optional(&mut **c).await)?,
    )
}

pub async fn update(
    db: &Db,
    actor: &Actor,
    before: &ContactRow,
    expected: i64,
    f: ContactFields,
) -> Result<ContactRow, ApiError> {
    let mut tx = db.begin().await?;
    ensure_references(&mut tx, &f).await?;
    if let Some(email) = &f.email
        && let Some(existing) = id_by_email(&mut tx, email)
            .await?
            .filter(|id| *id != before.id)
    {
        return Err(duplicate_email(email.as_str(), existing));
    }
    let row = match update_row(&mut tx, before.id, expected, &f).await {
        Ok(Some(row)) => row,
        Ok(None) => {
            let current = current_version(&mut tx, before.id).await?;
            return Err(
                current.map_or_else(|| ApiError::not_found("contact", before.id), etag::stale)
            );
        }
        Err(e) if is_unique_violation(&e) => {
            drop(tx);
            let Some(email) = &f.email else {
                return Err(ApiError::conflict(
                    "The contact conflicts with another one.",
                ));
            };
            let existing = id_by_email(db, email).await?.unwrap_or_default();
            return Err(duplicate_email(email.as_str(), existing));
        }
        Err(e) => return Err(e.into()),
    };
    replace_tags(&mut tx, TagTable::Contact, row.id, &f.tags).await?;
    let contact = row.clone().into_contact();
    let change = Change::diff(&before.clone().into_contact(), &contact);
    audit::record(&mut tx, actor, "update", "contact", row.id, change).await?;
    events::record(&mut tx, actor, &UPDATED, Some(row.id), &contact).await?;
    tx.commit().await?;
    Ok(row)
}

/// Soft-deletes a contact inside `tx` (also used by merge).
pub async fn soft_delete(tx: &mut Tx, id: Uuid, version: i64) -> Result<bool, ApiError> {
    let done = on_tx!(tx, c => sqlx::query(
        "UPDATE contacts SET deleted_at = $1, updated_at = $1, version = version + 1 WHERE id = $2 AND version = $3 AND deleted_at IS NULL"
    ).bind(now()).bind(id).bind(version).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    on_tx!(tx, c => sqlx::query("DELETE FROM contact_tags WHERE contact_id = $1").bind(id)
        .execute(&mut **c).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

pub async fn delete(
    db: &Db,
    actor: &Actor,
    id: Uuid,
    expected: Option<i64>,
) -> Result<(), ApiError> {
    let mut tx = db.begin().await?;
    let version = current_version(&mut tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("contact", id))?;
    etag::check(expected, version)?;
    if !soft_delete(&mut tx, id, version).await? {
        return Err(etag::stale(version + 1));
    }
    audit::record(&mut tx, actor, "delete", "contact", id, Change::none()).await?;
    events::record(&mut tx, actor, &DELETED, Some(id), &events::ids(id)).await?;
    tx.commit().await?;
    Ok(())
}

pub const SORTS: [(&str, &str, SortKind); 4] = [
    ("created_at", "c.created_at", SortKind::Time),
    ("updated_at", "c.updated_at", SortKind::Time),
    ("name", "c.name_key", SortKind::Text),
    ("churn_risk", "c.churn_risk", SortKind::IntOrNull),
];

/// Filters for contact lists and exports, already validated.
#[derive(Clone, Debug, Default)]
pub struct ContactQuery {
    pub account_id: Option<Uuid>,
    pub owner_id: Option<Uuid>,
    pub tag: Option<String>,
    pub lifecycle_stage: Option<String>,
    pub value_tier: Option<String>,
    pub size_segment: Option<String>,
    pub key_account: Option<bool>,
    pub country: Option<String>,
    pub updated_since: Option<DateTime<Utc>>,
    pub q: Option<String>,
    /// `q` matches names only: for callers who see emails masked, so a
    /// search cannot recover a masked address one prefix at a time.
    pub search_names_only: bool,
    pub insight: crate::insights::filter::InsightFilter,
}

fn filters(q: &ContactQuery) -> Filters {
    let mut f = Filters::new();
    f.always("c.deleted_at IS NULL");
    q.insight.apply(&mut f, "c");
    if let Some(v) = q.account_id {
        f.when("c.account_id = {}", Arg::Uuid(v));
    }
    if let Some(v) = q.owner_id {
        f.when("c.owner_id = {}", Arg::Uuid(v));
    }
    if let Some(v) = &q.tag {
        f.when(
            "c.id IN (SELECT contact_id FROM contact_tags WHERE tag = {})",
            Arg::Text(v.trim().to_lowercase()),
        );
    }
    if let Some(v) = &q.lifecycle_stage {
        f.when("c.lifecycle_stage = {}", Arg::Text(v.clone()));
    }
    if let Some(v) = &q.value_tier {
        f.when("c.account_id IN (SELECT id FROM accounts WHERE value_tier = {} AND deleted_at IS NULL)", Arg::Text(v.clone()));
    }
    if let Some(v) = &q.size_segment {
        f.when("c.account_id IN (SELECT id FROM accounts WHERE size_segment = {} AND deleted_at IS NULL)", Arg::Text(v.clone()));
    }
    if let Some(v) = q.key_account {
        f.when("c.account_id IN (SELECT id FROM accounts WHERE key_account = {} AND deleted_at IS NULL)", Arg::Bool(v));
    }
    if let Some(v) = &q.country {
        f.when("c.country = {}", Arg::Text(v.trim().to_uppercase()));
    }
    if let Some(v) = q.updated_since {
        f.when("c.updated_at >= {}", Arg::Time(v));
    }
    if let Some(v) = q.q.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        // "chen", "mei", "chen mei" and "mei chen" all find Mei Chen.
        let columns: &[&str] = if q.search_names_only {
            &["c.name_key", "c.given_name_key"]
        } else {
            &["c.name_key", "c.given_name_key", "c.email"]
        };
        f.starts_with_any(columns, v);
    }
    f
}

pub async fn list(
    db: &Db,
    q: &ContactQuery,
    sort: &Sort,
    cursor: Option<KeysetCursor>,
    limit: i64,
) -> Result<Vec<ContactRow>, ApiError> {
    let select = format!("SELECT {} FROM contacts c", prefixed(COLUMNS, "c"));
    sql::keyset_page(db, &select, filters(q), sort, cursor, "c.id", limit).await
}

pub async fn count(db: &Db, q: &ContactQuery) -> Result<i64, ApiError> {
    sql::count(db, "FROM contacts c", &filters(q)).await
}

/// The sort value of a row, as a cursor key.
pub fn sort_key(sort: &Sort, row: &ContactRow) -> KeysetCursor {
    use crate::http::pagination::time_key;
    let key = match sort.field {
        "churn_risk" => {
            return sort.cursor_for_optional(row.churn_risk.map(|r| r.to_string()), row.id);
        }
        "name" => row.name_key.clone(),
        "updated_at" => time_key(&row.updated_at),
        _ => time_key(&row.created_at),
    };
    sort.cursor_for(key, row.id)
}
