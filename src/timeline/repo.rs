//! The timeline query: one UNION ALL over the sources' branches, ordered and
//! cut by the database.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{model::TimelineRow, sources::Source};
use crate::db::refs::{Live, is_live};
use crate::{db::Db, http::ApiError, on_db};

/// Whose timeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Contact,
    Account,
    Engagement,
}

/// The branches of one source for a scope, each cut to `rows`. Parameters:
/// `$1` the contact or account id, `$2`/`$3` the cursor.
fn branches(source: &Source, scope: Scope, keyset: bool, rows: i64) -> Vec<String> {
    let Source {
        select,
        occurred_at,
        id,
        contact_id,
        account_id,
        engagement_id,
        in_account_timeline,
        ..
    } = source;
    let after = if keyset {
        format!("AND ({occurred_at}, {id}) < ($2, $3)")
    } else {
        String::new()
    };
    let tail = format!("{after} ORDER BY {occurred_at} DESC, {id} DESC LIMIT {rows}");
    let of_contacts = |contact_id: &str| {
        format!(
            "{contact_id} IN (SELECT id FROM contacts WHERE account_id = $1 AND deleted_at IS NULL)"
        )
    };
    match (scope, contact_id, account_id) {
        (Scope::Account, ..) if !in_account_timeline => vec![],
        (Scope::Engagement, ..) => engagement_id
            .iter()
            .map(|e| format!("{select} WHERE {e} = $1 {tail}"))
            .collect(),
        (Scope::Contact, Some(contact_id), _) => {
            vec![format!("{select} WHERE {contact_id} = $1 {tail}")]
        }
        (Scope::Contact, None, _) | (Scope::Account, None, None) => vec![],
        (Scope::Account, None, Some(account_id)) => {
            vec![format!("{select} WHERE {account_id} = $1 {tail}")]
        }
        (Scope::Account, Some(contact_id), None) => {
            vec![format!("{select} WHERE {} {tail}", of_contacts(contact_id))]
        }
        // What was logged against the account, and its contacts' items tied
        // to no account; each branch reads its own index. Items logged against
        // another account stay in that account's timeline.
        (Scope::Account, Some(contact_id), Some(account_id)) => vec![
            format!("{select} WHERE {account_id} = $1 {tail}"),
            format!(
                "{select} WHERE {account_id} IS NULL AND {} {tail}",
                of_contacts(contact_id)
            ),
        ],
    }
}

/// The whole statement for the given sources, `rows` rows at most. The
/// count is written in the SQL, not bound (see `db::sql::keyset_page`).
pub fn timeline_sql(sources: &[&Source], scope: Scope, keyset: bool, rows: i64) -> String {
    let union = sources
        .iter()
        .flat_map(|s| branches(s, scope, keyset, rows))
        .enumerate()
        .map(|(n, branch)| format!("SELECT * FROM ({branch}) b{n}"))
        .collect::<Vec<_>>()
        .join("\nUNION ALL\n");
    format!(
        "SELECT t.kind, t.id, t.occurred_at, t.channel_id, ch.kind AS channel_kind, ch.name AS channel_name,
                t.contact_id, t.account_id, t.engagement_id, t.item_type, t.summary
         FROM ({union}) t
         LEFT JOIN channels ch ON ch.id = t.channel_id
         ORDER BY t.occurred_at DESC, t.id DESC
         LIMIT {rows}"
    )
}

/// 404 unless the contact or account exists and is not deleted.
pub async fn ensure_exists(db: &Db, scope: Scope, id: Uuid) -> Result<(), ApiError> {
    let (kind, what) = match scope {
        Scope::Contact => (Live::Contact, "contact"),
        Scope::Account => (Live::Account, "account"),
        Scope::Engagement => (Live::Engagement, "engagement"),
    };
    if is_live(db, kind, id).await? {
        Ok(())
    } else {
        Err(ApiError::not_found(what, id))
    }
}

/// One page (plus one row) of the timeline, newest first.
pub async fn page(
    db: &Db,
    sources: &[&Source],
    scope: Scope,
    id: Uuid,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<TimelineRow>, ApiError> {
    if sources
        .iter()
        .all(|s| branches(s, scope, false, 0).is_empty())
    {
        return Ok(vec![]);
    }
    let sql = timeline_sql(sources, scope, after.is_some(), limit + 1);
    let (t, after_id) = after.unzip();
    Ok(
        on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
        .bind(id).bind(t).bind(after_id).fetch_all(pool).await)?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interactions::hooks::TIMELINE as INTERACTIONS;

    #[test]
    fn a_contact_timeline_has_one_branch_per_source() {
        let sql = timeline_sql(&[&INTERACTIONS], Scope::Contact, false, 51);
        assert_eq!(sql.matches("UNION ALL").count(), 0);
        assert!(
            sql.contains(
                "WHERE i.contact_id = $1  ORDER BY i.occurred_at DESC, i.id DESC LIMIT 51"
            )
        );
        assert!(!sql.contains("$2"));
    }

    #[test]
    fn an_account_timeline_adds_its_contacts_items_tied_to_no_account() {
        let sql = timeline_sql(&[&INTERACTIONS, &INTERACTIONS], Scope::Account, true, 51);
        assert_eq!(sql.matches("UNION ALL").count(), 3);
        assert!(
            sql.contains("WHERE i.account_id IS NULL AND i.contact_id IN (SELECT id FROM contacts")
        );
        assert_eq!(sql.matches("(i.occurred_at, i.id) < ($2, $3)").count(), 4);
    }
}
