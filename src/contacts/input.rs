//! What a client sends for a contact (create, import, the result of a
//! merge patch) and the checks that turn it into fields to store.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::{
    domain::{
        CountryCode, EmailAddress, LanguageTag, PhoneNumber, Tags, TimeZoneName,
        custom_fields::validate_custom_fields, stages::LifecycleStage,
    },
    http::{
        ApiError, FieldError,
        check::{Check, trimmed},
    },
};

/// A new contact.
/// At least one of `first_name`, `last_name` and `email` is required.
#[derive(Debug, Clone, Default, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "first_name": "Mei", "last_name": "Chen", "email": "Mei.Chen@acme.example", "phone": "138 1234 5678",
    "title": "Head of Insights", "account_id": "01937c61-0000-7000-8000-0000000000a1", "language": "zh-CN",
    "time_zone": "Asia/Shanghai", "country": "CN", "lifecycle_stage": "customer", "tags": ["decision-maker"]
}))]
pub struct ContactIn {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(length(max = 100))]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(length(max = 100))]
    pub last_name: Option<String>,
    /// Compared case-insensitively; a second live contact with the same email is refused (409).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Normalised to E.164 when `country` is given or the number starts with `+`/`00`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(length(max = 200))]
    pub title: Option<String>,
    /// An existing account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<Uuid>,
    /// BCP 47, e.g. `zh-CN`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// IANA time zone, e.g. `Europe/Berlin`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// Month and day, `MM-DD` (`03-15`, `02-29`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birthday: Option<String>,
    /// ISO 3166-1 alpha-2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Defaults to `lead`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle_stage: Option<LifecycleStage>,
    /// An existing user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_id: Option<Uuid>,
    /// Up to 50 tags of 1–64 characters; stored lowercase, duplicates removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    /// A flat object of scalars: at most 50 keys and 16 KiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub custom_fields: Option<Map<String, Value>>,
}

/// A contact's fields, validated and normalised, ready to store.
#[derive(Debug, Clone)]
pub struct ContactFields {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub name_key: String,
    pub given_name_key: String,
    pub email: Option<EmailAddress>,
    pub phone: Option<PhoneNumber>,
    pub title: Option<String>,
    pub account_id: Option<Uuid>,
    pub language: Option<LanguageTag>,
    pub time_zone: Option<TimeZoneName>,
    pub birthday: Option<String>,
    pub country: Option<CountryCode>,
    pub lifecycle_stage: LifecycleStage,
    pub owner_id: Option<Uuid>,
    pub tags: Vec<String>,
    pub custom_fields: Map<String, Value>,
}

/// The sort and search key for names: "last first", lowercase, so lists sort
/// by family name (called with the names swapped, it gives "first last").
pub fn name_key(first: Option<&str>, last: Option<&str>, email: Option<&str>) -> String {
    let name = [last, first]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    if name.is_empty() {
        email.unwrap_or("").to_lowercase()
    } else {
        name.to_lowercase()
    }
}

impl ContactIn {
    /// Validates every field at once; the errors, if any, are per field.
    pub fn check(self) -> Result<ContactFields, Vec<FieldError>> {
        let mut check = Check::validated(&self);
        let first_name = trimmed(self.first_name);
        let last_name = trimmed(self.last_name);
        let email = check.optional("email", trimmed(self.email).as_deref(), EmailAddress::parse);
        if first_name.is_none() && last_name.is_none() && email.is_none() && check.is_ok() {
            check.fail(
                "first_name",
                "required",
                "give at least one of first_name, last_name or email",
            );
        }
        let country = check.optional(
            "country",
            trimmed(self.country).as_deref(),
            CountryCode::parse,
        );
        let phone = check.optional("phone", trimmed(self.phone).as_deref(), |p| {
            PhoneNumber::parse(p, country.as_ref().map(CountryCode::as_str))
        });
        let language = check.optional(
            "language",
            trimmed(self.language).as_deref(),
            LanguageTag::parse,
        );
        let time_zone = check.optional(
            "time_zone",
            trimmed(self.time_zone).as_deref(),
            TimeZoneName::parse,
        );
        let birthday = trimmed(self.birthday);
        if birthday.as_deref().is_some_and(|b| !valid_birthday(b)) {
            check.fail(
                "birthday",
                "invalid_birthday",
                "must be a month and day as MM-DD, e.g. 03-15",
            );
        }
        let tags = check
            .parse("tags", Tags::parse(self.tags.unwrap_or_default()))
            .map(Tags::into_vec)
            .unwrap_or_default();
        let custom_fields = self.custom_fields.unwrap_or_default();
        check.parse("custom_fields", validate_custom_fields(&custom_fields));
        if !check.is_ok() {
            return Err(check.into_errors());
        }
        Ok(ContactFields {
            name_key: name_key(
                first_name.as_deref(),
                last_name.as_deref(),
                email.as_ref().map(EmailAddress::as_str),
            ),
            given_name_key: name_key(
                last_name.as_deref(),
                first_name.as_deref(),
                email.as_ref().map(EmailAddress::as_str),
            ),
            first_name,
            last_name,
            email,
            phone,
            title: trimmed(self.title),
            account_id: self.account_id,
            language,
            time_zone,
            birthday,
            country,
            lifecycle_stage: self.lifecycle_stage.unwrap_or(LifecycleStage::Lead),
            owner_id: self.owner_id,
            tags,
            custom_fields,
        })
    }

    pub fn into_fields(self) -> Result<ContactFields, ApiError> {
        self.check().map_err(ApiError::validation)
    }
}

/// `MM-DD` naming a day some year has (`02-29` included).
fn valid_birthday(text: &str) -> bool {
    text.len() == 5
        && text.as_bytes()[2] == b'-'
        && chrono::NaiveDate::parse_from_str(&format!("2000-{text}"), "%Y-%m-%d").is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn input(v: Value) -> ContactIn {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn values_are_normalised() {
        let f = input(
            json!({"first_name": " Mei ", "last_name": "Chen", "email": "Mei.Chen@ACME.example",
            "phone": "138 1234 5678", "country": "cn", "language": "zh-cn"}),
        )
        .into_fields()
        .unwrap();
        assert_eq!(f.first_name.as_deref(), Some("Mei"));
        assert_eq!(f.email.as_deref(), Some("mei.chen@acme.example"));
        assert_eq!(f.phone.as_deref(), Some("+8613812345678"));
        assert_eq!(f.country.as_deref(), Some("CN"));
        assert_eq!(f.language.as_deref(), Some("zh-CN"));
        assert_eq!(f.name_key, "chen mei");
        assert_eq!(f.given_name_key, "mei chen");
        assert_eq!(f.lifecycle_stage, LifecycleStage::Lead);
    }

    #[test]
    fn a_contact_needs_a_name_or_an_email() {
        let errors = input(json!({"title": "CTO"})).check().unwrap_err();
        assert_eq!(errors[0].code, "required");
        assert!(input(json!({"email": "a@b.example"})).check().is_ok());
    }

    #[test]
    fn every_bad_field_is_reported() {
        let errors = input(
            json!({"first_name": "A", "email": "nope", "country": "ZZ", "time_zone": "Mars/Base"}),
        )
        .check()
        .unwrap_err();
        let mut fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        fields.sort();
        assert_eq!(fields, vec!["country", "email", "time_zone"]);
    }
}
