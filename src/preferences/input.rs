//! The checks a `PUT /v1/contacts/{id}/preferences` body passes on its way
//! to what is stored: typed values, every problem reported at once.

use super::model::*;
use crate::{
    channels::ChannelKind,
    domain::LanguageTag,
    http::{ApiError, FieldError},
    interactions::model::Purpose,
};
use chrono::{DateTime, Duration, SubsecRound, Utc};

/// Clock skew tolerated on `recorded_at`.
const SKEW: Duration = Duration::minutes(1);
/// How far back a statement may be dated.
pub const MAX_BACKDATING: Duration = Duration::days(30);

/// `HH:MM`, two digits each, 00:00–23:59.
pub fn valid_clock_time(text: &str) -> Result<(), validator::ValidationError> {
    let b = text.as_bytes();
    let two = |i: usize| (b[i] - b'0') * 10 + (b[i + 1] - b'0');
    let ok = b.len() == 5
        && b[2] == b':'
        && [0, 1, 3, 4].iter().all(|&i| b[i].is_ascii_digit())
        && two(0) < 24
        && two(3) < 60;
    if ok {
        Ok(())
    } else {
        Err(validator::ValidationError::new("invalid_time")
            .with_message("must be a time HH:MM such as 08:30".into()))
    }
}

impl PreferencesIn {
    /// Checks what the derive cannot (language, quiet hours, duplicate pairs, dates) and returns typed values;
    /// every problem is reported at once.
    pub fn parse(self, now: DateTime<Utc>) -> Result<NewPreferences, ApiError> {
        let mut errors = Vec::new();
        let language = match self
            .language
            .as_deref()
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            None => None,
            Some(text) => match LanguageTag::parse(text) {
                Ok(tag) => Some(tag.to_string()),
                Err(e) => {
                    errors.push(FieldError::new("language", e.code, e.message));
                    None
                }
            },
        };
        if let Some(q) = &self.quiet_hours
            && q.start == q.end
        {
            errors.push(FieldError::new(
                "quiet_hours.end",
                "empty_window",
                "must differ from quiet_hours.start",
            ));
        }
        let mut consents: Vec<NewConsent> = Vec::new();
        for (i, c) in self.consents.into_iter().enumerate() {
            let (Some(channel_kind), Some(purpose)) = (
                ChannelKind::parse(&c.channel_kind),
                Purpose::parse(&c.purpose),
            ) else {
                continue; // reported by validate()
            };
            if consents
                .iter()
                .any(|o| o.channel_kind == channel_kind && o.purpose == purpose)
            {
                errors.push(FieldError::new(
                    format!("consents[{i}]"),
                    "duplicate",
                    format!("lists {channel_kind}/{purpose} twice: send one statement per channel_kind and purpose"),
                ));
            }
            let recorded_at = c.recorded_at.map(|t| t.trunc_subsecs(6));
            if recorded_at.is_some_and(|t| t > now + SKEW) {
                errors.push(FieldError::new(
                    format!("consents[{i}].recorded_at"),
                    "in_future",
                    "must not be in the future",
                ));
            }
            consents.push(NewConsent {
                channel_kind,
                purpose,
                granted: c.granted,
                source: c.source.trim().to_string(),
                legal_basis: c
                    .legal_basis
                    .as_deref()
                    .and_then(LegalBasis::parse)
                    .unwrap_or(LegalBasis::Consent),
                recorded_at,
            });
        }
        if !errors.is_empty() {
            return Err(ApiError::validation(errors));
        }
        Ok(NewPreferences {
            preferred_channel_kind: self
                .preferred_channel_kind
                .as_deref()
                .and_then(ChannelKind::parse),
            language,
            quiet_hours: self.quiet_hours,
            weekly_marketing_cap: self.weekly_marketing_cap,
            consents,
        })
    }
}

impl NewConsent {
    /// A new statement dated more than [`MAX_BACKDATING`] ago is refused (one that repeats the statement in
    /// force, as a GET-modify-PUT round trip does, records nothing and is not checked).
    pub fn too_old(&self, now: DateTime<Utc>, index: usize) -> Option<FieldError> {
        self.recorded_at
            .filter(|t| *t < now - MAX_BACKDATING)
            .map(|_| {
                FieldError::new(
                    format!("consents[{index}].recorded_at"),
                    "too_old",
                    "must be within the last 30 days",
                )
            })
    }

    /// Whether recording this statement changes anything, given the consent in force for its pair. A statement
    /// without `recorded_at` that repeats the current one is a no-op, so a GET-modify-PUT round trip adds nothing.
    pub fn differs_from(&self, current: Option<&Consent>) -> bool {
        let Some(c) = current else { return true };
        c.granted != self.granted
            || c.source != self.source
            || c.legal_basis != self.legal_basis
            || self.recorded_at.is_some_and(|t| t != c.recorded_at)
    }
}
