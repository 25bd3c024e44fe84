//! Client-supplied instants. chrono accepts years from -262143 to 262142,
//! where arithmetic on a period (`to - 30 days`, a due time ten business days
//! later) overflows; the API accepts the years 1900 to 9999, which is every
//! date a CRM record can honestly carry and the range RFC 3339 writes with
//! four digits.

use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Deserializer, de::Error};

pub const FIRST_YEAR: i32 = 1900;
pub const LAST_YEAR: i32 = 9999;

/// Whether `at` lies in the years the API accepts.
pub fn in_range(at: &DateTime<Utc>) -> bool {
    (FIRST_YEAR..=LAST_YEAR).contains(&at.year())
}

/// `#[serde(default, deserialize_with = "crate::domain::time::optional")]` for an
/// optional instant in a request body or query.
pub fn optional<'de, D: Deserializer<'de>>(de: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    match Option::<DateTime<Utc>>::deserialize(de)? {
        Some(at) if !in_range(&at) => Err(D::Error::custom(format!(
            "{} is outside the years {FIRST_YEAR} to {LAST_YEAR}",
            at.to_rfc3339()
        ))),
        other => Ok(other),
    }
}

/// `#[serde(default, deserialize_with = "crate::domain::time::patch")]` for an
/// instant in a PATCH body.
pub fn patch<'de, D: Deserializer<'de>>(
    de: D,
) -> Result<crate::http::patch::Patch<DateTime<Utc>>, D::Error> {
    use crate::http::patch::Patch;
    Ok(match optional(de)? {
        None => Patch::Null,
        Some(at) => Patch::Value(at),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Deserialize, Debug)]
    struct Input {
        #[serde(default, deserialize_with = "optional")]
        at: Option<DateTime<Utc>>,
    }

    #[test]
    fn instants_outside_1900_to_9999_are_refused_and_null_or_absent_are_none() {
        for ok in [
            "1900-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "2026-06-01T09:00:00+08:00",
        ] {
            let input: Input = serde_json::from_value(json!({"at": ok})).unwrap();
            assert!(input.at.is_some(), "{ok}");
        }
        for bad in [
            "1899-12-31T23:59:59Z",
            "-262143-01-01T00:00:00Z",
            "+10000-01-01T00:00:00Z",
        ] {
            assert!(
                serde_json::from_value::<Input>(json!({"at": bad})).is_err(),
                "{bad}"
            );
        }
        assert!(
            serde_json::from_value::<Input>(json!({}))
                .unwrap()
                .at
                .is_none()
        );
        assert!(
            serde_json::from_value::<Input>(json!({"at": null}))
                .unwrap()
                .at
                .is_none()
        );
    }
}
