//! What the insights module does when a contact is merged, erased or
//! exported (registered in `crate::modules`).

use uuid::Uuid;

use super::{figures::Subject, refresh};
use crate::{
    db::{Db, Tx},
    hooks::{ContactRecords, Hook, Section, SectionSchema, section},
    on_tx,
};

pub struct Insights;

impl ContactRecords for Insights {
    /// Nothing to move: the job recomputes the survivor from the records
    /// the other modules moved to it.
    fn reassign<'a>(&'a self, _tx: &'a mut Tx, _duplicate: Uuid, _survivor: Uuid) -> Hook<'a> {
        Box::pin(async { Ok(()) })
    }

    /// An erased person is no longer profiled: their stored insights go,
    /// and no refresh computes them again.
    fn erase<'a>(&'a self, tx: &'a mut Tx, contact: Uuid) -> Hook<'a> {
        Box::pin(async move {
            on_tx!(tx, c => sqlx::query(
                "UPDATE contacts SET insights = NULL, insights_computed_at = NULL, loyalty_status = 'prospect',
                    rfm_segment = NULL, nps_class = NULL, churn_risk = NULL WHERE id = $1"
            ).bind(contact).execute(&mut **c).await.map(|r| r.rows_affected()))?;
            Ok(())
        })
    }

    /// The profile the firm keeps of the person (their right of access
    /// covers profiling).
    fn export<'a>(&'a self, db: &'a Db, contact: Uuid) -> Hook<'a, Vec<Section>> {
        Box::pin(async move {
            // None for an erased person.
            let insights = refresh::for_customer(db, Subject::Contact, contact).await?;
            Ok(vec![section("insights", insights)?])
        })
    }

    fn export_schema(&self) -> Vec<SectionSchema> {
        vec![SectionSchema {
            name: "insights",
            schema: serde_json::json!({
                "description": "What the firm computes about the person: RFM scores, loyalty status, churn \
                    risk; `null` once the person is erased.",
                "oneOf": [{"$ref": "#/components/schemas/Insights"}, {"type": "null"}],
            }),
        }]
    }
}
