use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::{
    choice,
    http::{
        ApiError, FieldError,
        check::Check,
        patch::{MergePatch, Patch},
    },
};

choice! {
    /// What kind of touchpoint a channel is.
    pub enum ChannelKind {
        Email = "email",
        Phone = "phone",
        Sms = "sms",
        Chat = "chat",
        Social = "social",
        Web = "web",
        MobileApp = "mobile_app",
        InPerson = "in_person",
        Event = "event",
        Webinar = "webinar",
        Chatbot = "chatbot",
        Other = "other",
    }
}

/// A touchpoint the firm runs, with its service-level targets.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01937c70-0000-7000-8000-000000000001", "kind": "phone", "name": "Client service hotline",
    "active": true, "first_response_minutes": 60, "resolution_business_days": 3, "version": 1,
    "created_at": "2026-11-02T09:30:00Z", "updated_at": "2026-11-02T09:30:00Z"
}))]
pub struct Channel {
    pub id: Uuid,
    pub kind: ChannelKind,
    /// Unique among channels (case-insensitive).
    pub name: String,
    /// Inactive channels keep their history but take no new interactions.
    pub active: bool,
    /// Service-level target: minutes until the first response to feedback received on this channel; `null` for none.
    pub first_response_minutes: Option<i64>,
    /// Service-level target: working days until feedback received on this channel is resolved; `null` for none.
    pub resolution_business_days: Option<i64>,
    /// Increases on every change; sent as the `ETag`.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChannelRow {
    pub id: Uuid,
    pub kind: ChannelKind,
    pub name: String,
    pub active: bool,
    pub first_response_minutes: Option<i64>,
    pub resolution_business_days: Option<i64>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ChannelRow {
    pub fn kind(&self) -> ChannelKind {
        self.kind
    }

    /// The channel as a create would have sent it (what a patch applies to).
    pub fn to_input(&self) -> ChannelIn {
        ChannelIn {
            kind: self.kind.as_str().to_string(),
            name: self.name.clone(),
            active: Some(self.active),
            first_response_minutes: self.first_response_minutes,
            resolution_business_days: self.resolution_business_days,
        }
    }

    pub fn into_channel(self) -> Channel {
        Channel {
            kind: self.kind(),
            id: self.id,
            name: self.name,
            active: self.active,
            first_response_minutes: self.first_response_minutes,
            resolution_business_days: self.resolution_business_days,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// A new channel.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"kind": "phone", "name": "Client service hotline", "first_response_minutes": 60, "resolution_business_days": 3}))]
pub struct ChannelIn {
    /// One of: email, phone, sms, chat, social, web, mobile_app, in_person, event, webinar, chatbot, other.
    #[schema(value_type = ChannelKind)]
    #[validate(custom(function = "ChannelKind::validate"))]
    pub kind: String,
    /// 1–200 characters, unique among channels (case-insensitive).
    #[validate(custom(function = "valid_name"))]
    pub name: String,
    /// Defaults to true.
    pub active: Option<bool>,
    /// Minutes until the first response to feedback on this channel, 1–525600 (a year).
    #[validate(range(min = 1, max = 525_600))]
    pub first_response_minutes: Option<i64>,
    /// Working days until feedback on this channel is resolved, 1–365.
    #[validate(range(min = 1, max = 365))]
    pub resolution_business_days: Option<i64>,
}

impl ChannelIn {
    /// The create's checks, which a patched channel passes too; gives the kind.
    pub fn checked(&self) -> Result<ChannelKind, ApiError> {
        Check::validated(self).finish()?;
        // Validated above: every kind that passes is known.
        Ok(ChannelKind::parse(&self.kind).unwrap_or(ChannelKind::Other))
    }
}

/// Changes to a channel (JSON merge patch): absent fields stay as they are,
/// `null` clears a service-level target. The result is checked as a create.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
#[schema(example = json!({"active": false}))]
pub struct ChannelPatch {
    #[schema(value_type = ChannelKind)]
    pub kind: Patch<String>,
    #[schema(value_type = String)]
    pub name: Patch<String>,
    #[schema(value_type = bool)]
    pub active: Patch<bool>,
    #[schema(value_type = Option<i64>)]
    pub first_response_minutes: Patch<i64>,
    #[schema(value_type = Option<i64>)]
    pub resolution_business_days: Patch<i64>,
}

impl MergePatch<ChannelIn> for ChannelPatch {
    fn merge_into(self, current: ChannelIn, errors: &mut Vec<FieldError>) -> ChannelIn {
        ChannelIn {
            kind: self.kind.apply_required(current.kind, "kind", errors),
            name: self.name.apply_required(current.name, "name", errors),
            active: self.active.apply_present(current.active, "active", errors),
            first_response_minutes: self
                .first_response_minutes
                .apply(current.first_response_minutes),
            resolution_business_days: self
                .resolution_business_days
                .apply(current.resolution_business_days),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ChannelFilter {
    /// Only channels of this kind.
    #[param(value_type = Option<ChannelKind>)]
    pub kind: Option<String>,
    /// Only active (`true`) or inactive (`false`) channels.
    pub active: Option<bool>,
    /// Items per page, 1–200.
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A channel name: trimmed, 1–200 characters.
pub fn valid_name(name: &str) -> Result<(), validator::ValidationError> {
    let n = name.trim().chars().count();
    if (1..=200).contains(&n) {
        Ok(())
    } else {
        Err(validator::ValidationError::new("length")
            .with_message("must be 1 to 200 characters long (not blank)".into()))
    }
}

/// The key that makes names unique regardless of case and surrounding blanks.
pub fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_the_fixed_list() {
        let all: Vec<&str> = ChannelKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(
            all,
            [
                "email",
                "phone",
                "sms",
                "chat",
                "social",
                "web",
                "mobile_app",
                "in_person",
                "event",
                "webinar",
                "chatbot",
                "other"
            ]
        );
    }

    #[test]
    fn names_are_trimmed_and_not_blank() {
        assert!(valid_name("  Hotline ").is_ok());
        assert!(valid_name("   ").is_err());
        assert!(valid_name(&"x".repeat(201)).is_err());
        assert_eq!(name_key("  Client Hotline "), "client hotline");
    }

    #[test]
    fn an_unknown_kind_fails_validation_naming_the_kinds() {
        let input: ChannelIn =
            serde_json::from_value(serde_json::json!({"kind": "fax", "name": "Fax"})).unwrap();
        let errors = input.validate().unwrap_err();
        let text = errors.to_string();
        assert!(text.contains("mobile_app"), "{text}");
    }
}
