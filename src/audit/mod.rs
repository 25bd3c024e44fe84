//! The audit log: who changed what, when. Every change to customer data writes
//! an event in the same transaction as the change itself.

pub mod routes;

use actix_web::HttpRequest;
use serde::Serialize;
use serde_json::{Map, Value, json};
use sqlx::types::Json;
use uuid::Uuid;

use crate::db::records::{Bind, Record};

use crate::{
    auth::Principal,
    db::{Tx, new_id, now},
    domain::mask::{mask_email, mask_phone},
    http::{ApiError, request_id},
    on_tx,
};

/// Who acted, carried into repository functions that write audit events.
#[derive(Clone, Debug)]
pub struct Actor {
    pub kind: &'static str,
    pub id: Uuid,
    pub request_id: Option<String>,
}

impl Actor {
    pub fn new(principal: &Principal, req: &HttpRequest) -> Self {
        let (kind, id) = principal.actor();
        Self {
            kind,
            id,
            request_id: request_id(req),
        }
    }

    pub fn system() -> Self {
        Self {
            kind: "system",
            id: Uuid::nil(),
            request_id: None,
        }
    }

    pub fn user_id(&self) -> Option<Uuid> {
        (self.kind == "user").then_some(self.id)
    }
}

/// The changed fields of one event: `{"field": {"before": …, "after": …}}`.
#[derive(Debug, Default)]
pub struct Change(Map<String, Value>);

/// Fields never written to the log in clear.
const EMAIL_FIELDS: [&str; 2] = ["email", "emails"];
const PHONE_FIELDS: [&str; 2] = ["phone", "phones"];
const NAME_FIELDS: [&str; 4] = ["first_name", "last_name", "display_name", "full_name"];
/// Bookkeeping fields that change on every write and say nothing.
const IGNORED: [&str; 3] = ["version", "updated_at", "created_at"];

impl Change {
    pub fn none() -> Self {
        Self::default()
    }

    pub fn created(after: &impl Serialize) -> Self {
        Self::diff_values(&Value::Null, &to_value(after))
    }

    pub fn diff(before: &impl Serialize, after: &impl Serialize) -> Self {
        Self::diff_values(&to_value(before), &to_value(after))
    }

    pub fn diff_values(before: &Value, after: &Value) -> Self {
        let empty = Map::new();
        let b = before.as_object().unwrap_or(&empty);
        let a = after.as_object().unwrap_or(&empty);
        let mut out = Map::new();
        for key in b.keys().chain(a.keys().filter(|k| !b.contains_key(*k))) {
            if IGNORED.contains(&key.as_str()) || key == "id" {
                continue;
            }
            let (old, new) = (
                b.get(key).unwrap_or(&Value::Null),
                a.get(key).unwrap_or(&Value::Null),
            );
            if old != new {
                let entry = if before.is_null() {
                    json!({"after": mask(key, new)})
                } else {
                    json!({"before": mask(key, old), "after": mask(key, new)})
                };
                out.insert(key.clone(), entry);
            }
        }
        Self(out)
    }

    /// The names of the changed fields.
    pub fn fields(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }

    /// Adds a free-form note, e.g. the id a contact was merged from.
    pub fn with(mut self, key: &str, value: impl Serialize) -> Self {
        self.0.insert(key.to_string(), to_value(&value));
        self
    }
}

fn to_value(v: &impl Serialize) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

fn mask(field: &str, value: &Value) -> Value {
    let masker: fn(&str) -> String = if EMAIL_FIELDS.contains(&field) {
        mask_email
    } else if PHONE_FIELDS.contains(&field) {
        mask_phone
    } else if NAME_FIELDS.contains(&field) {
        |s: &str| {
            s.chars()
                .next()
                .map(|c| format!("{c}***"))
                .unwrap_or_default()
        }
    } else {
        return value.clone();
    };
    map_strings(value, masker)
}

fn map_strings(value: &Value, f: fn(&str) -> String) -> Value {
    match value {
        Value::String(s) => Value::String(f(s)),
        Value::Array(items) => Value::Array(items.iter().map(|v| map_strings(v, f)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), map_strings(v, f)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Writes one event inside the caller's transaction.
pub async fn record(
    tx: &mut Tx,
    actor: &Actor,
    action: &str,
    entity_type: &str,
    entity_id: Uuid,
    change: Change,
) -> Result<(), ApiError> {
    let actor_id = (actor.kind != "system").then_some(actor.id);
    // Written with the transaction's next statement (see `db::records`).
    tx.append(Record::new(
        "INSERT INTO audit_events (id, occurred_at, actor_type, actor_id, action, entity_type, entity_id, changes, request_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        vec![
            Bind::Uuid(new_id()),
            Bind::Time(now()),
            Bind::Text(actor.kind.to_string()),
            Bind::OptionalUuid(actor_id),
            Bind::Text(action.to_string()),
            Bind::Text(entity_type.to_string()),
            Bind::Uuid(entity_id),
            Bind::Json(Value::Object(change.0)),
            Bind::OptionalText(actor.request_id.clone()),
        ],
    ));
    Ok(())
}

/// Erasure: empties the recorded values of every event about the entities of
/// `entity_type` that `ids_sql` selects (with `$1` bound to `subject`, e.g.
/// `SELECT id FROM feedback WHERE contact_id = $1`). Who did what, and when,
/// stays; what the values were does not, masked or not.
pub async fn forget(
    tx: &mut Tx,
    entity_type: &str,
    ids_sql: &'static str,
    subject: Uuid,
) -> Result<(), ApiError> {
    on_tx!(tx, c => sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE audit_events SET changes = $2 WHERE entity_type = $3 AND entity_id IN ({ids_sql})"
    ))).bind(subject).bind(Json(json!({"erased": true}))).bind(entity_type)
     .execute(&mut **c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_diff_lists_only_changed_fields() {
        let before = json!({"id": 1, "title": "CTO", "city": "Berlin", "version": 1});
        let after = json!({"id": 1, "title": "CEO", "city": "Berlin", "version": 2});
        let change = Change::diff_values(&before, &after);
        assert_eq!(
            Value::Object(change.0),
            json!({"title": {"before": "CTO", "after": "CEO"}})
        );
    }

    #[test]
    fn personal_values_are_masked() {
        let before =
            json!({"email": "pat@acme.example", "phone": "+8613812345678", "first_name": "Pat"});
        let after =
            json!({"email": "pat.lee@acme.example", "phone": null, "first_name": "Patricia"});
        let change = Value::Object(Change::diff_values(&before, &after).0);
        assert_eq!(change["email"]["before"], "p***@acme.example");
        assert_eq!(change["phone"]["before"], "+86 138****5678");
        assert_eq!(change["phone"]["after"], Value::Null);
        assert_eq!(change["first_name"]["after"], "P***");
    }

    #[test]
    fn a_creation_has_no_before() {
        let change = Value::Object(Change::created(&json!({"name": "Acme"})).0);
        assert_eq!(change, json!({"name": {"after": "Acme"}}));
    }
}
