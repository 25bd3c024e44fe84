//! Quiet hours: a contact's stated hours (`20:00`–`08:00`, in their time
//! zone) in which the firm does not call or message them. An outbound call or
//! message logged inside them is refused; what the contact started (inbound)
//! never is.

use chrono::{DateTime, NaiveTime, Utc};
use chrono_tz::Tz;
use uuid::Uuid;

use crate::{
    db::Tx,
    feedback::calendar_api::load_work,
    http::ApiError,
    interactions::model::{Direction, InteractionType},
    on_tx,
};

/// Whether `local` lies in `[start, end)`, where a span past midnight
/// (`20:00`–`08:00`) wraps.
pub fn within(start: NaiveTime, end: NaiveTime, local: NaiveTime) -> bool {
    if start < end {
        start <= local && local < end
    } else {
        local >= start || local < end
    }
}

/// The touches quiet hours hold back: outbound calls and messages.
pub fn applies(direction: Direction, kind: InteractionType) -> bool {
    direction == Direction::Outbound
        && matches!(kind, InteractionType::Call | InteractionType::Message)
}

/// 409 when the contact's quiet hours, read in their time zone (else the
/// working calendar's), hold `at`.
pub async fn enforce(
    tx: &mut Tx,
    contact_id: Uuid,
    kind: InteractionType,
    at: DateTime<Utc>,
) -> Result<(), ApiError> {
    let hours: Option<(Option<String>, Option<String>, Option<String>)> = on_tx!(&mut *tx, c => sqlx::query_as(
        "SELECT p.quiet_hours_start, p.quiet_hours_end, c.time_zone
         FROM contact_preferences p JOIN contacts c ON c.id = p.contact_id WHERE p.contact_id = $1"
    ).bind(contact_id).fetch_optional(&mut **c).await)?;
    let Some((Some(start), Some(end), zone)) = hours else {
        return Ok(());
    };
    let (Ok(from), Ok(to)) = (
        NaiveTime::parse_from_str(&start, "%H:%M"),
        NaiveTime::parse_from_str(&end, "%H:%M"),
    ) else {
        return Ok(());
    };
    let tz: Tz = match zone.as_deref().and_then(|z| z.parse().ok()) {
        Some(tz) => tz,
        None => load_work(&mut *tx).await?.tz,
    };
    let local = at.with_timezone(&tz).time();
    if !within(from, to, local) {
        return Ok(());
    }
    Err(ApiError::conflict(format!(
        "Refused by the contact's quiet hours: contact {contact_id} takes no outbound calls or messages from \
         {start} to {end} ({tz}), and this {kind} falls at {} there. Nothing was logged; log it outside those \
         hours.",
        local.format("%H:%M")
    ))
    .with("rule", "quiet_hours")
    .with("quiet_hours", serde_json::json!({"start": start, "end": end, "time_zone": tz.name()})))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str) -> NaiveTime {
        NaiveTime::parse_from_str(text, "%H:%M").unwrap()
    }

    #[test]
    fn a_span_past_midnight_wraps() {
        assert!(within(t("20:00"), t("08:00"), t("23:30")));
        assert!(within(t("20:00"), t("08:00"), t("07:59")));
        assert!(!within(t("20:00"), t("08:00"), t("08:00")));
        assert!(!within(t("20:00"), t("08:00"), t("12:00")));
        assert!(within(t("12:00"), t("14:00"), t("12:00")));
        assert!(!within(t("12:00"), t("14:00"), t("14:00")));
    }

    #[test]
    fn only_outbound_calls_and_messages_are_held_back() {
        assert!(applies(Direction::Outbound, InteractionType::Call));
        assert!(applies(Direction::Outbound, InteractionType::Message));
        assert!(!applies(Direction::Inbound, InteractionType::Call));
        assert!(!applies(Direction::Outbound, InteractionType::Email));
    }
}
