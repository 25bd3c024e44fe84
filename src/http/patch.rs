//! JSON merge patch (RFC 7386): a PATCH body is merged into the resource's
//! current editable fields and the result is validated as a whole, exactly
//! like a create. Absent members stay, `null` clears, objects merge.

use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value;

use super::error::ApiError;

pub fn merge_patch(target: &mut Value, patch: &Value) {
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

/// Applies `patch` to `current` and parses the result as `T` (which rejects
/// unknown fields, so a typo in a PATCH is a 400, not a silent no-op).
pub fn apply<T: Serialize + DeserializeOwned>(current: &T, patch: &Value) -> Result<T, ApiError> {
    if !patch.is_object() {
        return Err(ApiError::bad_request(
            "A PATCH body must be a JSON object of the fields to change.",
        ));
    }
    let mut merged = serde_json::to_value(current).map_err(ApiError::internal)?;
    merge_patch(&mut merged, patch);
    serde_json::from_value(merged)
        .map_err(|e| ApiError::bad_request(format!("The patch is not valid: {e}.")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rfc_7386_examples() {
        let mut doc = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        merge_patch(&mut doc, &json!({"a": "z", "c": {"f": null}}));
        assert_eq!(doc, json!({"a": "z", "c": {"d": "e"}}));
        let mut doc = json!({"a": ["b"]});
        merge_patch(&mut doc, &json!({"a": ["c", "d"]}));
        assert_eq!(doc, json!({"a": ["c", "d"]}));
        let mut doc = json!({"e": null});
        merge_patch(&mut doc, &json!({"a": 1}));
        assert_eq!(doc, json!({"e": null, "a": 1}));
    }
}
