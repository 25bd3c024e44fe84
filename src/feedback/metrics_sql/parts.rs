//! The rows of a period's parts, added up per group.

use super::GroupKey;
use crate::db::split::add_up_by;

/// The rows of the parts of a period ([`crate::db::Db::parts_side_by_side`]) added up per group, in the order
/// every grouped query returns its groups (by key, those without a value last). A period in one part keeps its
/// rows as they came, in the database's order (PostgreSQL orders text by its collation).
pub(super) fn add_up_parts<R>(
    parts: Vec<Vec<R>>,
    key_of: impl Fn(&R) -> &GroupKey,
    add: impl Fn(&mut R, &R),
) -> Vec<R> {
    if parts.len() == 1 {
        return parts.into_iter().flatten().collect();
    }
    add_up_by(
        parts.into_iter().flatten(),
        |row| {
            let key = key_of(row);
            (
                key.group_id.is_none(),
                key.group_id,
                key.group_text.is_none(),
                key.group_text.clone(),
            )
        },
        add,
    )
}
