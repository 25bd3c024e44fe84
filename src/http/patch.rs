//! JSON merge patch (RFC 7396), the one way every resource's PATCH works.
//!
//! A PATCH body is a typed `…Patch` struct whose fields are [`Patch<T>`]:
//! an absent member leaves the field as it is, `null` clears it, a value sets
//! it. The handler applies the patch to the resource's current values and
//! checks the result with the same function as a create, so a patch can never
//! store what a create would refuse.
//!
//! Declare a field as `#[serde(default)] pub name: Patch<T>` and document it
//! with `#[schema(value_type = Option<T>)]` when `null` clears it, or
//! `#[schema(value_type = T)]` when the field cannot be cleared (a `null`
//! there is a 400 from [`patched`]). `#[validate(length(..))]`,
//! `range(..)`, `email` and a choice's `custom(function = "X::validate")`
//! work on `Patch` fields as on `Option` ones.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::error::{ApiError, FieldError};

/// A resource's `…Patch` type: applied field by field to the resource's
/// current values as a create would have sent them (`Input`).
pub trait MergePatch<Input> {
    /// `current` with this patch applied; a `null` for a field that cannot
    /// be cleared is added to `nulls` (see [`Patch::apply_required`]).
    fn merge_into(self, current: Input, nulls: &mut Vec<FieldError>) -> Input;
}

/// `patch` applied to `current`, ready for the create's checks: every
/// `null` sent for a field that cannot be cleared is reported at once (400).
pub fn patched<Input, P: MergePatch<Input>>(current: Input, patch: P) -> Result<Input, ApiError> {
    let mut nulls = Vec::new();
    let merged = patch.merge_into(current, &mut nulls);
    refuse_nulls(nulls)?;
    Ok(merged)
}

/// The 400 for the `null`s that [`Patch::refuse_null`] collected, if any.
pub fn refuse_nulls(nulls: Vec<FieldError>) -> Result<(), ApiError> {
    if nulls.is_empty() {
        Ok(())
    } else {
        Err(ApiError::malformed_fields(nulls))
    }
}

/// One member of a merge patch: absent, `null`, or a value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Patch<T> {
    /// The member was not sent: keep the current value.
    #[default]
    Absent,
    /// The member was `null`: clear the field.
    Null,
    /// The member's new value.
    Value(T),
}

impl<T> Patch<T> {
    pub fn is_absent(&self) -> bool {
        matches!(self, Patch::Absent)
    }

    /// Whether the member was sent at all (as a value or as `null`).
    pub fn is_sent(&self) -> bool {
        !self.is_absent()
    }

    /// The new value, when the patch sets one.
    pub fn value(&self) -> Option<&T> {
        match self {
            Patch::Value(v) => Some(v),
            _ => None,
        }
    }

    /// The field after the patch, for a field that `null` clears.
    pub fn apply(self, current: Option<T>) -> Option<T> {
        match self {
            Patch::Absent => current,
            Patch::Null => None,
            Patch::Value(v) => Some(v),
        }
    }

    /// Reports a `null` sent for a field that cannot be cleared.
    pub fn refuse_null(&self, field: &str, errors: &mut Vec<FieldError>) {
        if matches!(self, Patch::Null) {
            errors.push(cannot_be_cleared(field));
        }
    }

    /// The sent value, else `current` (for a field whose `null` was refused).
    pub fn unwrap_or(self, current: T) -> T {
        self.into_value().unwrap_or(current)
    }

    /// The sent value, if any, for a field that cannot be cleared: a `null`
    /// is reported in `errors` (so the other fields can still be checked).
    pub fn sent(self, field: &str, errors: &mut Vec<FieldError>) -> Option<T> {
        self.refuse_null(field, errors);
        self.into_value()
    }

    /// The field after the patch, for a field that cannot be cleared: a
    /// `null` is reported in `errors` and the current value is kept.
    pub fn apply_required(self, current: T, field: &str, errors: &mut Vec<FieldError>) -> T {
        self.sent(field, errors).unwrap_or(current)
    }

    /// `apply_required` for a field held as an `Option` by the create type
    /// (absent there means "the default"), e.g. a create's `active: Option<bool>`.
    pub fn apply_present(
        self,
        current: Option<T>,
        field: &str,
        errors: &mut Vec<FieldError>,
    ) -> Option<T> {
        self.sent(field, errors).or(current)
    }

    fn into_value(self) -> Option<T> {
        match self {
            Patch::Value(v) => Some(v),
            _ => None,
        }
    }
}

impl Patch<Map<String, Value>> {
    /// An object member merges into the current object (RFC 7396): its
    /// `null` members remove keys, the others set them; `null` for the whole
    /// member clears the object.
    pub fn merge(self, current: Option<Map<String, Value>>) -> Option<Map<String, Value>> {
        match self {
            Patch::Absent => current,
            Patch::Null => None,
            Patch::Value(patch) => {
                let mut target = Value::Object(current.unwrap_or_default());
                merge_patch(&mut target, &Value::Object(patch));
                match target {
                    Value::Object(map) => Some(map),
                    _ => unreachable!("merging an object into an object gives an object"),
                }
            }
        }
    }
}

fn cannot_be_cleared(field: &str) -> FieldError {
    FieldError::new(
        field,
        "not_nullable",
        "cannot be null: send a value, or leave the field out to keep it",
    )
}

/// RFC 7396 applied to JSON documents.
fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    let map = target.as_object_mut().expect("made an object above");
    for (key, value) in patch {
        if value.is_null() {
            map.remove(key);
        } else {
            merge_patch(map.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

// Absent members never reach this: `#[serde(default)]` makes them `Absent`.
impl<'de, T: Deserialize<'de>> Deserialize<'de> for Patch<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Option::<T>::deserialize(deserializer)? {
            None => Patch::Null,
            Some(v) => Patch::Value(v),
        })
    }
}

impl<T: Serialize> Serialize for Patch<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Patch::Value(v) => v.serialize(serializer),
            _ => serializer.serialize_none(),
        }
    }
}

impl<T: validator::ValidateLength<u64>> validator::ValidateLength<u64> for Patch<T> {
    fn length(&self) -> Option<u64> {
        self.value().and_then(T::length)
    }
}

impl<T: validator::ValidateEmail> validator::ValidateEmail for Patch<T> {
    fn as_email_string(&self) -> Option<std::borrow::Cow<'_, str>> {
        self.value().and_then(T::as_email_string)
    }
}

impl<T: PartialOrd> validator::ValidateRange<T> for Patch<T> {
    fn greater_than(&self, max: T) -> Option<bool> {
        self.value().map(|v| v > &max)
    }

    fn less_than(&self, min: T) -> Option<bool> {
        self.value().map(|v| v < &min)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use validator::Validate;

    #[derive(Deserialize, Validate)]
    struct NotePatch {
        #[serde(default)]
        #[validate(length(max = 3))]
        note: Patch<String>,
        #[serde(default)]
        #[validate(range(min = 1))]
        count: Patch<i64>,
        #[serde(default)]
        custom: Patch<Map<String, Value>>,
    }

    fn parse(text: &str) -> NotePatch {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn absent_null_and_value_differ() {
        assert_eq!(parse("{}").note, Patch::Absent);
        assert_eq!(parse(r#"{"note": null}"#).note, Patch::Null);
        assert_eq!(parse(r#"{"note": "hi"}"#).note, Patch::Value("hi".into()));
    }

    #[test]
    fn apply_keeps_clears_or_sets() {
        assert_eq!(Patch::Absent.apply(Some(1)), Some(1));
        assert_eq!(Patch::Null.apply(Some(1)), None);
        assert_eq!(Patch::Value(2).apply(Some(1)), Some(2));
    }

    #[test]
    fn a_required_field_refuses_null_and_keeps_its_value() {
        let mut errors = Vec::new();
        assert_eq!(Patch::Null.apply_required(7, "count", &mut errors), 7);
        assert_eq!(errors[0].field, "count");
        assert_eq!(Patch::Value(8).apply_required(7, "count", &mut errors), 8);
        assert_eq!(errors.len(), 1);
    }

    #[test]
    fn validator_checks_only_a_sent_value() {
        assert!(parse(r#"{"note": null, "count": null}"#).validate().is_ok());
        assert!(parse(r#"{"note": "abcd"}"#).validate().is_err());
        assert!(parse(r#"{"count": 0}"#).validate().is_err());
    }

    #[test]
    fn objects_merge_as_in_rfc_7396() {
        let current = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        let patch = parse(r#"{"custom": {"a": "z", "c": {"f": null}}}"#).custom;
        let merged = patch.merge(current.as_object().cloned());
        assert_eq!(
            Value::Object(merged.unwrap()),
            json!({"a": "z", "c": {"d": "e"}})
        );
        assert_eq!(parse(r#"{"custom": null}"#).custom.merge(None), None);
    }
}
