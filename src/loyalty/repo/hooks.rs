//! What contact merges and erasures do to loyalty data (registered in
//! `crate::modules`; run inside the merge's or erasure's transaction).

use uuid::Uuid;

use super::{
    ENTRY_SELECT, MEMBER_COLUMNS, expiry, members,
    posting::{Lock, Post, credit, debit},
    program,
    tiers::retier,
};
use crate::{
    audit::{self, Actor, Change},
    db::{Db, Tx, now},
    hooks::{ContactRecords, Hook, Section, SectionSchema, list_of, section},
    http::ApiError,
    loyalty::{
        ledger::{EntryKind, EntryRow, LedgerEntry},
        members::MemberRow,
    },
    on_db, on_tx,
};
use crate::{auth::Area, timeline::sources::Source};

pub struct Loyalty;

impl ContactRecords for Loyalty {
    fn reassign<'a>(&'a self, tx: &'a mut Tx, duplicate: Uuid, survivor: Uuid) -> Hook<'a> {
        Box::pin(reassign_contact(tx, duplicate, survivor))
    }

    fn erase<'a>(&'a self, tx: &'a mut Tx, contact: Uuid) -> Hook<'a> {
        Box::pin(erase_contact(tx, contact))
    }

    /// Ledger answers name the member, not the contact.
    fn ids_naming<'a>(&'a self, tx: &'a mut Tx, contact: Uuid) -> Hook<'a, Vec<Uuid>> {
        Box::pin(member_ids_of_contact(tx, contact))
    }

    fn export<'a>(&'a self, db: &'a Db, contact: Uuid) -> Hook<'a, Vec<Section>> {
        Box::pin(async move {
            let member = members::get_if_member(db, contact).await?;
            // Every entry of the person's memberships, merged ones included.
            let rows: Vec<EntryRow> = on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{ENTRY_SELECT} WHERE m.contact_id = $1 ORDER BY e.created_at, e.id"
            ))).bind(contact).fetch_all(pool).await)?;
            let ledger: Vec<LedgerEntry> = rows.into_iter().map(|r| r.into_entry(None)).collect();
            Ok(vec![
                section("loyalty_member", member)?,
                section("loyalty_ledger", ledger)?,
            ])
        })
    }

    fn export_schema(&self) -> Vec<SectionSchema> {
        vec![
            SectionSchema {
                name: "loyalty_member",
                schema: serde_json::json!({
                    "oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/Member"}],
                    "description": "The person's loyalty membership (balance, tier), or null when not enrolled.",
                }),
            },
            SectionSchema {
                name: "loyalty_ledger",
                schema: list_of(
                    "LedgerEntry",
                    "Every points entry of the person's memberships, oldest first.",
                ),
            },
        ]
    }
}

async fn lock_live(tx: &mut Tx, contact_id: Uuid) -> Result<Option<MemberRow>, ApiError> {
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE loyalty_members SET updated_at = $2 WHERE contact_id = $1 AND merged_into IS NULL RETURNING {MEMBER_COLUMNS}"
    ))).bind(contact_id).bind(now()).fetch_optional(&mut **c).await)?)
}

#[derive(sqlx::FromRow)]
struct OpenLot {
    remaining: i64,
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Moves loyalty data from the duplicate contact `from` to the survivor `to`.
///
/// * Only `from` is a member: the membership (with its whole ledger) now
///   belongs to `to`.
/// * Both are members: the duplicate's balance and lifetime points are folded
///   into the survivor with a pair of `adjust` entries (key
///   `rapport merge <duplicate member id>`); its open lots move with their
///   expiry dates; its redemptions move to the survivor. The duplicate's
///   membership is kept, marked `merged_into`, under the survivor's contact,
///   so both histories stay (the timeline shows both).
pub async fn reassign_contact(tx: &mut Tx, from: Uuid, to: Uuid) -> Result<(), ApiError> {
    if from == to {
        return Ok(());
    }
    let now = now();
    // A fixed lock order, so two merges cannot deadlock.
    let (first, second) = if from < to { (from, to) } else { (to, from) };
    let a = lock_live(tx, first).await?;
    let b = lock_live(tx, second).await?;
    let (dup, survivor) = if from < to { (a, b) } else { (b, a) };
    match (dup, survivor) {
        (None, _) => {}
        (Some(dup), None) => {
            on_tx!(tx, c => sqlx::query("UPDATE loyalty_members SET contact_id = $1 WHERE id = $2")
                .bind(to).bind(dup.id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        }
        (Some(mut dup), Some(mut survivor)) => fold(tx, &mut dup, &mut survivor, now).await?,
    }
    // Memberships `from` absorbed in earlier merges follow it.
    on_tx!(tx, c => sqlx::query("UPDATE loyalty_members SET contact_id = $1 WHERE contact_id = $2 AND merged_into IS NOT NULL")
        .bind(to).bind(from).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

async fn fold(
    tx: &mut Tx,
    dup: &mut MemberRow,
    survivor: &mut MemberRow,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), ApiError> {
    let program = program::get(&mut *tx).await?;
    expiry::expire_due(tx, dup, now).await?;
    expiry::expire_due(tx, survivor, now).await?;
    let open: Vec<OpenLot> = on_tx!(tx, c => sqlx::query_as(
        "SELECT remaining, expires_at FROM loyalty_lots WHERE member_id = $1 AND remaining > 0
         ORDER BY CASE WHEN expires_at IS NULL THEN 1 ELSE 0 END, expires_at, created_at, id"
    ).bind(dup.id).fetch_all(&mut **c).await)?;
    let lots: Vec<_> = open.iter().map(|l| (l.remaining, l.expires_at)).collect();
    let (balance, lifetime) = (dup.balance, dup.lifetime_points);
    let system = Actor::system();
    let key = format!("rapport merge {}", dup.id);
    let out_reason = format!("Merged into contact {}", survivor.contact_id);
    let in_reason = format!("Merged from contact {}", dup.contact_id);
    let post = |reason| Post {
        kind: EntryKind::Adjust,
        reason: Some(reason),
        key: &key,
        actor: &system,
        reverses: None,
        redemption_id: None,
        amount: None,
        now,
    };
    let mut entry_id = None;
    if balance > 0 || lifetime != 0 {
        if balance > 0 {
            debit(tx, dup, balance, -lifetime, None, &post(&out_reason)).await?;
        } else {
            credit(tx, dup, 0, -lifetime, &[], &post(&out_reason), Lock::Take).await?;
        }
        entry_id = Some(
            credit(
                tx,
                survivor,
                balance,
                lifetime,
                &lots,
                &post(&in_reason),
                Lock::Take,
            )
            .await?
            .entry
            .id,
        );
    }
    on_tx!(tx, c => sqlx::query("UPDATE loyalty_members SET merged_into = $1, contact_id = $2, updated_at = $3 WHERE id = $4")
        .bind(survivor.id).bind(survivor.contact_id).bind(now).bind(dup.id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    on_tx!(tx, c => sqlx::query("UPDATE loyalty_redemptions SET member_id = $1 WHERE member_id = $2")
        .bind(survivor.id).bind(dup.id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    retier(tx, survivor, &program, entry_id, now).await?;
    let change = Change::none()
        .with("merged_contact_id", dup.contact_id)
        .with("points", balance)
        .with("lifetime_points", lifetime)
        .with("balance_after", survivor.balance);
    audit::record(
        tx,
        &system,
        "merge",
        "loyalty_member",
        survivor.contact_id,
        change,
    )
    .await?;
    Ok(())
}

/// Erasure: the ledger's amounts, lots, tiers and redemptions stay (they
/// hold nothing personal and keep the totals true); the free-text reasons,
/// the only place staff or partners could have typed personal data, are
/// deleted, and so are the recorded values of the member's and their
/// redemptions' audit events. Ledger rows themselves are not touched.
pub async fn erase_contact(tx: &mut Tx, contact_id: Uuid) -> Result<(), ApiError> {
    on_tx!(tx, c => sqlx::query(
        "DELETE FROM loyalty_entry_reasons WHERE entry_id IN (
             SELECT e.id FROM loyalty_ledger e JOIN loyalty_members m ON m.id = e.member_id WHERE m.contact_id = $1)"
    ).bind(contact_id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    // Member events are recorded under the contact's id.
    audit::forget(
        tx,
        "loyalty_member",
        "SELECT contact_id FROM loyalty_members WHERE contact_id = $1",
        contact_id,
    )
    .await?;
    audit::forget(
        tx,
        "loyalty_redemption",
        "SELECT r.id FROM loyalty_redemptions r JOIN loyalty_members m ON m.id = r.member_id WHERE m.contact_id = $1",
        contact_id,
    )
    .await
}

/// The ids of the contact's loyalty memberships (merged ones included).
pub async fn member_ids_of_contact(tx: &mut Tx, contact_id: Uuid) -> Result<Vec<Uuid>, ApiError> {
    Ok(
        on_tx!(tx, c => sqlx::query_scalar("SELECT id FROM loyalty_members WHERE contact_id = $1")
        .bind(contact_id).fetch_all(&mut **c).await)?,
    )
}

/// Loyalty ledger entries (`type`: earn, redeem, adjust, expire, reverse) and
/// tier changes (`type`: tier_change), from the loyalty module's
/// `loyalty_timeline` view. They belong to a contact only (a merged member's
/// events carry the survivor's contact id).
pub const TIMELINE: Source = Source {
    kind: "loyalty",
    area: Area::Loyalty,
    select: "SELECT 'loyalty' AS kind, l.id AS id, l.occurred_at AS occurred_at, CAST(NULL AS UUID) AS channel_id,
                    l.contact_id AS contact_id, CAST(NULL AS UUID) AS account_id, CAST(NULL AS UUID) AS engagement_id,
                    CASE WHEN l.kind = 'loyalty_tier_change' THEN 'tier_change' ELSE l.detail END AS item_type,
                    l.summary AS summary
             FROM loyalty_timeline l",
    occurred_at: "l.occurred_at",
    id: "l.id",
    contact_id: Some("l.contact_id"),
    account_id: None,
    engagement_id: None,
    in_account_timeline: true,
    link: |row| match (row.item_type.as_str(), row.contact_id) {
        ("tier_change", Some(contact)) => format!("/v1/loyalty/members/{contact}/tier-changes"),
        (_, Some(contact)) => format!("/v1/loyalty/members/{contact}/ledger/{}", row.id),
        _ => String::new(),
    },
};
