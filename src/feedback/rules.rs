//! The rules a new or changed feedback item obeys, as plain functions.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use uuid::Uuid;

use super::{
    model::{FeedbackIn, FeedbackPatch, FeedbackRow},
    service_levels::Priority,
    workflow::FeedbackKind,
};
use crate::http::{ApiError, FieldError, check::Check, patch::refuse_nulls};

/// How far ahead of the server's clock `received_at` may be (clock skew).
pub const MAX_FUTURE: Duration = Duration::minutes(5);

/// The editable fields of an item, checked and normalised.
#[derive(Debug, Clone, PartialEq)]
pub struct Fields {
    pub text: Option<String>,
    pub csat: Option<i64>,
    pub nps: Option<i64>,
    pub ces: Option<i64>,
    pub contact_id: Option<Uuid>,
    pub account_id: Option<Uuid>,
    pub channel_id: Option<Uuid>,
    pub category: Option<String>,
    pub priority: Priority,
    pub assignee_id: Option<Uuid>,
    pub engagement_id: Option<Uuid>,
}

/// A new item, ready to store once its references are checked.
#[derive(Debug, Clone)]
pub struct NewFeedback {
    pub kind: FeedbackKind,
    pub fields: Fields,
    pub received_at: DateTime<Utc>,
    /// Take the contact's account (no `account_id` was given).
    pub fill_account: bool,
}

fn clean(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_string()).filter(|t| !t.is_empty())
}

fn clean_category(text: Option<String>) -> Option<String> {
    clean(text).map(|t| t.to_lowercase())
}

/// The rules every item obeys, whether new or patched.
fn check_fields(kind: FeedbackKind, f: &Fields, errors: &mut Vec<FieldError>) {
    if kind != FeedbackKind::Survey && f.text.is_none() {
        errors.push(FieldError::new(
            "text",
            "required",
            format!("is required for a {kind}: say what the customer told you"),
        ));
    }
    if kind == FeedbackKind::Survey && f.csat.is_none() && f.nps.is_none() && f.ces.is_none() {
        errors.push(FieldError::new(
            "csat",
            "required",
            "a survey answer needs at least one score: csat (1–5), nps (0–10) or ces (1–7)",
        ));
    }
}

/// A create request as typed values.
pub fn new_feedback(input: FeedbackIn, now: DateTime<Utc>) -> Result<NewFeedback, ApiError> {
    let mut errors = Check::validated(&input).into_errors();
    // Checked above: an unknown kind is already an error, and the rules of a kind are skipped.
    let kind = FeedbackKind::parse(&input.kind);
    let priority = input
        .priority
        .as_deref()
        .and_then(Priority::parse)
        .unwrap_or(Priority::Normal);
    let received_at = input.received_at.map(|t| t.trunc_subsecs(6)).unwrap_or(now);
    if received_at > now + MAX_FUTURE {
        errors.push(FieldError::new(
            "received_at",
            "in_future",
            format!(
                "must not be in the future (the server's time is {})",
                now.to_rfc3339()
            ),
        ));
    }
    let fields = Fields {
        text: clean(input.text),
        csat: input.csat,
        nps: input.nps,
        ces: input.ces,
        contact_id: input.contact_id,
        account_id: input.account_id,
        channel_id: input.channel_id,
        category: clean_category(input.category),
        priority,
        assignee_id: input.assignee_id,
        engagement_id: input.engagement_id,
    };
    if let Some(kind) = kind {
        check_fields(kind, &fields, &mut errors);
    }
    let Some(kind) = kind.filter(|_| errors.is_empty()) else {
        return Err(ApiError::validation(errors));
    };
    Ok(NewFeedback {
        kind,
        fill_account: input.account_id.is_none(),
        fields,
        received_at,
    })
}

/// The fields a patch leaves, and whether the account should follow a new contact.
pub fn patched(current: &FeedbackRow, patch: FeedbackPatch) -> Result<(Fields, bool), ApiError> {
    let mut errors = Check::validated(&patch).into_errors();
    let mut nulls = Vec::new();
    let contact_id = patch.contact_id.apply(current.contact_id);
    let contact_changed = contact_id != current.contact_id;
    let fill_account = contact_changed && patch.account_id.is_absent();
    let fields = Fields {
        text: clean(patch.text.apply(current.text.clone())),
        csat: patch.csat.apply(current.csat),
        nps: patch.nps.apply(current.nps),
        ces: patch.ces.apply(current.ces),
        contact_id,
        account_id: patch.account_id.apply(current.account_id),
        engagement_id: patch.engagement_id.apply(current.engagement_id),
        channel_id: patch.channel_id.apply(current.channel_id),
        category: clean_category(patch.category.apply(current.category.clone())),
        priority: patch
            .priority
            .sent("priority", &mut nulls)
            .as_deref()
            .and_then(Priority::parse)
            .unwrap_or(current.priority()),
        assignee_id: patch.assignee_id.apply(current.assignee_id),
    };
    refuse_nulls(nulls)?;
    check_fields(current.kind(), &fields, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    Ok((fields, fill_account))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn create(v: Value) -> Result<NewFeedback, ApiError> {
        new_feedback(serde_json::from_value(v).unwrap(), crate::db::now())
    }

    fn fields_of(err: ApiError) -> Vec<String> {
        err.to_problem()
            .errors
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn scores_out_of_range_name_the_field() {
        let err = create(json!({"kind": "survey", "csat": 6, "nps": 11})).unwrap_err();
        assert_eq!(fields_of(err), ["csat", "nps"]);
        assert!(create(json!({"kind": "survey", "csat": 0})).is_err());
        assert!(create(json!({"kind": "survey", "nps": -1})).is_err());
        assert!(create(json!({"kind": "survey", "csat": 1, "nps": 0})).is_ok());
        assert!(create(json!({"kind": "survey", "csat": 5, "nps": 10})).is_ok());
    }

    #[test]
    fn a_customer_effort_score_runs_from_1_to_7_and_makes_a_survey() {
        for bad in [0, 8, -1] {
            let err = create(json!({"kind": "survey", "ces": bad})).unwrap_err();
            assert_eq!(fields_of(err), ["ces"], "ces {bad}");
        }
        for good in [1, 4, 7] {
            let new = create(json!({"kind": "survey", "ces": good})).unwrap();
            assert_eq!(new.fields.ces, Some(good));
        }
        assert!(create(json!({"kind": "survey", "ces": 2, "nps": 9, "csat": 4})).is_ok());
    }

    #[test]
    fn text_is_required_except_for_surveys() {
        assert_eq!(
            fields_of(create(json!({"kind": "complaint", "text": "  "})).unwrap_err()),
            ["text"]
        );
        assert!(create(json!({"kind": "praise", "text": "Great panel"})).is_ok());
        assert_eq!(
            fields_of(create(json!({"kind": "survey"})).unwrap_err()),
            ["csat"]
        );
    }

    #[test]
    fn unknown_kinds_and_priorities_are_422s() {
        let err = create(json!({"kind": "rant", "text": "x", "priority": "asap"})).unwrap_err();
        assert_eq!(fields_of(err), ["kind", "priority"]);
    }

    #[test]
    fn defaults_and_normalisation() {
        let new = create(
            json!({"kind": "inquiry", "text": " Where is my report? ", "category": " Delivery "}),
        )
        .unwrap();
        assert_eq!(new.fields.priority, Priority::Normal);
        assert_eq!(new.fields.text.as_deref(), Some("Where is my report?"));
        assert_eq!(new.fields.category.as_deref(), Some("delivery"));
        assert!(new.fill_account);
    }

    #[test]
    fn received_at_may_not_be_in_the_future() {
        let later = (Utc::now() + Duration::hours(1)).to_rfc3339();
        let err = create(json!({"kind": "survey", "nps": 9, "received_at": later})).unwrap_err();
        assert_eq!(fields_of(err), ["received_at"]);
        let earlier = (Utc::now() - Duration::days(30)).to_rfc3339();
        assert!(create(json!({"kind": "survey", "nps": 9, "received_at": earlier})).is_ok());
    }
}
