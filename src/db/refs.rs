//! The one reference checker: the records a request points at must exist
//! (and be what the request needs), so a bad id is a 422 naming the field
//! rather than a foreign-key error from the database. One [`References`]
//! collects every bad reference of a request, so the answer names them all.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    On, Tx,
    records::{Bind, Record},
};
use crate::{
    http::{ApiError, FieldError},
    on_tx,
};

/// A record that is live while it is not deleted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Live {
    Account,
    Contact,
    Engagement,
}

/// Whether a live (not deleted) account, contact or engagement has this id.
pub async fn is_live<'a>(on: impl Into<On<'a>>, kind: Live, id: Uuid) -> Result<bool, ApiError> {
    let sql = match kind {
        Live::Account => "SELECT id FROM accounts WHERE id = $1 AND deleted_at IS NULL",
        Live::Contact => "SELECT id FROM contacts WHERE id = $1 AND deleted_at IS NULL",
        Live::Engagement => "SELECT id FROM engagements WHERE id = $1",
    };
    let found: Option<(Uuid,)> =
        crate::on!(on.into(), e => sqlx::query_as(sql).bind(id).fetch_optional(e).await)?;
    Ok(found.is_some())
}

/// Whether a deactivated user or channel may be referred to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Active {
    /// Any live record, active or not (e.g. the owner of an old record).
    Any,
    /// Only an active one; `takes` says what a deactivated one no longer
    /// takes, for the message ("interactions", "feedback", "assignments").
    Required { takes: &'static str },
}

/// A channel that was found, with what writes on it need to know.
#[derive(Clone, Debug, Default, sqlx::FromRow)]
pub struct ChannelFacts {
    pub kind: String,
    pub first_response_minutes: Option<i64>,
    pub resolution_business_days: Option<i64>,
    pub active: bool,
}

/// Every bad reference of one request, checked inside its transaction.
#[derive(Default)]
pub struct References {
    errors: Vec<FieldError>,
}

impl References {
    pub fn new() -> Self {
        Self::default()
    }

    /// Another rule of the request, reported together with the references.
    pub fn also(&mut self, error: FieldError) {
        self.errors.push(error);
    }

    /// A live account (not deleted).
    pub async fn account(
        &mut self,
        tx: &mut Tx,
        field: &str,
        id: Option<Uuid>,
    ) -> Result<(), ApiError> {
        let Some(id) = id else { return Ok(()) };
        if !is_live(&mut *tx, Live::Account, id).await? {
            self.not_found(field, "account", id);
        }
        Ok(())
    }

    /// A live user (not deleted), and an active one when `active` requires it.
    pub async fn user(
        &mut self,
        tx: &mut Tx,
        field: &str,
        id: Option<Uuid>,
        active: Active,
    ) -> Result<(), ApiError> {
        let Some(id) = id else { return Ok(()) };
        let found: Option<(bool,)> = on_tx!(tx, c => sqlx::query_as(
            "SELECT active FROM users WHERE id = $1 AND deleted_at IS NULL"
        ).bind(id).fetch_optional(&mut **c).await)?;
        match (found, active) {
            (None, Active::Any) => self.errors.push(FieldError::new(
                field,
                "not_found",
                format!("no user has the id {id}"),
            )),
            (None, Active::Required { .. }) | (Some((false,)), Active::Required { .. }) => {
                self.errors.push(FieldError::new(
                    field,
                    "not_found",
                    format!("no active user has the id {id}"),
                ))
            }
            _ => {}
        }
        Ok(())
    }

    /// A live contact whose personal data was not erased (nothing new is
    /// recorded for an erased person). Gives the contact's account, when the
    /// contact is fine.
    pub async fn contact(
        &mut self,
        tx: &mut Tx,
        field: &str,
        id: Option<Uuid>,
    ) -> Result<Option<Option<Uuid>>, ApiError> {
        let Some(id) = id else { return Ok(None) };
        let found: Option<(Option<Uuid>, Option<DateTime<Utc>>)> = on_tx!(tx, c => sqlx::query_as(
            "SELECT account_id, erased_at FROM contacts WHERE id = $1 AND deleted_at IS NULL"
        ).bind(id).fetch_optional(&mut **c).await)?;
        match found {
            None => {
                self.not_found(field, "contact", id);
                Ok(None)
            }
            Some((_, Some(_))) => {
                self.errors.push(FieldError::new(
                    field,
                    "erased",
                    "the contact was erased: their history is kept anonymised and nothing new is recorded for them",
                ));
                Ok(None)
            }
            Some((account_id, None)) => Ok(Some(account_id)),
        }
    }

    /// A channel, and an active one when `active` requires it.
    pub async fn channel(
        &mut self,
        tx: &mut Tx,
        field: &str,
        id: Option<Uuid>,
        active: Active,
    ) -> Result<Option<ChannelFacts>, ApiError> {
        let Some(id) = id else { return Ok(None) };
        let found: Option<ChannelFacts> = on_tx!(tx, c => sqlx::query_as(
            "SELECT kind, first_response_minutes, resolution_business_days, active FROM channels WHERE id = $1"
        ).bind(id).fetch_optional(&mut **c).await)?;
        match (found, active) {
            (None, _) => {
                self.errors.push(FieldError::new(
                    field,
                    "not_found",
                    format!("no channel has the id {id}"),
                ));
                Ok(None)
            }
            (Some(channel), Active::Required { takes }) if !channel.active => {
                self.errors.push(FieldError::new(
                    field,
                    "inactive",
                    format!(
                        "the channel is deactivated and takes no new {takes}; use an active channel"
                    ),
                ));
                Ok(None)
            }
            (Some(channel), _) => Ok(Some(channel)),
        }
    }

    /// An engagement, for a record of the engagement's own account: what is
    /// tied to an engagement belongs to that engagement's client.
    pub async fn engagement(
        &mut self,
        tx: &mut Tx,
        field: &str,
        id: Option<Uuid>,
        account: Option<Uuid>,
    ) -> Result<(), ApiError> {
        let Some(id) = id else { return Ok(()) };
        let of_engagement: Option<Uuid> = on_tx!(tx, c => sqlx::query_scalar(
            "SELECT account_id FROM engagements WHERE id = $1"
        ).bind(id).fetch_optional(&mut **c).await)?;
        match of_engagement {
            None => self.not_found(field, "engagement", id),
            Some(a) if account != Some(a) => self.errors.push(FieldError::new(
                field,
                "other_account",
                format!("the engagement is for another account ({a}) than this record's"),
            )),
            Some(_) => {}
        }
        Ok(())
    }

    /// 422 naming every bad reference (and rule) found, if any.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::validation(self.errors))
        }
    }

    fn not_found(&mut self, field: &str, noun: &str, id: Uuid) {
        self.errors.push(FieldError::new(
            field,
            "not_found",
            format!("no {noun} has the id {id} (or it was deleted)"),
        ));
    }
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

/// Adds the tag rows of a new owner, in one statement that the transaction
/// keeps and writes with its next statement or its commit (`db::records`).
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
    let binds = std::iter::once(Bind::Uuid(owner))
        .chain(tags.iter().cloned().map(Bind::Text))
        .collect();
    tx.append(Record::new(format!("{insert} {}", rows.join(", ")), binds));
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
