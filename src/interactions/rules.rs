//! The rules an interaction obeys, as plain functions.

use chrono::{DateTime, Duration, SubsecRound, Utc};

use uuid::Uuid;

use super::model::{
    Direction, Interaction, InteractionIn, InteractionPatch, InteractionRow, InteractionType,
    NewInteraction, Purpose,
};
use crate::{
    audit::Change,
    domain::choice::ChoiceText,
    http::{
        ApiError, FieldError,
        check::Check,
        patch::{Patch, refuse_nulls},
    },
};

/// The derive's field errors plus the `type` check, so a request learns of
/// every invalid field at once.
fn field_checks(
    input: &impl validator::Validate,
    interaction_type: Option<&str>,
) -> Vec<FieldError> {
    let mut check = Check::validated(input);
    if let Some(text) = interaction_type
        && InteractionType::parse(text).is_none()
    {
        check.fail(
            "type",
            "invalid_choice",
            format!("must be one of: {}", InteractionType::allowed()),
        );
    }
    check.into_errors()
}

/// How far in the future `occurred_at` may be (clock skew, a meeting logged the evening before).
pub const MAX_FUTURE: Duration = Duration::days(1);

/// `occurred_at`, defaulting to `now`, truncated to microseconds (what
/// PostgreSQL keeps, so both engines sort and compare alike).
pub fn occurred_at(
    given: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, FieldError> {
    let at = given.map(|t| t.trunc_subsecs(6)).unwrap_or(now);
    if at > now + MAX_FUTURE {
        return Err(FieldError::new(
            "occurred_at",
            "too_far_in_future",
            format!(
                "must not be more than a day in the future (now is {})",
                now.to_rfc3339()
            ),
        ));
    }
    Ok(at)
}

/// Trims free text; blank becomes absent.
pub fn clean_text(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_string()).filter(|t| !t.is_empty())
}

/// An interaction is with a contact, an account, or both.
pub fn require_party(
    contact: Option<uuid::Uuid>,
    account: Option<uuid::Uuid>,
) -> Result<(), FieldError> {
    if contact.is_none() && account.is_none() {
        return Err(FieldError::new(
            "contact_id",
            "required",
            "give contact_id, account_id or both: an interaction is with a contact and/or an account",
        ));
    }
    Ok(())
}

/// Whether consent and the weekly cap apply.
pub fn needs_marketing_consent(direction: Direction, purpose: Purpose) -> bool {
    direction == Direction::Outbound && purpose == Purpose::Marketing
}

/// Which references a write sets or changes, and so must be checked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Changed {
    pub contact: bool,
    pub account: bool,
    pub channel: bool,
    pub handler: bool,
    /// Something that decides whether the marketing rules pass (contact, channel, direction, purpose, time).
    pub marketing: bool,
    /// Something that decides whether the contact's quiet hours hold it back (contact, direction, type, time).
    pub quiet_hours: bool,
    /// Fill `account_id` from the contact (it was omitted on creation, or the contact changed without it).
    pub fill_account: bool,
}

impl Changed {
    pub const ALL: Changed = Changed {
        contact: true,
        account: true,
        channel: true,
        handler: true,
        marketing: true,
        quiet_hours: true,
        fill_account: false,
    };
}

/// A create request as typed values, after every field check; the parties
/// are checked against the database afterwards.
pub fn new_interaction(
    input: InteractionIn,
    now: DateTime<Utc>,
    caller: Option<Uuid>,
) -> Result<(NewInteraction, Changed), ApiError> {
    let mut errors = field_checks(&input, Some(&input.interaction_type));
    if let Err(e) = require_party(input.contact_id, input.account_id) {
        errors.push(e);
    }
    let occurred_at = occurred_at(input.occurred_at, now)
        .map_err(|e| errors.push(e))
        .ok();
    let (Some(direction), Some(interaction_type), Some(purpose), Some(occurred_at), true) = (
        Direction::parse(&input.direction),
        InteractionType::parse(&input.interaction_type),
        Purpose::parse(&input.purpose),
        occurred_at,
        errors.is_empty(),
    ) else {
        return Err(ApiError::validation(errors));
    };
    let new = NewInteraction {
        contact_id: input.contact_id,
        account_id: input.account_id,
        channel_id: input.channel_id,
        direction,
        interaction_type,
        purpose,
        subject: clean_text(input.subject),
        summary: clean_text(input.summary),
        outcome: clean_text(input.outcome),
        occurred_at,
        duration_seconds: input.duration_seconds,
        handled_by: input.handled_by.or(caller),
        engagement_id: input.engagement_id,
    };
    Ok((
        new,
        Changed {
            fill_account: input.account_id.is_none(),
            ..Changed::ALL
        },
    ))
}

/// The interaction a patch would leave, and what it changes.
pub fn patched(
    current: &InteractionRow,
    patch: InteractionPatch,
    now: DateTime<Utc>,
) -> Result<(NewInteraction, Changed), ApiError> {
    let mut errors = field_checks(&patch, patch.interaction_type.choice_text());
    let mut nulls = Vec::new();
    let contact_id = patch.contact_id.apply(current.contact_id);
    let account_given = patch.account_id.is_sent();
    let account_id = patch.account_id.apply(current.account_id);
    let occurred = match patch.occurred_at.sent("occurred_at", &mut nulls) {
        None => Some(current.occurred_at),
        Some(t) => occurred_at(Some(t), now).map_err(|e| errors.push(e)).ok(),
    };
    let direction = patch
        .direction
        .sent("direction", &mut nulls)
        .as_deref()
        .and_then(Direction::parse)
        .unwrap_or(current.direction());
    let purpose = patch
        .purpose
        .sent("purpose", &mut nulls)
        .as_deref()
        .and_then(Purpose::parse)
        .unwrap_or(current.purpose());
    let interaction_type = patch
        .interaction_type
        .sent("type", &mut nulls)
        .as_deref()
        .and_then(InteractionType::parse)
        .unwrap_or(current.interaction_type());
    let channel_id = patch
        .channel_id
        .apply_required(current.channel_id, "channel_id", &mut nulls);
    let handled_by = patch.handled_by.apply(current.handled_by);
    refuse_nulls(nulls)?;
    let contact_changed = contact_id != current.contact_id;
    let fill_account = contact_changed && contact_id.is_some() && !account_given;
    if !fill_account && let Err(e) = require_party(contact_id, account_id) {
        errors.push(e);
    }
    let Some(occurred_at) = occurred.filter(|_| errors.is_empty()) else {
        return Err(ApiError::validation(errors));
    };
    let changed = Changed {
        contact: contact_changed,
        account: account_id != current.account_id,
        channel: channel_id != current.channel_id,
        handler: handled_by != current.handled_by,
        marketing: contact_changed
            || channel_id != current.channel_id
            || direction != current.direction()
            || purpose != current.purpose()
            || occurred_at != current.occurred_at,
        quiet_hours: contact_changed
            || direction != current.direction()
            || interaction_type != current.interaction_type()
            || occurred_at != current.occurred_at,
        fill_account,
    };
    let text = |p: Patch<String>, c: &Option<String>| match p {
        Patch::Absent => c.clone(),
        sent => clean_text(sent.apply(None)),
    };
    let new = NewInteraction {
        contact_id,
        account_id,
        channel_id,
        direction,
        interaction_type,
        purpose,
        subject: text(patch.subject, &current.subject),
        summary: text(patch.summary, &current.summary),
        outcome: text(patch.outcome, &current.outcome),
        occurred_at,
        duration_seconds: patch.duration_seconds.apply(current.duration_seconds),
        handled_by,
        engagement_id: patch.engagement_id.apply(current.engagement_id),
    };
    Ok((new, changed))
}

/// The free-text fields, which the audit log records only by length: they may
/// hold personal data, and an erased contact's text must not survive there.
const FREE_TEXT: [&str; 3] = ["subject", "summary", "outcome"];

fn describe_text(value: &serde_json::Value) -> serde_json::Value {
    match value.as_str() {
        Some(text) => format!("({} characters)", text.chars().count()).into(),
        None => serde_json::Value::Null,
    }
}

/// The audit change between two versions (either may be `None`: created or
/// deleted), with free text replaced by its length.
pub fn audit_change(before: Option<&Interaction>, after: Option<&Interaction>) -> Change {
    let value = |i: Option<&Interaction>| {
        i.map_or(serde_json::Value::Null, |i| {
            serde_json::to_value(i).unwrap_or_default()
        })
    };
    let (mut b, mut a) = (value(before), value(after));
    for field in FREE_TEXT {
        let (old, new) = (
            b.get(field).cloned().unwrap_or_default(),
            a.get(field).cloned().unwrap_or_default(),
        );
        let (old_d, mut new_d) = (describe_text(&old), describe_text(&new));
        if old != new && old_d == new_d {
            new_d = format!("{} (edited)", new_d.as_str().unwrap_or_default()).into();
        }
        if let Some(obj) = b.as_object_mut() {
            obj.insert(field.into(), old_d);
        }
        if let Some(obj) = a.as_object_mut() {
            obj.insert(field.into(), new_d);
        }
    }
    Change::diff_values(&b, &a)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn occurred_at_defaults_to_now_and_allows_one_day_ahead() {
        let now = at("2026-11-03T12:00:00Z");
        assert_eq!(occurred_at(None, now).unwrap(), now);
        assert!(occurred_at(Some(at("2026-11-04T12:00:00Z")), now).is_ok());
        assert!(occurred_at(Some(at("2020-01-01T00:00:00Z")), now).is_ok());
        let err = occurred_at(Some(at("2026-11-04T12:00:00.000001Z")), now).unwrap_err();
        assert_eq!(
            (err.field.as_str(), err.code.as_str()),
            ("occurred_at", "too_far_in_future")
        );
    }

    #[test]
    fn occurred_at_keeps_microseconds_only() {
        let now = at("2026-11-03T12:00:00Z");
        assert_eq!(
            occurred_at(Some(at("2026-11-01T00:00:00.123456789Z")), now).unwrap(),
            at("2026-11-01T00:00:00.123456Z")
        );
    }

    #[test]
    fn blank_text_is_absent() {
        assert_eq!(clean_text(Some("  hi ".into())), Some("hi".into()));
        assert_eq!(clean_text(Some("   ".into())), None);
        assert_eq!(clean_text(None), None);
    }

    #[test]
    fn a_contact_or_an_account_is_required() {
        let id = Some(uuid::Uuid::nil());
        assert!(require_party(id, None).is_ok());
        assert!(require_party(None, id).is_ok());
        assert_eq!(require_party(None, None).unwrap_err().field, "contact_id");
    }

    #[test]
    fn only_outbound_marketing_needs_consent() {
        assert!(needs_marketing_consent(
            Direction::Outbound,
            Purpose::Marketing
        ));
        assert!(!needs_marketing_consent(
            Direction::Inbound,
            Purpose::Marketing
        ));
        assert!(!needs_marketing_consent(
            Direction::Outbound,
            Purpose::Service
        ));
        assert!(!needs_marketing_consent(
            Direction::Outbound,
            Purpose::Sales
        ));
    }
}
