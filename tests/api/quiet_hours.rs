//! Quiet hours: an outbound call or message inside the contact's quiet hours,
//! in the contact's time zone, is refused naming the rule.

use crate::common::records::*;
use crate::common::*;
use reqwest::StatusCode;
use serde_json::json;

db_test!(
    an_outbound_call_in_the_contacts_quiet_hours_is_refused_naming_the_rule,
    |app| {
        let phone = channel(&app, "phone", "Hotline").await;
        // Shanghai is UTC+8: 13:00 UTC is 21:00 there, 03:00 UTC is 11:00.
        let person = created(
            &app,
            "/v1/contacts",
            json!({"first_name": "Mei", "time_zone": "Asia/Shanghai"}),
        )
        .await;
        let person = id(&person);
        put_preferences(
            &app,
            &person,
            json!({"quiet_hours": {"start": "20:00", "end": "08:00"}}),
        )
        .await;
        let night = "2026-05-31T13:00:00Z";
        let day = "2026-05-31T03:00:00Z";
        let refused = problem(
            log(
                &app,
                &phone,
                json!({"contact_id": person, "direction": "outbound", "occurred_at": night}),
            )
            .await,
            StatusCode::CONFLICT,
        )
        .await;
        assert_eq!(refused["rule"], "quiet_hours");
        assert_eq!(refused["quiet_hours"]["time_zone"], "Asia/Shanghai");
        assert!(
            refused["detail"].as_str().unwrap().contains("21:00"),
            "{refused}"
        );
        problem(
        log(&app, &phone, json!({"contact_id": person, "direction": "outbound", "type": "message", "occurred_at": night})).await,
        StatusCode::CONFLICT,
    )
    .await;
        // What the contact started, and touches that are not calls or messages, are never held back.
        logged(
            &app,
            &phone,
            json!({"contact_id": person, "direction": "inbound", "occurred_at": night}),
        )
        .await;
        logged(&app, &phone, json!({"contact_id": person, "direction": "outbound", "type": "email", "occurred_at": night})).await;
        let daytime = logged(
            &app,
            &phone,
            json!({"contact_id": person, "direction": "outbound", "occurred_at": day}),
        )
        .await;
        // Moving a call into the quiet hours is refused too.
        problem(
            app.patch(
                &format!("/v1/interactions/{}", id(&daytime)),
                &json!({"occurred_at": night}),
            )
            .await,
            StatusCode::CONFLICT,
        )
        .await;
        // Editing something else keeps an old call as it is.
        json_of(
            app.patch(
                &format!("/v1/interactions/{}", id(&daytime)),
                &json!({"summary": "Left a message"}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
    }
);

db_test!(
    without_a_time_zone_quiet_hours_are_read_in_the_working_calendars,
    |app| {
        let phone = channel(&app, "phone", "Hotline").await;
        let person = contact(&app, None).await;
        put_preferences(
            &app,
            &person,
            json!({"quiet_hours": {"start": "12:00", "end": "14:00"}}),
        )
        .await;
        problem(
        log(&app, &phone, json!({"contact_id": person, "direction": "outbound", "occurred_at": "2026-05-31T12:30:00Z"})).await,
        StatusCode::CONFLICT,
    )
    .await;
        logged(&app, &phone, json!({"contact_id": person, "direction": "outbound", "occurred_at": "2026-05-31T14:00:00Z"})).await;
    }
);
