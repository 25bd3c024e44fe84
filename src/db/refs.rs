//! Checks that referenced records exist, so a bad id in a request is a 422
//! naming the field rather than a foreign-key error from the database.

use uuid::Uuid;

use super::Tx;
use crate::{http::ApiError, on_tx};

/// Tables a request may point into, with the SQL that finds a live row.
#[derive(Clone, Copy)]
pub enum Ref {
    User,
    Account,
    Contact,
}

impl Ref {
    fn sql(self) -> &'static str {
        match self {
            Ref::User => "SELECT COUNT(*) FROM users WHERE id = $1 AND deleted_at IS NULL",
            Ref::Account => "SELECT COUNT(*) FROM accounts WHERE id = $1 AND deleted_at IS NULL",
            Ref::Contact => "SELECT COUNT(*) FROM contacts WHERE id = $1 AND deleted_at IS NULL",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Ref::User => "user",
            Ref::Account => "account",
            Ref::Contact => "contact",
        }
    }
}

/// Fails with 422 on `field` unless `id` (when given) names a live row.
pub async fn ensure_exists(
    tx: &mut Tx,
    kind: Ref,
    field: &str,
    id: Option<Uuid>,
) -> Result<(), ApiError> {
    let Some(id) = id else { return Ok(()) };
    let found: i64 =
        on_tx!(tx, c => sqlx::query_scalar(kind.sql()).bind(id).fetch_one(&mut **c).await)?;
    if found == 0 {
        return Err(ApiError::field(
            field,
            "not_found",
            format!("no {} has the id {id}", kind.noun()),
        ));
    }
    Ok(())
}

/// Replaces the rows of a tag table (`account_tags` / `contact_tags`) for one owner.
pub async fn replace_tags(
    tx: &mut Tx,
    table: TagTable,
    owner: Uuid,
    tags: &[String],
) -> Result<(), ApiError> {
    let (delete, _) = table.sql();
    on_tx!(tx, c => sqlx::query(delete).bind(owner).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    insert_tags(tx, table, owner, tags).await
}

/// Adds the tag rows of a new owner, in one statement.
pub async fn insert_tags(
    tx: &mut Tx,
    table: TagTable,
    owner: Uuid,
    tags: &[String],
) -> Result<(), ApiError> {
    if tags.is_empty() {
        return Ok(());
    }
    let (_, insert) = table.sql();
    let rows: Vec<String> = (0..tags.len())
        .map(|i| format!("($1, ${})", i + 2))
        .collect();
    let sql = format!("{insert} {}", rows.join(", "));
    on_tx!(tx, c => {
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.clone())).bind(owner);
        for tag in tags {
            query = query.bind(tag);
        }
        query.execute(&mut **c).await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

#[derive(Clone, Copy)]
pub enum TagTable {
    Account,
    Contact,
}

impl TagTable {
    fn sql(self) -> (&'static str, &'static str) {
        match self {
            TagTable::Account => (
                "DELETE FROM account_tags WHERE account_id = $1",
                "INSERT INTO account_tags (account_id, tag) VALUES",
            ),
            TagTable::Contact => (
                "DELETE FROM contact_tags WHERE contact_id = $1",
                "INSERT INTO contact_tags (contact_id, tag) VALUES",
            ),
        }
    }
}
