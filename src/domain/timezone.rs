//! IANA time zone name value type (syntax check only).

use super::error::DomainError;
use std::fmt;
use std::str::FromStr;

const CODE: &str = "invalid_time_zone";
const AREAS: &[&str] = &[
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
    "Etc",
];

/// An IANA time zone name such as `"Asia/Shanghai"`, `"America/Argentina/Buenos_Aires"`,
/// `"Etc/GMT+8"` or `"UTC"`, stored as given (names are case-sensitive).
///
/// Only the syntax is checked here: `Area/Location[/Sub]` with a known area (Africa,
/// America, Antarctica, Arctic, Asia, Atlantic, Australia, Europe, Indian, Pacific, Etc)
/// and components made of ASCII letters, digits, `_`, `-` and `+` (not starting with
/// `-` or `+`), or exactly `"UTC"`. Whether the zone exists in the tz database is
/// checked elsewhere.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimeZoneName(String);

fn err(message: impl Into<String>) -> DomainError {
    DomainError::new(CODE, message)
}

impl TimeZoneName {
    pub fn parse(input: &str) -> Result<TimeZoneName, DomainError> {
        let s = input.trim();
        if s == "UTC" {
            return Ok(TimeZoneName(s.to_string()));
        }
        if s.is_empty() {
            return Err(err("time zone is empty"));
        }
        if s.len() > 64 {
            return Err(err("time zone name is longer than 64 characters"));
        }
        let parts: Vec<&str> = s.split('/').collect();
        if !(2..=3).contains(&parts.len()) {
            return Err(err(format!("{s:?} is not of the form Area/Location[/Sub]")));
        }
        if !AREAS.contains(&parts[0]) {
            return Err(err(format!("unknown time zone area {:?}", parts[0])));
        }
        for part in &parts[1..] {
            let valid_chars = part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'+'));
            if part.is_empty() || !valid_chars || part.starts_with(['-', '+']) {
                return Err(err(format!("invalid time zone component {part:?}")));
            }
        }
        Ok(TimeZoneName(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TimeZoneName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for TimeZoneName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for TimeZoneName {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TimeZoneName::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_valid_names() {
        for s in [
            "UTC",
            "Asia/Shanghai",
            "America/New_York",
            "America/Argentina/Buenos_Aires",
            "Europe/London",
            "Etc/GMT+8",
            "Etc/GMT-14",
            "Etc/UTC",
            "America/Port-au-Prince",
            "Antarctica/DumontDUrville",
            "Indian/Mauritius",
            "Pacific/Auckland",
            "Arctic/Longyearbyen",
            "Australia/Sydney",
        ] {
            assert_eq!(
                TimeZoneName::parse(s)
                    .unwrap_or_else(|e| panic!("{s}: {e}"))
                    .as_str(),
                s
            );
        }
        let tz: TimeZoneName = " Asia/Tokyo ".parse().unwrap();
        assert_eq!(tz.to_string(), "Asia/Tokyo");
    }

    #[test]
    fn rejects_invalid() {
        for s in [
            "",
            "utc",
            "GMT",
            "EST5EDT",
            "US/Pacific",
            "asia/shanghai",
            "Asia",
            "Asia/",
            "/Shanghai",
            "Asia//Shanghai",
            "Asia/Shang hai",
            "Asia/Shanghai/",
            "America/A/B/C",
            "Etc/-5",
            "Mars/Olympus",
            "Asia/Ho_Chi_Minh\u{0}",
            "Europe/../etc/passwd",
            "Europe/Zürich",
        ] {
            let e = TimeZoneName::parse(s).expect_err(s);
            assert_eq!(e.code, "invalid_time_zone", "{s}");
        }
    }
}
