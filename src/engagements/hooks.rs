//! What the engagements module does when a contact is merged, erased or
//! exported, and its branch of the timelines (registered in `crate::modules`).

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::model::EngagementRole;
use crate::{
    auth::Area,
    db::{Db, Tx},
    hooks::{ContactRecords, Hook, Section, SectionSchema, section},
    on_db, on_tx,
    timeline::sources::Source,
};

pub struct Engagements;

/// A role the contact holds on an engagement, as the person export shows it.
#[derive(Serialize, sqlx::FromRow)]
struct Role {
    engagement_id: Uuid,
    role: EngagementRole,
    added_at: DateTime<Utc>,
}

impl ContactRecords for Engagements {
    /// The survivor takes the duplicate's roles on engagements it is not on yet.
    fn reassign<'a>(&'a self, tx: &'a mut Tx, duplicate: Uuid, survivor: Uuid) -> Hook<'a> {
        Box::pin(async move {
            on_tx!(tx, c => sqlx::query(
                "UPDATE engagement_contacts SET contact_id = $2 WHERE contact_id = $1 AND engagement_id NOT IN
                    (SELECT engagement_id FROM engagement_contacts WHERE contact_id = $2)"
            ).bind(duplicate).bind(survivor).execute(&mut **c).await.map(|r| r.rows_affected()))?;
            on_tx!(tx, c => sqlx::query("DELETE FROM engagement_contacts WHERE contact_id = $1")
                .bind(duplicate).execute(&mut **c).await.map(|r| r.rows_affected()))?;
            Ok(())
        })
    }

    /// A role holds no personal text: the erased person stays on the
    /// engagement, anonymised with the contact.
    fn erase<'a>(&'a self, _tx: &'a mut Tx, _contact: Uuid) -> Hook<'a> {
        Box::pin(async { Ok(()) })
    }

    fn export<'a>(&'a self, db: &'a Db, contact: Uuid) -> Hook<'a, Vec<Section>> {
        Box::pin(async move {
            let roles: Vec<Role> = on_db!(db, pool => sqlx::query_as(
                "SELECT engagement_id, role, added_at FROM engagement_contacts WHERE contact_id = $1
                 ORDER BY added_at, engagement_id"
            ).bind(contact).fetch_all(pool).await)?;
            Ok(vec![section("engagement_roles", roles)?])
        })
    }

    fn export_schema(&self) -> Vec<SectionSchema> {
        vec![SectionSchema {
            name: "engagement_roles",
            schema: serde_json::json!({
                "type": "array",
                "description": "The engagements the contact is on, with their role, oldest first.",
                "items": {
                    "type": "object",
                    "required": ["engagement_id", "role", "added_at"],
                    "properties": {
                        "engagement_id": {"type": "string", "format": "uuid"},
                        "role": {"$ref": "#/components/schemas/EngagementRole"},
                        "added_at": {"type": "string", "format": "date-time"}
                    }
                }
            }),
        }]
    }
}

/// The status changes of an account's engagements (their creation included).
pub const TIMELINE: Source = Source {
    kind: "engagement",
    area: Area::Engagements,
    select: "SELECT 'engagement' AS kind, s.id AS id, s.occurred_at AS occurred_at, CAST(NULL AS UUID) AS channel_id,
                    CAST(NULL AS UUID) AS contact_id, s.account_id AS account_id, s.engagement_id AS engagement_id,
                    s.to_status AS item_type,
                    e.name || ': ' || COALESCE(s.from_status || ' → ' || s.to_status, 'created as ' || s.to_status) AS summary
             FROM engagement_status_changes s JOIN engagements e ON e.id = s.engagement_id",
    occurred_at: "s.occurred_at",
    id: "s.id",
    contact_id: None,
    account_id: Some("s.account_id"),
    engagement_id: Some("s.engagement_id"),
    in_account_timeline: true,
    link: |row| {
        row.engagement_id
            .map(|id| format!("/v1/engagements/{id}"))
            .unwrap_or_default()
    },
};

/// The same status changes in the timelines of the people on the engagement.
pub const PEOPLE_TIMELINE: Source = Source {
    select: "SELECT 'engagement' AS kind, s.id AS id, s.occurred_at AS occurred_at, CAST(NULL AS UUID) AS channel_id,
                    p.contact_id AS contact_id, s.account_id AS account_id, s.engagement_id AS engagement_id,
                    s.to_status AS item_type,
                    e.name || ': ' || COALESCE(s.from_status || ' → ' || s.to_status, 'created as ' || s.to_status) AS summary
             FROM engagement_status_changes s JOIN engagements e ON e.id = s.engagement_id
                  JOIN engagement_contacts p ON p.engagement_id = s.engagement_id",
    contact_id: Some("p.contact_id"),
    engagement_id: None,
    in_account_timeline: false,
    ..TIMELINE
};
