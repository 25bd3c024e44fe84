//! What the tasks module does when a contact is merged, erased or exported,
//! and its branch of the timelines (registered in `crate::modules`).

use uuid::Uuid;

use super::model::TaskRow;
use crate::{
    auth::Area,
    db::{Db, Tx, now},
    domain::ERASED,
    hooks::{ContactRecords, Hook, Section, SectionSchema, list_of, section},
    on_db, on_tx,
    timeline::sources::Source,
    transactions::history::{Parties, refresh_next_task},
};

pub struct Tasks;

impl ContactRecords for Tasks {
    fn reassign<'a>(&'a self, tx: &'a mut Tx, duplicate: Uuid, survivor: Uuid) -> Hook<'a> {
        Box::pin(async move {
            on_tx!(&mut *tx, c => sqlx::query(
                "UPDATE tasks SET contact_id = $2, done_contact_id = CASE WHEN done_contact_id IS NULL THEN NULL ELSE $2 END,
                    version = version + 1, updated_at = $3
                 WHERE contact_id = $1"
            ).bind(duplicate).bind(survivor).bind(now()).execute(&mut **c).await.map(|r| r.rows_affected()))?;
            let survivor = Parties {
                account_id: None,
                contact_id: Some(survivor),
            };
            refresh_next_task(tx, &[survivor]).await
        })
    }

    /// The tasks stay (with kind, dates and status); their free text goes.
    fn erase<'a>(&'a self, tx: &'a mut Tx, contact: Uuid) -> Hook<'a> {
        Box::pin(async move {
            on_tx!(tx, c => sqlx::query(
                "UPDATE tasks SET title = $2, description = CASE WHEN description IS NULL THEN NULL ELSE $2 END,
                    outcome = CASE WHEN outcome IS NULL THEN NULL ELSE $2 END
                 WHERE contact_id = $1"
            ).bind(contact).bind(ERASED).execute(&mut **c).await.map(|r| r.rows_affected()))?;
            Ok(())
        })
    }

    fn export<'a>(&'a self, db: &'a Db, contact: Uuid) -> Hook<'a, Vec<Section>> {
        Box::pin(async move {
            let rows: Vec<TaskRow> = on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {} FROM tasks WHERE contact_id = $1 ORDER BY created_at, id",
                super::model::COLUMNS
            ))).bind(contact).fetch_all(pool).await)?;
            let now = now();
            let tasks: Vec<_> = rows.into_iter().map(|r| r.into_task(now)).collect();
            Ok(vec![section("tasks", tasks)?])
        })
    }

    fn export_schema(&self) -> Vec<SectionSchema> {
        vec![SectionSchema {
            name: "tasks",
            schema: list_of("Task", "The tasks about the contact, oldest first."),
        }]
    }
}

/// Done tasks, at the time they were done.
pub const TIMELINE: Source = Source {
    kind: "task",
    area: Area::Tasks,
    select: "SELECT 'task' AS kind, t.id AS id, t.completed_at AS occurred_at, CAST(NULL AS UUID) AS channel_id,
                    t.done_contact_id AS contact_id, t.done_account_id AS account_id, t.engagement_id AS engagement_id,
                    t.kind AS item_type, COALESCE(t.title || ': ' || t.outcome, t.title) AS summary
             FROM tasks t",
    occurred_at: "t.completed_at",
    id: "t.id",
    contact_id: Some("t.done_contact_id"),
    account_id: Some("t.done_account_id"),
    engagement_id: None,
    in_account_timeline: true,
    link: |row| format!("/v1/tasks/{}", row.id),
};
