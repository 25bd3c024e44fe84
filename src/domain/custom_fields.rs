//! `custom_fields`: a flat JSON object of scalars a firm uses for its own data.

use serde_json::{Map, Value};

use super::error::DomainError;

pub const MAX_KEYS: usize = 50;
pub const MAX_BYTES: usize = 16 * 1024;

pub fn validate_custom_fields(fields: &Map<String, Value>) -> Result<(), DomainError> {
    if fields.len() > MAX_KEYS {
        return Err(DomainError::new(
            "too_many_fields",
            format!("may hold at most {MAX_KEYS} keys"),
        ));
    }
    if let Some((key, _)) = fields.iter().find(|(_, v)| v.is_array() || v.is_object()) {
        return Err(DomainError::new(
            "not_scalar",
            format!("values must be strings, numbers, booleans or null; `{key}` is not"),
        ));
    }
    if let Some(key) = fields.keys().find(|k| k.is_empty() || k.len() > 64) {
        return Err(DomainError::new(
            "invalid_key",
            format!("keys must be 1 to 64 characters; {key:?} is not"),
        ));
    }
    let size = serde_json::to_vec(fields)
        .map(|v| v.len())
        .unwrap_or(usize::MAX);
    if size > MAX_BYTES {
        return Err(DomainError::new(
            "too_large",
            format!("must be at most {MAX_BYTES} bytes as JSON; it is {size}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn scalars_pass() {
        assert!(
            validate_custom_fields(&map(
                json!({"crm_id": "A-1", "score": 3.5, "vip": true, "x": null})
            ))
            .is_ok()
        );
    }

    #[test]
    fn nested_values_fail() {
        assert_eq!(
            validate_custom_fields(&map(json!({"a": [1]})))
                .unwrap_err()
                .code,
            "not_scalar"
        );
        assert_eq!(
            validate_custom_fields(&map(json!({"a": {"b": 1}})))
                .unwrap_err()
                .code,
            "not_scalar"
        );
    }

    #[test]
    fn size_limits_hold() {
        let many: Map<String, Value> = (0..51).map(|i| (format!("k{i}"), json!(i))).collect();
        assert_eq!(
            validate_custom_fields(&many).unwrap_err().code,
            "too_many_fields"
        );
        let big = map(json!({"a": "x".repeat(17 * 1024)}));
        assert_eq!(validate_custom_fields(&big).unwrap_err().code, "too_large");
    }
}
