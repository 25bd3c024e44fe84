use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

pub use super::input::{MAX_BACKDATING, valid_clock_time};
use crate::{channels::ChannelKind, choice, interactions::model::Purpose};

choice! {
    /// The GDPR Art. 6 basis the statement relies on.
    pub enum LegalBasis {
        Consent = "consent",
        Contract = "contract",
        LegalObligation = "legal_obligation",
        VitalInterests = "vital_interests",
        PublicTask = "public_task",
        LegitimateInterests = "legitimate_interests",
    }
}

/// A contact's communication preferences and the consent currently in force.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "contact_id": "01937c5e-8f3a-7c4e-9b1a-2f6d8e4c1a20", "time_zone": "Europe/Berlin",
    "preferred_channel_kind": "email", "language": "de", "quiet_hours": {"start": "20:00", "end": "08:00"},
    "weekly_marketing_cap": 2,
    "consents": [{
        "id": "01937c90-0000-7000-8000-000000000001", "channel_kind": "email", "purpose": "marketing",
        "granted": true, "source": "web_form", "legal_basis": "consent", "recorded_at": "2026-10-01T08:00:00Z",
        "actor_type": "api_key", "actor_id": "01937c60-1111-7000-8000-000000000001"
    }],
    "version": 3, "updated_at": "2026-10-01T08:00:00Z"
}))]
pub struct Preferences {
    pub contact_id: Uuid,
    /// The contact's time zone (set on the contact), in which `quiet_hours` are read.
    pub time_zone: Option<String>,
    pub preferred_channel_kind: Option<ChannelKind>,
    /// A BCP 47 language tag, e.g. `de` or `zh-Hans-CN`.
    pub language: Option<String>,
    /// When the contact does not want to be contacted, in their time zone. Stored for the systems that send
    /// messages; Rapport itself does not refuse touches logged inside quiet hours.
    pub quiet_hours: Option<QuietHours>,
    /// The most outbound marketing touches allowed in any 7 days; `null` for no cap, `0` for none at all.
    pub weekly_marketing_cap: Option<i64>,
    /// The consent in force for every (channel_kind, purpose) ever recorded: the latest statement for each.
    /// The full history is at `/v1/contacts/{id}/consents`.
    pub consents: Vec<Consent>,
    /// `0` until preferences are first saved; send it back in `If-Match`.
    pub version: i64,
    pub updated_at: Option<DateTime<Utc>>,
}

/// A daily window, `start` to `end` (`HH:MM`, 24-hour, local time); it may span midnight (`20:00`–`08:00`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"start": "20:00", "end": "08:00"}))]
pub struct QuietHours {
    /// `HH:MM`, 00:00–23:59.
    #[validate(custom(function = "valid_clock_time"))]
    pub start: String,
    /// `HH:MM`, 00:00–23:59; different from `start`.
    #[validate(custom(function = "valid_clock_time"))]
    pub end: String,
}

/// One consent statement.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Consent {
    pub id: Uuid,
    pub channel_kind: ChannelKind,
    pub purpose: Purpose,
    /// `true` when the contact agreed, `false` when they refused or withdrew.
    pub granted: bool,
    /// Where the statement came from, e.g. `web_form`, `phone_call`, `signed_contract`, `import`.
    pub source: String,
    pub legal_basis: LegalBasis,
    /// When the contact made the statement.
    pub recorded_at: DateTime<Utc>,
    /// Who recorded it: `user`, `api_key` or `system`.
    pub actor_type: String,
    pub actor_id: Option<Uuid>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ConsentRow {
    pub id: Uuid,
    pub channel_kind: ChannelKind,
    pub purpose: Purpose,
    pub granted: bool,
    pub source: String,
    pub legal_basis: LegalBasis,
    pub recorded_at: DateTime<Utc>,
    pub actor_type: String,
    pub actor_id: Option<Uuid>,
}

impl ConsentRow {
    pub fn into_consent(self) -> Consent {
        Consent {
            id: self.id,
            // CHECK constraints admit only known values.
            channel_kind: self.channel_kind,
            purpose: self.purpose,
            granted: self.granted,
            source: self.source,
            legal_basis: self.legal_basis,
            recorded_at: self.recorded_at,
            actor_type: self.actor_type,
            actor_id: self.actor_id,
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PreferencesRow {
    pub preferred_channel_kind: Option<String>,
    pub language: Option<String>,
    pub quiet_hours_start: Option<String>,
    pub quiet_hours_end: Option<String>,
    pub weekly_marketing_cap: Option<i64>,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
}

/// The whole set of preferences (PUT replaces them: an absent field becomes `null`), plus consent statements to
/// record. Consent is never removed: each entry whose `granted`, `source`, `legal_basis` or `recorded_at` differs
/// from the consent in force for its (channel_kind, purpose) is appended to the history; pairs not listed keep
/// their consent. Sending back the `consents` of a GET unchanged records nothing.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "preferred_channel_kind": "email", "language": "de", "quiet_hours": {"start": "20:00", "end": "08:00"},
    "weekly_marketing_cap": 2,
    "consents": [{"channel_kind": "email", "purpose": "marketing", "granted": true, "source": "web_form"}]
}))]
pub struct PreferencesIn {
    #[schema(value_type = Option<ChannelKind>)]
    #[validate(custom(function = "ChannelKind::validate"))]
    pub preferred_channel_kind: Option<String>,
    /// A BCP 47 language tag, e.g. `de` or `zh-Hans-CN`.
    pub language: Option<String>,
    #[validate(nested)]
    pub quiet_hours: Option<QuietHours>,
    /// 0–1000 outbound marketing touches in any 7 days; `null` for no cap.
    #[validate(range(min = 0, max = 1000))]
    pub weekly_marketing_cap: Option<i64>,
    /// Consent statements to record (at most 100).
    #[serde(default)]
    #[validate(length(max = 100), nested)]
    pub consents: Vec<ConsentIn>,
}

/// A consent statement to record.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"channel_kind": "email", "purpose": "marketing", "granted": false, "source": "unsubscribe_link"}))]
pub struct ConsentIn {
    #[schema(value_type = ChannelKind)]
    #[validate(custom(function = "ChannelKind::validate"))]
    pub channel_kind: String,
    #[schema(value_type = Purpose)]
    #[validate(custom(function = "Purpose::validate"))]
    pub purpose: String,
    /// `true` to grant, `false` to refuse or withdraw.
    pub granted: bool,
    /// Where the statement came from (1–200 characters), e.g. `web_form`, `phone_call`, `import`. Keep personal
    /// data out of it: consent records are kept as evidence even after the contact is erased.
    #[validate(length(min = 1, max = 200))]
    pub source: String,
    /// Defaults to `consent`.
    #[schema(value_type = Option<LegalBasis>)]
    #[validate(custom(function = "LegalBasis::validate"))]
    pub legal_basis: Option<String>,
    /// When the contact made the statement (RFC 3339); defaults to now. Not in the future, at most 30 days ago
    /// (time to enter a paper form late), so history can be completed but not rewritten at will.
    #[serde(default, deserialize_with = "crate::domain::time::optional")]
    pub recorded_at: Option<DateTime<Utc>>,
}

/// A parsed consent statement, ready to compare and store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewConsent {
    pub channel_kind: ChannelKind,
    pub purpose: Purpose,
    pub granted: bool,
    pub source: String,
    pub legal_basis: LegalBasis,
    pub recorded_at: Option<DateTime<Utc>>,
}

/// Parsed preferences.
#[derive(Debug, Clone)]
pub struct NewPreferences {
    pub preferred_channel_kind: Option<ChannelKind>,
    pub language: Option<String>,
    pub quiet_hours: Option<QuietHours>,
    pub weekly_marketing_cap: Option<i64>,
    pub consents: Vec<NewConsent>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn clock_times_are_hh_mm() {
        for ok in ["00:00", "08:30", "23:59"] {
            assert!(valid_clock_time(ok).is_ok(), "{ok}");
        }
        for bad in [
            "24:00", "8:30", "08:60", "0830", "08:3a", "", "08:30:00", "ab:cd",
        ] {
            assert!(valid_clock_time(bad).is_err(), "{bad}");
        }
    }

    fn input(value: serde_json::Value) -> PreferencesIn {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn duplicate_pairs_and_future_statements_are_refused() {
        let now = at("2026-10-01T00:00:00Z");
        let c = json!({"channel_kind": "email", "purpose": "marketing", "granted": true, "source": "form"});
        let err = input(json!({"consents": [c, c]}))
            .parse(now)
            .unwrap_err()
            .to_problem();
        assert_eq!(err.errors[0].field, "consents[1]");
        let late = json!({"channel_kind": "sms", "purpose": "marketing", "granted": true, "source": "form",
                          "recorded_at": "2026-10-02T00:00:00Z"});
        let err = input(json!({"consents": [late]}))
            .parse(now)
            .unwrap_err()
            .to_problem();
        assert_eq!(err.errors[0].field, "consents[0].recorded_at");
    }

    #[test]
    fn language_and_quiet_hours_are_checked() {
        let now = at("2026-10-01T00:00:00Z");
        let err = input(
            json!({"language": "not a tag", "quiet_hours": {"start": "08:00", "end": "08:00"}}),
        )
        .parse(now)
        .unwrap_err()
        .to_problem();
        let fields: Vec<&str> = err.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["language", "quiet_hours.end"]);
        let ok = input(json!({"language": "zh-hans-cn"})).parse(now).unwrap();
        assert_eq!(ok.language.as_deref(), Some("zh-Hans-CN"));
    }

    #[test]
    fn a_repeated_statement_records_nothing() {
        let current = Consent {
            id: Uuid::nil(),
            channel_kind: ChannelKind::Email,
            purpose: Purpose::Marketing,
            granted: true,
            source: "form".into(),
            legal_basis: LegalBasis::Consent,
            recorded_at: at("2026-09-01T00:00:00Z"),
            actor_type: "user".into(),
            actor_id: None,
        };
        let same = NewConsent {
            channel_kind: ChannelKind::Email,
            purpose: Purpose::Marketing,
            granted: true,
            source: "form".into(),
            legal_basis: LegalBasis::Consent,
            recorded_at: None,
        };
        assert!(!same.differs_from(Some(&current)));
        assert!(
            !NewConsent {
                recorded_at: Some(current.recorded_at),
                ..same.clone()
            }
            .differs_from(Some(&current))
        );
        assert!(
            NewConsent {
                granted: false,
                ..same.clone()
            }
            .differs_from(Some(&current))
        );
        assert!(
            NewConsent {
                recorded_at: Some(at("2026-09-02T00:00:00Z")),
                ..same.clone()
            }
            .differs_from(Some(&current))
        );
        assert!(same.differs_from(None));
    }
}
