//! What happens to feedback when its contact is merged into another or erased
//! (called from `contacts::hooks`, inside the merge's or erasure's transaction).

use uuid::Uuid;

use super::activities;
use crate::{
    audit,
    db::{Tx, now},
    domain::ERASED,
    http::ApiError,
    on_tx,
};

/// Merge: the duplicate's feedback moves to the survivor; each item keeps its `account_id`.
pub async fn reassign_contact(tx: &mut Tx, from: Uuid, to: Uuid) -> Result<(), ApiError> {
    on_tx!(tx, c => sqlx::query(
        "UPDATE feedback SET contact_id = $1, version = version + 1, updated_at = $2 WHERE contact_id = $3"
    ).bind(to).bind(now()).bind(from).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Erasure: the free text of the contact's feedback (the text, the resolution, every activity note) becomes
/// `[erased]`, and the audit events about that feedback lose their recorded values. Scores, kinds, times and states stay, so satisfaction and service-level metrics keep their totals.
pub async fn erase_contact(tx: &mut Tx, contact_id: Uuid) -> Result<(), ApiError> {
    on_tx!(tx, c => sqlx::query(
        "UPDATE feedback SET
             text = CASE WHEN text IS NULL THEN NULL ELSE $1 END,
             resolution = CASE WHEN resolution IS NULL THEN NULL ELSE $1 END,
             version = version + 1, updated_at = $2
         WHERE contact_id = $3"
    ).bind(ERASED).bind(now()).bind(contact_id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    activities::erase_notes(tx, contact_id).await?;
    audit::forget(
        tx,
        "feedback",
        "SELECT id FROM feedback WHERE contact_id = $1",
        contact_id,
    )
    .await
}

/// The ids of the contact's feedback.
pub async fn ids_of_contact(tx: &mut Tx, contact_id: Uuid) -> Result<Vec<Uuid>, ApiError> {
    Ok(
        on_tx!(tx, c => sqlx::query_scalar("SELECT id FROM feedback WHERE contact_id = $1")
        .bind(contact_id).fetch_all(&mut **c).await)?,
    )
}
