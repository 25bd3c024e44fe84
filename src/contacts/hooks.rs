//! Where other modules' records follow a contact through a merge or an
//! erasure. Each module that keeps per-contact records adds its call here.

use uuid::Uuid;

use crate::{db::Tx, http::ApiError};

/// Moves every record of `duplicate` to `survivor` (inside the merge's transaction).
pub async fn on_merge(_tx: &mut Tx, _duplicate: Uuid, _survivor: Uuid) -> Result<(), ApiError> {
    Ok(())
}
