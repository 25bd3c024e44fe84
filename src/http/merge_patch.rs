//! JSON merge patch (RFC 7396) for optional fields: an absent member leaves the
//! field as it is, `null` clears it, a value sets it. Declare such a field as
//! `Option<Option<T>>` with `#[serde(default, deserialize_with = "nullable")]`.

use serde::{Deserialize, Deserializer};

/// Absent → `None` (through `#[serde(default)]`), `null` → `Some(None)`,
/// a value → `Some(Some(v))`.
pub fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// The value after applying one patched member to the current one.
pub fn apply<T>(patch: Option<Option<T>>, current: Option<T>) -> Option<T> {
    match patch {
        None => current,
        Some(new) => new,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Patch {
        #[serde(default, deserialize_with = "nullable")]
        note: Option<Option<String>>,
    }

    #[test]
    fn absent_null_and_value_differ() {
        let p = |text: &str| serde_json::from_str::<Patch>(text).unwrap().note;
        assert_eq!(p("{}"), None);
        assert_eq!(p(r#"{"note": null}"#), Some(None));
        assert_eq!(p(r#"{"note": "hi"}"#), Some(Some("hi".to_string())));
    }

    #[test]
    fn apply_keeps_clears_or_sets() {
        assert_eq!(apply(None, Some(1)), Some(1));
        assert_eq!(apply(Some(None), Some(1)), None);
        assert_eq!(apply(Some(Some(2)), Some(1)), Some(2));
    }
}
