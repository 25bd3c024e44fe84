//! Points for money: a purchase earns at the programme's earn rate, a refund
//! takes the proportional points back. Both run inside the transaction that
//! records the money (see `crate::transactions`), keyed by its id, so a
//! transaction moves points exactly once however often it is posted.

use uuid::Uuid;

use super::{
    expiry,
    open::settle,
    posting::{Lock, Post, credit, debit, lock_member},
    program,
};
use crate::{
    audit::Actor,
    db::{Tx, now},
    http::ApiError,
    loyalty::{
        ledger::EntryKind,
        program::{ProgramRow, lot_expiry, points_for_amount},
    },
    on_tx,
};

/// Money moved for a member.
pub struct Money<'a> {
    pub contact_id: Uuid,
    pub transaction_id: Uuid,
    pub amount: i64,
    pub currency: &'a str,
    pub refund: bool,
    pub actor: &'a Actor,
}

/// The rules points for money must pass, checked before anything is
/// written: the contact is a member and the amount is in the programme's
/// currency.
pub async fn check(tx: &mut Tx, money: &Money<'_>) -> Result<(), ApiError> {
    let is_member: Option<Uuid> = on_tx!(tx, c => sqlx::query_scalar(
        "SELECT id FROM loyalty_members WHERE contact_id = $1 AND merged_into IS NULL"
    ).bind(money.contact_id).fetch_optional(&mut **c).await)?;
    if is_member.is_none() {
        return Err(ApiError::field(
            "award_points",
            "not_a_member",
            "the contact is not a loyalty member: enrol it with POST /v1/loyalty/members first",
        ));
    }
    let program = program::get(&mut *tx).await?;
    if money.currency != program.earn_currency {
        return Err(ApiError::field(
            "award_points",
            "unsupported_currency",
            format!(
                "points are earned on amounts in {}, the currency of the programme's earn rate",
                program.earn_currency
            ),
        ));
    }
    points(&program, money).map(|_| ())
}

fn points(program: &ProgramRow, money: &Money<'_>) -> Result<i64, ApiError> {
    points_for_amount(&program.earn_rate(), money.amount)
        .filter(|p| *p <= 1_000_000_000)
        .ok_or_else(|| ApiError::field("amount", "range", "earns more than 1,000,000,000 points"))
}

/// The points a purchase earned or a refund took back (after [`check`]). A
/// refund takes at most the balance: points already spent stay spent.
pub async fn for_transaction(tx: &mut Tx, money: &Money<'_>) -> Result<i64, ApiError> {
    let program = program::get(&mut *tx).await?;
    let points = points(&program, money)?;
    let now = now();
    let mut member = lock_member(tx, money.contact_id, now).await?;
    expiry::expire_due(tx, &mut member, now).await?;
    let key = format!("transaction:{}", money.transaction_id);
    let reason = format!("Transaction {}", money.transaction_id);
    let post = |kind| Post {
        kind,
        reason: Some(&reason),
        key: &key,
        actor: money.actor,
        reverses: None,
        redemption_id: None,
        amount: Some((money.amount, money.currency)),
        now,
    };
    let (moved, posted) = if money.refund {
        let taken = points.min(member.balance);
        if taken == 0 {
            return Ok(0);
        }
        let posted = debit(
            tx,
            &mut member,
            taken,
            -taken,
            None,
            &post(EntryKind::Adjust),
        )
        .await?;
        (taken, posted)
    } else {
        if points == 0 {
            return Ok(0);
        }
        let lots = [(points, lot_expiry(now, program.expiry_months))];
        let posted = credit(
            tx,
            &mut member,
            points,
            points,
            &lots,
            &post(EntryKind::Earn),
            Lock::Take,
        )
        .await?;
        (points, posted)
    };
    settle(tx, &mut member, &program, money.actor, &posted, now).await?;
    Ok(moved)
}
