//! Collects every invalid field of a request before answering, so a caller
//! fixes all problems in one round trip.

use super::error::{ApiError, FieldError};
use crate::domain::DomainError;

/// An optional text input, trimmed; blank counts as absent.
pub fn trimmed(value: Option<String>) -> Option<String> {
    value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

#[derive(Default)]
pub struct Check {
    errors: Vec<FieldError>,
}

impl Check {
    pub fn new() -> Self {
        Self::default()
    }

    /// A check that starts with every error of `input`'s derived rules
    /// (lengths, ranges, formats), so the rules that follow add to them and
    /// one answer lists every invalid field.
    pub fn validated(input: &impl validator::Validate) -> Self {
        let errors = input
            .validate()
            .err()
            .map(|e| super::json::field_errors(&e))
            .unwrap_or_default();
        Self { errors }
    }

    /// Whether `field` already has an error (to report one problem per field).
    pub fn has(&self, field: &str) -> bool {
        self.errors.iter().any(|e| e.field == field)
    }

    /// Records the error of a failed parse under `field`.
    pub fn parse<T>(&mut self, field: &str, result: Result<T, DomainError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(e) => {
                self.errors.push(FieldError::new(field, e.code, e.message));
                None
            }
        }
    }

    /// Parses an optional value; `None` in, `None` out.
    pub fn optional<T>(
        &mut self,
        field: &str,
        input: Option<&str>,
        parse: impl FnOnce(&str) -> Result<T, DomainError>,
    ) -> Option<T> {
        input.and_then(|text| self.parse(field, parse(text)))
    }

    pub fn fail(&mut self, field: &str, code: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, code, message));
    }

    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }

    pub fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::validation(self.errors))
        }
    }

    pub fn into_errors(self) -> Vec<FieldError> {
        self.errors
    }
}
