//! Reward redemptions: points and stock move together, in one transaction.
//!
//! Locks are taken in one order everywhere (member, then reward), so a
//! redemption and a cancellation cannot deadlock. The last unit of stock is
//! taken with a conditional update (`stock > 0`), so it is sold once however
//! many members try at the same moment.

use uuid::Uuid;

use super::{
    expiry,
    ledger::{entry_by_id, undo},
    open::Open,
    posting::{Post, debit, ensure_new_key, lock_member_by_id},
    program,
    queue::wait_turn,
    tiers::retier,
};
use crate::{
    audit::{self, Actor, Change},
    db::{Db, Tx, new_id, now},
    http::ApiError,
    loyalty::{
        ledger::EntryKind,
        repo::posting::lock_member,
        rewards::{RedemptionRow, RedemptionStatus},
    },
    on_db, on_tx,
};
use crate::{db::On, on};

const SELECT: &str = "SELECT r.id, r.member_id, m.contact_id, r.reward_id, r.points, r.status, r.entry_id, \
     r.cancel_entry_id, COALESCE(ce.balance_after, e.balance_after) AS balance_after, r.created_at, r.cancelled_at \
     FROM loyalty_redemptions r JOIN loyalty_members m ON m.id = r.member_id \
     JOIN loyalty_ledger e ON e.id = r.entry_id LEFT JOIN loyalty_ledger ce ON ce.id = r.cancel_entry_id";

#[derive(sqlx::FromRow)]
struct RewardState {
    name: String,
    stock: Option<i64>,
    active: bool,
}

async fn reward_state(tx: &mut Tx, reward_id: Uuid) -> Result<RewardState, ApiError> {
    let state: Option<RewardState> = on_tx!(tx, c => sqlx::query_as(
        "SELECT name, stock, active FROM loyalty_rewards WHERE id = $1 AND deleted_at IS NULL"
    ).bind(reward_id).fetch_optional(&mut **c).await)?;
    state.ok_or_else(|| {
        ApiError::field(
            "reward_id",
            "unknown_reward",
            format!("no reward has the id {reward_id}"),
        )
    })
}

pub struct NewRedemption<'a> {
    pub contact_id: Uuid,
    pub reward_id: Uuid,
    pub reason: Option<&'a str>,
    pub key: &'a str,
    pub actor: &'a Actor,
}

/// Takes one unit of stock and the reward's cost in points, or nothing.
pub async fn create(db: &Db, new: &NewRedemption<'_>) -> Result<RedemptionRow, ApiError> {
    let now = now();
    let mut tx = db.begin().await?;
    let mut member = match lock_member(&mut tx, new.contact_id, now).await {
        Ok(m) => m,
        Err(_) => {
            return Err(ApiError::field(
                "contact_id",
                "not_a_member",
                format!("the contact {} is not a loyalty member", new.contact_id),
            ));
        }
    };
    ensure_new_key(&mut tx, member.id, new.key).await?;
    let reward = reward_state(&mut tx, new.reward_id).await?;
    let program = program::get(&mut tx).await?;
    expiry::expire_due(&mut tx, &mut member, now).await?;
    let cost: Option<i64> = on_tx!(&mut tx, c => sqlx::query_scalar(
        "UPDATE loyalty_rewards
         SET stock = stock - 1,
             version = CASE WHEN stock IS NULL THEN version ELSE version + 1 END,
             updated_at = CASE WHEN stock IS NULL THEN updated_at ELSE $2 END
         WHERE id = $1 AND deleted_at IS NULL AND active AND (stock IS NULL OR stock > 0)
         RETURNING cost_points"
    ).bind(new.reward_id).bind(now).fetch_optional(&mut **c).await)?;
    let Some(cost) = cost else {
        // The reward changed since it was read; say how.
        let reward = reward_state(&mut tx, new.reward_id).await.unwrap_or(reward);
        return Err(if !reward.active {
            ApiError::conflict(format!(
                "The reward {} is not active and cannot be redeemed.",
                new.reward_id
            ))
        } else {
            ApiError::conflict(format!("The reward {} is out of stock.", new.reward_id))
                .with("stock", reward.stock.unwrap_or(0))
        });
    };
    let id = new_id();
    let reason = new.reason.map(str::to_string).unwrap_or(reward.name);
    let post = Post {
        kind: EntryKind::Redeem,
        reason: Some(&reason),
        key: new.key,
        actor: new.actor,
        reverses: None,
        redemption_id: Some(id),
        amount: None,
        now,
    };
    let posted = debit(&mut tx, &mut member, cost, 0, None, &post).await?;
    on_tx!(&mut tx, c => sqlx::query(
        "INSERT INTO loyalty_redemptions (id, member_id, reward_id, points, status, entry_id, created_at)
         VALUES ($1, $2, $3, $4, 'completed', $5, $6)"
    ).bind(id).bind(member.id).bind(new.reward_id).bind(cost).bind(posted.entry.id).bind(now)
     .execute(&mut **c).await.map(|r| r.rows_affected()))?;
    retier(&mut tx, &mut member, &program, Some(posted.entry.id), now).await?;
    let change = Change::none()
        .with("reward_id", new.reward_id)
        .with("points", cost)
        .with("entry_id", posted.entry.id);
    audit::record(
        &mut tx,
        new.actor,
        "create",
        "loyalty_redemption",
        id,
        change,
    )
    .await?;
    let row = get(&mut tx, id).await?;
    crate::events::record(
        &mut tx,
        new.actor,
        &crate::loyalty::events::REDEMPTION_CREATED,
        Some(row.contact_id),
        &row.clone().into_redemption(),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// Gives the points back (into lots with their old expiry dates) and the
/// unit back to stock.
pub async fn cancel(
    db: &Db,
    id: Uuid,
    reason: Option<&str>,
    key: &str,
    actor: &Actor,
) -> Result<RedemptionRow, ApiError> {
    let now = now();
    let current = get(db, id).await?;
    let turn = wait_turn(db, current.member_id).await;
    let mut tx = db.begin().await?;
    let Some(mut member) = lock_member_by_id(&mut tx, current.member_id, now).await? else {
        return Err(ApiError::conflict(
            "The member changed while cancelling (it was merged); retry the request.",
        ));
    };
    ensure_new_key(&mut tx, member.id, key).await?;
    let program = program::get(&mut tx).await?;
    expiry::expire_due(&mut tx, &mut member, now).await?;
    let done = on_tx!(&mut tx, c => sqlx::query(
        "UPDATE loyalty_redemptions SET status = 'cancelled', cancelled_at = $1 WHERE id = $2 AND status = 'completed'"
    ).bind(now).bind(id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    if done == 0 {
        return Err(ApiError::conflict(format!(
            "The redemption {id} is already cancelled."
        )));
    }
    let original = entry_by_id(&mut tx, current.entry_id).await?;
    let post = Post {
        kind: EntryKind::Reverse,
        reason,
        key,
        actor,
        reverses: Some(original.id),
        redemption_id: Some(id),
        amount: None,
        now,
    };
    let mut open = Open {
        tx,
        turn,
        member,
        program,
        now,
    };
    let posted = undo(&mut open, &original, &post).await?;
    let Open {
        mut tx,
        mut member,
        program,
        ..
    } = open;
    on_tx!(&mut tx, c => sqlx::query("UPDATE loyalty_redemptions SET cancel_entry_id = $1 WHERE id = $2")
        .bind(posted.entry.id).bind(id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    on_tx!(&mut tx, c => sqlx::query(
        "UPDATE loyalty_rewards SET stock = stock + 1, version = version + 1, updated_at = $1
         WHERE id = $2 AND stock IS NOT NULL"
    ).bind(now).bind(current.reward_id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    retier(&mut tx, &mut member, &program, Some(posted.entry.id), now).await?;
    let change = Change::none()
        .with("status", "cancelled")
        .with("entry_id", posted.entry.id);
    audit::record(&mut tx, actor, "cancel", "loyalty_redemption", id, change).await?;
    let row = get(&mut tx, id).await?;
    crate::events::record(
        &mut tx,
        actor,
        &crate::loyalty::events::REDEMPTION_CANCELLED,
        Some(row.contact_id),
        &row.clone().into_redemption(),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

pub async fn get<'a>(on: impl Into<On<'a>>, id: Uuid) -> Result<RedemptionRow, ApiError> {
    let row: Option<RedemptionRow> = on!(on.into(), e => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE r.id = $1"
    ))).bind(id).fetch_optional(e).await)?;
    row.ok_or_else(|| ApiError::not_found("redemption", id))
}

pub struct Filter {
    pub contact_id: Option<Uuid>,
    pub reward_id: Option<Uuid>,
    pub status: Option<RedemptionStatus>,
}

/// Newest first.
pub async fn list(
    db: &Db,
    filter: &Filter,
    before: Option<Uuid>,
    limit: i64,
) -> Result<Vec<RedemptionRow>, ApiError> {
    let status = filter.status.map(|s| {
        if s == RedemptionStatus::Cancelled {
            "cancelled"
        } else {
            "completed"
        }
    });
    Ok(
        on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE ($1 IS NULL OR m.contact_id = $1) AND ($2 IS NULL OR r.reward_id = $2)
           AND ($3 IS NULL OR r.status = $3) AND ($4 IS NULL OR r.id < $4)
         ORDER BY r.id DESC LIMIT $5"
    ))).bind(filter.contact_id).bind(filter.reward_id).bind(status).bind(before).bind(limit + 1)
       .fetch_all(pool).await)?,
    )
}
