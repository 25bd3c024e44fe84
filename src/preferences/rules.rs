//! The rules an outbound marketing touch must pass, as plain functions:
//! granted consent for the channel's kind, and the weekly cap.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::{channels::ChannelKind, http::ApiError};

/// Why an outbound marketing touch is refused.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// No statement for (channel kind, marketing) was in force, or the latest one withdrew consent.
    NoConsent { withdrawn_at: Option<DateTime<Utc>> },
    /// Some 7-day window holding the new touch would hold more than `cap`; `nearby` other outbound marketing
    /// touches lie less than 7 days before or after it.
    WeeklyCap { cap: i64, nearby: i64 },
}

/// The span of the cap's rolling window.
pub const CAP_WINDOW: Duration = Duration::days(7);

/// Whether a touch at `at` keeps every 7-day window at `cap` touches or fewer, given the other outbound marketing
/// touches less than 7 days before or after it. Windows are rolling: touches share one when they lie less than
/// 7 days apart, so neither the order in which touches are logged nor backdating can get round the cap.
pub fn within_cap(others: &[DateTime<Utc>], at: DateTime<Utc>, cap: i64) -> bool {
    let mut all = others.to_vec();
    all.push(at);
    all.sort();
    let k = usize::try_from(cap).unwrap_or(0);
    // Any cap + 1 consecutive touches spanning under 7 days, with `at` among them, break the cap.
    (0..all.len())
        .filter_map(|i| all.get(i + k).map(|last| (all[i], *last)))
        .all(|(first, last)| last - first >= CAP_WINDOW || at < first || at > last)
}

/// The consent rule, then the cap rule.
pub fn marketing_allowed(
    consent: Option<(bool, DateTime<Utc>)>,
    cap: Option<i64>,
    others: &[DateTime<Utc>],
    at: DateTime<Utc>,
) -> Result<(), Refusal> {
    match consent {
        Some((true, _)) => {}
        Some((false, when)) => {
            return Err(Refusal::NoConsent {
                withdrawn_at: Some(when),
            });
        }
        None => return Err(Refusal::NoConsent { withdrawn_at: None }),
    }
    match cap {
        Some(cap) if !within_cap(others, at, cap) => Err(Refusal::WeeklyCap {
            cap,
            nearby: others.len() as i64,
        }),
        _ => Ok(()),
    }
}

impl Refusal {
    /// The 409, naming the rule (`rule`: `marketing_consent` or `weekly_marketing_cap`).
    pub fn into_error(self, contact_id: Uuid, kind: ChannelKind) -> ApiError {
        match self {
            Refusal::NoConsent { withdrawn_at } => {
                let state = match withdrawn_at {
                    Some(at) => format!("withdrew or refused it on {}", at.to_rfc3339()),
                    None => "has never granted it".to_string(),
                };
                ApiError::conflict(format!(
                    "Refused by the marketing consent rule: an outbound marketing interaction on a {kind} channel needs \
                     the contact's granted consent for {kind}/marketing, and contact {contact_id} {state}. Nothing was \
                     logged; record the consent at /v1/contacts/{contact_id}/preferences first, or log the touch with \
                     another purpose if it was not marketing."
                ))
                .with("rule", "marketing_consent")
                .with("channel_kind", kind)
            }
            Refusal::WeeklyCap { cap, nearby } => ApiError::conflict(format!(
                "Refused by the weekly marketing cap: contact {contact_id} accepts at most {cap} outbound marketing \
                 touches in any 7 days, and this one would exceed that ({nearby} other marketing touches lie within \
                 7 days of it). Nothing was logged."
            ))
            .with("rule", "weekly_marketing_cap")
            .with("weekly_marketing_cap", cap)
            .with("nearby_marketing_touches", nearby),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn consent_must_be_granted_and_the_cap_not_reached() {
        let t = at("2026-10-01T00:00:00Z");
        let days = |d: i64| t + Duration::days(d);
        assert_eq!(
            marketing_allowed(None, None, &[], t),
            Err(Refusal::NoConsent { withdrawn_at: None })
        );
        assert_eq!(
            marketing_allowed(Some((false, t)), None, &[], t),
            Err(Refusal::NoConsent {
                withdrawn_at: Some(t)
            })
        );
        assert_eq!(
            marketing_allowed(Some((true, t)), None, &[days(-1), days(-2), days(-3)], t),
            Ok(())
        );
        assert_eq!(
            marketing_allowed(Some((true, t)), Some(2), &[days(-1)], t),
            Ok(())
        );
        assert_eq!(
            marketing_allowed(Some((true, t)), Some(2), &[days(-6), days(-1)], t),
            Err(Refusal::WeeklyCap { cap: 2, nearby: 2 })
        );
        assert_eq!(
            marketing_allowed(Some((true, t)), Some(0), &[], t),
            Err(Refusal::WeeklyCap { cap: 0, nearby: 0 })
        );
    }

    #[test]
    fn the_cap_counts_any_rolling_7_days_around_the_touch() {
        let t = at("2026-10-08T00:00:00Z");
        let days = |d: i64| t + Duration::days(d);
        // Exactly 7 days apart is two windows.
        assert!(within_cap(&[days(-7), days(-3)], t, 2));
        assert!(within_cap(&[days(-7)], t, 1));
        // A touch logged late (backdated, or slower in a race) still sees the later ones.
        assert!(!within_cap(&[days(1), days(3)], t, 2));
        assert!(!within_cap(&[days(-3), days(3)], t, 2));
        // Touches on both sides, but no 7-day window holds three.
        assert!(within_cap(&[days(-6), days(6)], t, 2));
        assert!(within_cap(&[], t, 1));
        assert!(!within_cap(&[t], t, 1));
    }

    #[test]
    fn refusals_name_their_rule() {
        let id = Uuid::nil();
        let p = Refusal::NoConsent { withdrawn_at: None }
            .into_error(id, ChannelKind::Email)
            .to_problem();
        assert_eq!(
            (p.status, p.extra["rule"].as_str()),
            (409, Some("marketing_consent"))
        );
        let p = Refusal::WeeklyCap { cap: 1, nearby: 1 }
            .into_error(id, ChannelKind::Email)
            .to_problem();
        assert_eq!(p.extra["rule"], "weekly_marketing_cap");
    }
}
