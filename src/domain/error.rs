//! Error type shared by all domain value types.

use std::fmt;

/// A validation failure for a domain value.
///
/// `code` is a stable, machine-readable identifier (e.g. `"invalid_email"`)
/// suitable for API error bodies; `message` is a human-readable explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainError {
    pub code: &'static str,
    pub message: String,
}

impl DomainError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        DomainError {
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for DomainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for DomainError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_and_display() {
        let e = DomainError::new("invalid_email", "missing '@'");
        assert_eq!(e.code, "invalid_email");
        assert_eq!(e.message, "missing '@'");
        assert_eq!(e.to_string(), "invalid_email: missing '@'");
        let boxed: Box<dyn std::error::Error> = Box::new(e.clone());
        assert_eq!(boxed.to_string(), e.to_string());
    }
}
