//! The people on an engagement, each with a role.

use uuid::Uuid;

use super::events::UPDATED;
use super::model::{COLUMNS, EngagementContact, EngagementRole, EngagementRow};
use super::repo::stale_or_gone;
use crate::{
    audit::{self, Actor, Change},
    db::{Db, now, refs::References},
    events,
    http::{ApiError, FieldError},
    on_db, on_tx,
};

const PEOPLE: &str =
    "SELECT contact_id, role, added_at FROM engagement_contacts WHERE engagement_id = $1
    ORDER BY added_at, contact_id";

pub async fn list(db: &Db, id: Uuid) -> Result<Vec<EngagementContact>, ApiError> {
    Ok(on_db!(db, pool => sqlx::query_as(PEOPLE).bind(id).fetch_all(pool).await)?)
}

/// Replaces the people on an engagement. Each must be a live, unerased
/// contact of the engagement's account; a person who keeps their role keeps
/// their `added_at`.
pub async fn replace(
    db: &Db,
    actor: &Actor,
    before: &EngagementRow,
    expected: i64,
    people: &[(Uuid, EngagementRole)],
) -> Result<(EngagementRow, Vec<EngagementContact>), ApiError> {
    let mut tx = db.begin().await?;
    let mut refs = References::new();
    for (n, (contact_id, _)) in people.iter().enumerate() {
        let field = format!("contacts[{n}].contact_id");
        if let Some(account) = refs.contact(&mut tx, &field, Some(*contact_id)).await?
            && account != Some(before.account_id)
        {
            refs.also(FieldError::new(
                &field,
                "other_account",
                format!(
                    "the contact does not belong to the engagement's account ({})",
                    before.account_id
                ),
            ));
        }
    }
    refs.finish()?;
    let row: Option<EngagementRow> = on_tx!(&mut tx, c => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE engagements SET version = version + 1, updated_at = $1 WHERE id = $2 AND version = $3 RETURNING {COLUMNS}"
    ))).bind(now()).bind(before.id).bind(expected).fetch_optional(&mut **c).await)?;
    let Some(row) = row else {
        return Err(stale_or_gone(&mut tx, before.id).await);
    };
    let current: Vec<EngagementContact> = on_tx!(&mut tx, c => sqlx::query_as(
        "SELECT contact_id, role, added_at FROM engagement_contacts WHERE engagement_id = $1"
    ).bind(row.id).fetch_all(&mut **c).await)?;
    on_tx!(&mut tx, c => sqlx::query("DELETE FROM engagement_contacts WHERE engagement_id = $1")
        .bind(row.id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    for (contact_id, role) in people {
        let kept = current
            .iter()
            .find(|p| p.contact_id == *contact_id && p.role == *role)
            .and_then(|p| p.added_at);
        on_tx!(&mut tx, c => sqlx::query(
            "INSERT INTO engagement_contacts (engagement_id, contact_id, role, added_at) VALUES ($1, $2, $3, $4)"
        ).bind(row.id).bind(contact_id).bind(role).bind(kept.unwrap_or(row.updated_at))
         .execute(&mut **c).await.map(|r| r.rows_affected()))?;
    }
    let change = Change::none().with("contacts_before", &current).with(
        "contacts",
        people
            .iter()
            .map(|(id, role)| (id, role.as_str()))
            .collect::<Vec<_>>(),
    );
    audit::record(&mut tx, actor, "update", "engagement", row.id, change).await?;
    let engagement = row.clone().into_engagement();
    events::record(&mut tx, actor, &UPDATED, None, &engagement).await?;
    let people: Vec<EngagementContact> = on_tx!(&mut tx, c => sqlx::query_as(PEOPLE)
        .bind(row.id).fetch_all(&mut **c).await)?;
    tx.commit().await?;
    Ok((row, people))
}
