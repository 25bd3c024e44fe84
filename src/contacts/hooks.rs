//! Where other modules' records follow a contact through a merge or an
//! erasure. Each module that keeps per-contact records adds its call here.

use uuid::Uuid;

use crate::{db::Tx, feedback, http::ApiError, interactions};

/// Moves every record of `duplicate` to `survivor` (inside the merge's transaction).
pub async fn on_merge(tx: &mut Tx, duplicate: Uuid, survivor: Uuid) -> Result<(), ApiError> {
    interactions::repo::reassign_contact(tx, duplicate, survivor).await?;
    feedback::hooks::reassign_contact(tx, duplicate, survivor).await?;
    Ok(())
}

/// Anonymises every record of `contact` (inside the erasure's transaction).
pub async fn on_erase(tx: &mut Tx, contact: Uuid) -> Result<(), ApiError> {
    interactions::repo::erase_contact(tx, contact).await?;
    feedback::hooks::erase_contact(tx, contact).await?;
    Ok(())
}
