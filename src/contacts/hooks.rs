//! Where other modules' records follow a contact through a merge or an
//! erasure. Each module that keeps per-contact records adds its call here.

use uuid::Uuid;

use crate::{db::Tx, feedback, http::ApiError, interactions, loyalty};

/// Moves every record of `duplicate` to `survivor` (inside the merge's transaction).
pub async fn on_merge(tx: &mut Tx, duplicate: Uuid, survivor: Uuid) -> Result<(), ApiError> {
    loyalty::reassign_contact(tx, duplicate, survivor).await?;
    interactions::repo::reassign_contact(tx, duplicate, survivor).await?;
    feedback::hooks::reassign_contact(tx, duplicate, survivor).await?;
    Ok(())
}

/// The ids by which other modules' answers name the person (their contact
/// id, their loyalty member ids, their feedback's ids: an activity's answer
/// names only its item), for forgetting stored answers at erasure.
pub async fn ids_of_records(tx: &mut Tx, contact_id: Uuid) -> Result<Vec<Uuid>, ApiError> {
    let mut ids = vec![contact_id];
    ids.extend(loyalty::member_ids_of_contact(tx, contact_id).await?);
    ids.extend(feedback::hooks::ids_of_contact(tx, contact_id).await?);
    Ok(ids)
}

/// Removes personal data other modules hold about the contact, keeping the
/// aggregates (inside the erasure's transaction).
pub async fn on_erase(tx: &mut Tx, contact_id: Uuid) -> Result<(), ApiError> {
    loyalty::erase_contact(tx, contact_id).await?;
    interactions::repo::erase_contact(tx, contact_id).await?;
    feedback::hooks::erase_contact(tx, contact_id).await?;
    Ok(())
}
