//! The hooks registry: what each module does when a contact is merged,
//! erased or exported, and the kinds of event it adds to timelines. The
//! customer record calls the hooks it finds here and imports no other
//! module; each module implements [`ContactRecords`] in its own folder and is
//! registered once, in `crate::modules`.

use std::sync::Arc;

use futures_util::future::BoxFuture;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::{
    db::{Db, Tx},
    events::EventType,
    http::ApiError,
    timeline::sources::Source,
};

/// A hook's future: it runs inside the caller's transaction (or on the pool
/// for exports), so a failing hook rolls the whole change back.
pub type Hook<'a, T = ()> = BoxFuture<'a, Result<T, ApiError>>;

/// One section of the person export: a member of the export's JSON body.
pub struct Section {
    pub name: &'static str,
    pub value: Value,
}

/// How a section is described in the OpenAPI document (a JSON Schema).
pub struct SectionSchema {
    pub name: &'static str,
    pub schema: Value,
}

/// The records a module keeps about a contact, and how they follow the
/// contact. Every method runs inside the merge's or erasure's transaction.
pub trait ContactRecords: Send + Sync {
    /// Merge: moves the duplicate's records to the survivor.
    fn reassign<'a>(&'a self, tx: &'a mut Tx, duplicate: Uuid, survivor: Uuid) -> Hook<'a>;

    /// Erasure: removes the personal data the module holds about the
    /// contact, keeping what aggregates need.
    fn erase<'a>(&'a self, tx: &'a mut Tx, contact: Uuid) -> Hook<'a>;

    /// The ids by which the module's API answers name the person (beyond the
    /// contact id), so erasure can forget stored answers that mention them.
    fn ids_naming<'a>(&'a self, _tx: &'a mut Tx, _contact: Uuid) -> Hook<'a, Vec<Uuid>> {
        Box::pin(async { Ok(Vec::new()) })
    }

    /// Person export: what the module holds about the contact, unmasked.
    fn export<'a>(&'a self, _db: &'a Db, _contact: Uuid) -> Hook<'a, Vec<Section>> {
        Box::pin(async { Ok(Vec::new()) })
    }

    /// The schemas of the sections [`ContactRecords::export`] gives.
    fn export_schema(&self) -> Vec<SectionSchema> {
        Vec::new()
    }
}

/// Every module's hooks, in registration order (the order they run in).
#[derive(Clone, Default)]
pub struct Registry {
    contact_records: Vec<Arc<dyn ContactRecords>>,
    timeline: Vec<&'static Source>,
    events: Vec<&'static EventType>,
}

impl Registry {
    pub fn with(mut self, records: impl ContactRecords + 'static) -> Self {
        self.contact_records.push(Arc::new(records));
        self
    }

    /// Adds a kind of event to contact and account timelines.
    pub fn with_timeline(mut self, source: &'static Source) -> Self {
        self.timeline.push(source);
        self
    }

    /// Adds a module's kinds of event (see `crate::events`).
    pub fn with_events(mut self, types: &'static [EventType]) -> Self {
        self.events.extend(types);
        self
    }

    /// Every kind of event, in registration order.
    pub fn event_types(&self) -> &[&'static EventType] {
        &self.events
    }

    pub fn event_type(&self, name: &str) -> Option<&'static EventType> {
        self.events.iter().copied().find(|t| t.name == name)
    }

    /// Every timeline kind, in registration order.
    pub fn timeline_sources(&self) -> &[&'static Source] {
        &self.timeline
    }

    pub fn timeline_source(&self, kind: &str) -> Option<&'static Source> {
        self.timeline.iter().copied().find(|s| s.kind == kind)
    }

    pub async fn on_merge(
        &self,
        tx: &mut Tx,
        duplicate: Uuid,
        survivor: Uuid,
    ) -> Result<(), ApiError> {
        for records in &self.contact_records {
            records.reassign(tx, duplicate, survivor).await?;
        }
        Ok(())
    }

    pub async fn on_erase(&self, tx: &mut Tx, contact: Uuid) -> Result<(), ApiError> {
        for records in &self.contact_records {
            records.erase(tx, contact).await?;
        }
        Ok(())
    }

    /// The contact's id and every id the modules' answers name the person by.
    pub async fn ids_naming(&self, tx: &mut Tx, contact: Uuid) -> Result<Vec<Uuid>, ApiError> {
        let mut ids = vec![contact];
        for records in &self.contact_records {
            ids.extend(records.ids_naming(tx, contact).await?);
        }
        Ok(ids)
    }

    /// The modules' sections of a person export, by name.
    pub async fn export(&self, db: &Db, contact: Uuid) -> Result<Map<String, Value>, ApiError> {
        let mut sections = Map::new();
        for records in &self.contact_records {
            for section in records.export(db, contact).await? {
                sections.insert(section.name.to_string(), section.value);
            }
        }
        Ok(sections)
    }

    /// Lists every kind of event under the tag `tag`'s description.
    pub fn describe_events(&self, doc: &mut Value, tag: &str) {
        let Some(tags) = doc["tags"].as_array_mut() else {
            return;
        };
        let Some(entry) = tags.iter_mut().find(|t| t["name"] == tag) else {
            return;
        };
        let mut text = entry["description"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        for kind in &self.events {
            let readers = if kind.area.admin_only() {
                "admins".to_string()
            } else {
                format!("{}:read", kind.area.as_str())
            };
            text.push_str(&format!("\n- `{}` ({readers}): {}", kind.name, kind.about));
        }
        entry["description"] = Value::String(text);
    }

    /// Adds the modules' sections to the schema `name` in the document (a
    /// required property each, before `before`).
    pub fn describe_export(&self, doc: &mut Value, name: &str, before: &str) {
        let schema = &mut doc["components"]["schemas"][name];
        let Some(properties) = schema["properties"].as_object().cloned() else {
            return;
        };
        let sections: Vec<SectionSchema> = self
            .contact_records
            .iter()
            .flat_map(|r| r.export_schema())
            .collect();
        let mut ordered = Map::new();
        for (key, value) in properties {
            if key == before {
                for section in &sections {
                    ordered.insert(section.name.to_string(), section.schema.clone());
                }
            }
            ordered.insert(key, value);
        }
        schema["properties"] = Value::Object(ordered);
        if let Some(required) = schema["required"].as_array_mut() {
            let at = required
                .iter()
                .position(|r| r == before)
                .unwrap_or(required.len());
            for (i, section) in sections.iter().enumerate() {
                required.insert(at + i, section.name.into());
            }
        }
    }
}

/// A section's schema: a list of one component, described.
pub fn list_of(component: &str, description: &str) -> Value {
    serde_json::json!({
        "type": "array",
        "items": {"$ref": format!("#/components/schemas/{component}")},
        "description": description,
    })
}

/// A section's schema: one component, described.
pub fn one(component: &str, description: &str) -> Value {
    serde_json::json!({
        "$ref": format!("#/components/schemas/{component}"),
        "description": description,
    })
}

/// A section's value.
pub fn section(name: &'static str, value: impl serde::Serialize) -> Result<Section, ApiError> {
    Ok(Section {
        name,
        value: serde_json::to_value(value).map_err(ApiError::internal)?,
    })
}
