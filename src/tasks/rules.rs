//! The rules that create tasks, each of which an admin can turn off
//! (`GET/PUT /v1/settings/tasks`):
//!
//! - a complaint that goes at risk of missing its service level gets a
//!   `follow_up` task for its assignee (else the escalation user), once;
//! - every key account with an owner gets a quarterly `review` task for the
//!   owner, due at the end of the current quarter, recurring;
//! - every contact with a `birthday` and an owner gets a yearly `greeting`
//!   task for the owner, due on the next birthday in the contact's zone.
//!
//! The first runs in the service-level job's transaction; the other two run
//! in the jobs loop on every node, reading the records changed since their
//! last pass (the unique `(rule, rule_subject)` makes each task once).

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use super::{
    model::{Due, TaskFields, TaskKind, TaskStatus},
    repo::create_by_rule,
    schedule::{Repeat, RepeatUnit},
};
use crate::{
    db::{Db, On, Tx, now},
    feedback::{calendar_api::load_work, model::Feedback, service_levels::Priority},
    http::ApiError,
    on, on_db,
};

/// Which rules create tasks.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
#[schema(example = json!({
    "complaint_follow_ups": true, "escalation_user_id": "01937c5e-8f3a-7c4e-9b1a-2f6d8e4c1a20",
    "key_account_reviews": true, "birthday_greetings": false, "version": 2, "updated_at": "2027-01-02T09:00:00Z"
}))]
pub struct TaskSettings {
    /// A complaint that goes at risk of missing its service level gets a follow-up task for its assignee (else the
    /// escalation user; with neither, none).
    pub complaint_follow_ups: bool,
    /// Who follows up an unassigned complaint.
    pub escalation_user_id: Option<Uuid>,
    /// Every key account with an owner gets a quarterly review task for the owner.
    pub key_account_reviews: bool,
    /// Every contact with a birthday and an owner gets a yearly greeting task for the owner.
    pub birthday_greetings: bool,
    /// 0 until first saved; sent as the `ETag`.
    pub version: i64,
    pub updated_at: Option<DateTime<Utc>>,
}

impl Default for TaskSettings {
    /// Every rule on, no escalation user.
    fn default() -> Self {
        TaskSettings {
            complaint_follow_ups: true,
            escalation_user_id: None,
            key_account_reviews: true,
            birthday_greetings: true,
            version: 0,
            updated_at: None,
        }
    }
}

/// The rules, as an admin sets them.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "complaint_follow_ups": true, "escalation_user_id": "01937c5e-8f3a-7c4e-9b1a-2f6d8e4c1a20",
    "key_account_reviews": true, "birthday_greetings": false
}))]
pub struct TaskSettingsIn {
    pub complaint_follow_ups: bool,
    /// An active user, or null.
    #[serde(default)]
    pub escalation_user_id: Option<Uuid>,
    pub key_account_reviews: bool,
    pub birthday_greetings: bool,
}

pub async fn settings<'a>(on: impl Into<On<'a>>) -> Result<TaskSettings, ApiError> {
    let row: Option<TaskSettings> = on!(on.into(), e => sqlx::query_as(
        "SELECT complaint_follow_ups, escalation_user_id, key_account_reviews, birthday_greetings, version, updated_at
         FROM task_settings WHERE id = 1"
    ).fetch_optional(e).await)?;
    Ok(row.unwrap_or_default())
}

/// The complaint rule, inside the transaction that records that the item
/// went at risk. Due when the clock at risk runs out.
pub async fn complaint_at_risk(tx: &mut Tx, item: &Feedback) -> Result<(), ApiError> {
    if item.kind != crate::feedback::workflow::FeedbackKind::Complaint {
        return Ok(());
    }
    let rules = settings(&mut *tx).await?;
    let Some(assignee) = item.assignee_id.or(rules.escalation_user_id) else {
        return Ok(());
    };
    if !rules.complaint_follow_ups {
        return Ok(());
    }
    let due = match (item.first_responded_at, item.first_response_due_at) {
        (None, Some(at)) => at,
        _ => item.resolution_due_at.unwrap_or(now()),
    };
    let fields = TaskFields {
        title: "Follow up the complaint before it misses its service level".into(),
        description: item.text.as_deref().map(|t| t.chars().take(500).collect()),
        kind: TaskKind::FollowUp,
        due: Due::At(due),
        assignee_id: Some(assignee),
        priority: item.priority,
        status: TaskStatus::Open,
        outcome: None,
        contact_id: item.contact_id,
        account_id: item.account_id,
        feedback_id: Some(item.id),
        engagement_id: item.engagement_id,
        repeat: None,
    };
    create_by_rule(tx, &fields, "complaint_at_risk", item.id).await?;
    Ok(())
}

/// How many changed records one pass of a rule reads (the rest wait for the next tick).
const BATCH: i64 = 500;

/// The last day of the quarter holding `date`.
pub fn quarter_end(date: NaiveDate) -> NaiveDate {
    let last_month = (date.month0() / 3) * 3 + 3;
    let (year, month) = if last_month == 12 {
        (date.year() + 1, 1)
    } else {
        (date.year(), last_month + 1)
    };
    NaiveDate::from_ymd_opt(year, month, 1)
        .and_then(|d| d.pred_opt())
        .unwrap_or(date)
}

/// The next `MM-DD` on or after `today` (29 February is the 28th in other years).
pub fn next_birthday(birthday: &str, today: NaiveDate) -> Option<NaiveDate> {
    let (month, day) = birthday.split_once('-')?;
    let (month, day): (u32, u32) = (month.parse().ok()?, day.parse().ok()?);
    let on = |year: i32| {
        NaiveDate::from_ymd_opt(year, month, day)
            .or_else(|| NaiveDate::from_ymd_opt(year, month, day.checked_sub(1)?))
    };
    let this_year = on(today.year())?;
    if this_year >= today {
        Some(this_year)
    } else {
        on(today.year() + 1)
    }
}

/// How far one node's passes of the key-account and birthday rules have
/// read, by `(updated_at, id)`: a pass reads only what changed since (a
/// record that becomes a key account or gains a birthday is updated), so a
/// quiet database costs one indexed probe per tick, not a scan.
#[derive(Debug, Clone, Copy)]
pub struct RuleCursor {
    accounts: (DateTime<Utc>, Uuid),
    contacts: (DateTime<Utc>, Uuid),
}

impl Default for RuleCursor {
    fn default() -> Self {
        let start = (DateTime::<Utc>::UNIX_EPOCH, Uuid::nil());
        RuleCursor {
            accounts: start,
            contacts: start,
        }
    }
}

/// Creates the tasks the key-account and birthday rules owe among the
/// records changed since `cursor`, and moves it on; the number made.
pub async fn create_due(db: &Db, cursor: &mut RuleCursor) -> Result<usize, ApiError> {
    let rules = settings(db).await?;
    let made = key_account_reviews(db, &mut cursor.accounts, rules.key_account_reviews).await?
        + birthday_greetings(db, &mut cursor.contacts, rules.birthday_greetings).await?;
    Ok(made)
}

#[derive(sqlx::FromRow)]
struct AccountChange {
    id: Uuid,
    updated_at: DateTime<Utc>,
    name: String,
    owner_id: Option<Uuid>,
    key_account: bool,
    deleted: bool,
}

async fn key_account_reviews(
    db: &Db,
    after: &mut (DateTime<Utc>, Uuid),
    on: bool,
) -> Result<usize, ApiError> {
    // A rule switched off keeps its place: switched on again, it catches up.
    if !on {
        return Ok(0);
    }
    let changed: Vec<AccountChange> = on_db!(db, pool => sqlx::query_as(
        "SELECT id, updated_at, name, owner_id, key_account, deleted_at IS NOT NULL AS deleted FROM accounts
         WHERE (updated_at, id) > ($1, $2) ORDER BY updated_at, id LIMIT $3"
    ).bind(after.0).bind(after.1).bind(BATCH).fetch_all(pool).await)?;
    let Some(last) = changed.last() else {
        return Ok(0);
    };
    let next = (last.updated_at, last.id);
    let owed: Vec<&AccountChange> = changed
        .iter()
        .filter(|a| a.key_account && a.owner_id.is_some() && !a.deleted)
        .collect();
    let mut made = 0;
    if !owed.is_empty() {
        let mut tx = db.begin().await?;
        let today = load_work(&mut tx).await?.local_date(now());
        for account in owed {
            let fields = TaskFields {
                title: format!("Quarterly review with {}", account.name),
                description: None,
                kind: TaskKind::Review,
                due: Due::On(quarter_end(today)),
                assignee_id: account.owner_id,
                priority: Priority::Normal,
                status: TaskStatus::Open,
                outcome: None,
                contact_id: None,
                account_id: Some(account.id),
                feedback_id: None,
                engagement_id: None,
                repeat: Some(Repeat {
                    every: 1,
                    unit: RepeatUnit::Quarter,
                }),
            };
            let created =
                create_by_rule(&mut tx, &fields, "key_account_review", account.id).await?;
            made += usize::from(created.is_some());
        }
        tx.commit().await?;
    }
    *after = next;
    Ok(made)
}

#[derive(sqlx::FromRow)]
struct ContactChange {
    id: Uuid,
    updated_at: DateTime<Utc>,
    owner_id: Option<Uuid>,
    birthday: Option<String>,
    first_name: Option<String>,
    time_zone: Option<String>,
    account_id: Option<Uuid>,
    gone: bool,
}

async fn birthday_greetings(
    db: &Db,
    after: &mut (DateTime<Utc>, Uuid),
    on: bool,
) -> Result<usize, ApiError> {
    if !on {
        return Ok(0);
    }
    let changed: Vec<ContactChange> = on_db!(db, pool => sqlx::query_as(
        "SELECT id, updated_at, owner_id, birthday, first_name, time_zone, account_id,
                (deleted_at IS NOT NULL OR erased_at IS NOT NULL) AS gone
         FROM contacts WHERE (updated_at, id) > ($1, $2) ORDER BY updated_at, id LIMIT $3"
    ).bind(after.0).bind(after.1).bind(BATCH).fetch_all(pool).await)?;
    let Some(last) = changed.last() else {
        return Ok(0);
    };
    let next = (last.updated_at, last.id);
    let owed: Vec<&ContactChange> = changed
        .iter()
        .filter(|c| c.birthday.is_some() && c.owner_id.is_some() && !c.gone)
        .collect();
    let mut made = 0;
    if !owed.is_empty() {
        let mut tx = db.begin().await?;
        let calendar = load_work(&mut tx).await?;
        for contact in owed {
            let tz: Tz = contact
                .time_zone
                .as_deref()
                .and_then(|z| z.parse().ok())
                .unwrap_or(calendar.tz);
            let today = now().with_timezone(&tz).date_naive();
            let Some(day) = contact
                .birthday
                .as_deref()
                .and_then(|b| next_birthday(b, today))
            else {
                continue;
            };
            let fields = TaskFields {
                title: format!(
                    "Birthday greeting for {}",
                    contact.first_name.as_deref().unwrap_or("the contact")
                ),
                description: None,
                kind: TaskKind::Greeting,
                due: Due::On(day),
                assignee_id: contact.owner_id,
                priority: Priority::Normal,
                status: TaskStatus::Open,
                outcome: None,
                contact_id: Some(contact.id),
                account_id: contact.account_id,
                feedback_id: None,
                engagement_id: None,
                repeat: Some(Repeat {
                    every: 1,
                    unit: RepeatUnit::Year,
                }),
            };
            let created = create_by_rule(&mut tx, &fields, "birthday_greeting", contact.id).await?;
            made += usize::from(created.is_some());
        }
        tx.commit().await?;
    }
    *after = next;
    Ok(made)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn quarters_end_on_their_last_day() {
        assert_eq!(quarter_end(date("2026-06-01")), date("2026-06-30"));
        assert_eq!(quarter_end(date("2026-01-01")), date("2026-03-31"));
        assert_eq!(quarter_end(date("2026-12-31")), date("2026-12-31"));
        assert_eq!(quarter_end(date("2026-08-15")), date("2026-09-30"));
    }

    #[test]
    fn the_next_birthday_is_today_or_later_and_leap_days_fall_back() {
        assert_eq!(
            next_birthday("06-01", date("2026-06-01")),
            Some(date("2026-06-01"))
        );
        assert_eq!(
            next_birthday("05-31", date("2026-06-01")),
            Some(date("2027-05-31"))
        );
        assert_eq!(
            next_birthday("02-29", date("2026-06-01")),
            Some(date("2027-02-28"))
        );
        assert_eq!(
            next_birthday("02-29", date("2027-06-01")),
            Some(date("2028-02-29"))
        );
        assert_eq!(next_birthday("13-01", date("2026-06-01")), None);
    }
}
