//! Service levels: due times from priorities, channels and the working calendar
//! (`/v1/service-levels/calendar`), the pause while waiting on the customer, and `sla_state`.

use crate::common::feedback::*;
use crate::common::*;
use chrono::Duration;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn at(text: &str) -> chrono::DateTime<chrono::Utc> {
    text.parse().unwrap()
}

/// Friday 7 March 2025, 10:00 UTC.
const FRIDAY: &str = "2025-03-07T10:00:00Z";

db_test!(
    due_times_default_to_24_hours_and_10_business_days_across_weekends,
    |app| {
        let item = feedback(&app, json!({"received_at": FRIDAY})).await;
        assert_eq!(
            time(&item["first_response_due_at"]),
            at("2025-03-08T10:00:00Z")
        );
        // Mon 10 … Fri 14, Mon 17 … Fri 21: the end of Friday the 21st.
        assert_eq!(time(&item["resolution_due_at"]), at("2025-03-22T00:00:00Z"));
        // Received on a Saturday: counting starts on Monday.
        let weekend = feedback(
            &app,
            json!({"received_at": "2025-03-08T15:00:00Z", "priority": "urgent"}),
        )
        .await;
        assert_eq!(
            time(&weekend["first_response_due_at"]),
            at("2025-03-08T19:00:00Z")
        );
        assert_eq!(
            time(&weekend["resolution_due_at"]),
            at("2025-03-12T00:00:00Z")
        );
    }
);

db_test!(each_priority_has_its_targets, |app| {
    for (priority, minutes, days, due) in [
        ("urgent", 240, 2, "2025-03-12T00:00:00Z"),
        ("high", 480, 5, "2025-03-15T00:00:00Z"),
        ("normal", 1440, 10, "2025-03-22T00:00:00Z"),
        ("low", 2880, 15, "2025-03-29T00:00:00Z"),
    ] {
        let item = feedback(&app, json!({"received_at": FRIDAY, "priority": priority})).await;
        assert_eq!(item["first_response_target_minutes"], minutes, "{priority}");
        assert_eq!(item["resolution_target_business_days"], days, "{priority}");
        assert_eq!(
            time(&item["first_response_due_at"]) - time(&json!(FRIDAY)),
            Duration::minutes(minutes)
        );
        assert_eq!(time(&item["resolution_due_at"]), at(due), "{priority}");
    }
});

db_test!(
    channel_targets_override_the_defaults_and_never_loosen_urgent_ones,
    |app| {
        let ch = channel_with_targets(&app, "Premium desk", Some(60), Some(3)).await;
        let normal = feedback(&app, json!({"received_at": FRIDAY, "channel_id": ch})).await;
        assert_eq!(
            time(&normal["first_response_due_at"]),
            at("2025-03-07T11:00:00Z")
        );
        assert_eq!(
            time(&normal["resolution_due_at"]),
            at("2025-03-13T00:00:00Z")
        );
        let urgent = feedback(
            &app,
            json!({"received_at": FRIDAY, "channel_id": ch, "priority": "urgent"}),
        )
        .await;
        assert_eq!(urgent["first_response_target_minutes"], 60);
        assert_eq!(urgent["resolution_target_business_days"], 2);
        let slow = channel_with_targets(&app, "Postal", Some(4320), None).await;
        let low = feedback(
            &app,
            json!({"received_at": FRIDAY, "channel_id": slow, "priority": "low"}),
        )
        .await;
        assert_eq!(low["first_response_target_minutes"], 4320);
        assert_eq!(low["resolution_target_business_days"], 15);
        let high = feedback(
            &app,
            json!({"received_at": FRIDAY, "channel_id": slow, "priority": "high"}),
        )
        .await;
        assert_eq!(high["first_response_target_minutes"], 480);
        // Moving an item to another channel applies that channel's targets.
        let moved = json_of(
            app.patch(&path(&low), &json!({"channel_id": ch})).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(moved["first_response_target_minutes"], 60);
    }
);

db_test!(public_holidays_are_not_working_days, |app| {
    put_calendar(&app, json!({"time_zone": "UTC", "working_days": ["mon", "tue", "wed", "thu", "fri"], "holidays": ["2025-03-10"]})).await;
    let item = feedback(&app, json!({"received_at": FRIDAY, "priority": "urgent"})).await;
    // Monday is a holiday: Tuesday and Wednesday are the two working days.
    assert_eq!(time(&item["resolution_due_at"]), at("2025-03-13T00:00:00Z"));
    // The first-response clock runs in elapsed time, holidays or not.
    assert_eq!(
        time(&item["first_response_due_at"]),
        at("2025-03-07T14:00:00Z")
    );
});

db_test!(make_up_working_days_on_weekends_count, |app| {
    put_calendar(&app, json!({"time_zone": "UTC", "working_days": ["mon", "tue", "wed", "thu", "fri"], "extra_working_days": ["2025-03-08"]})).await;
    let item = feedback(&app, json!({"received_at": FRIDAY, "priority": "urgent"})).await;
    // Saturday is worked, then Monday.
    assert_eq!(time(&item["resolution_due_at"]), at("2025-03-11T00:00:00Z"));
});

db_test!(
    business_days_follow_the_calendar_time_zone_and_weekdays,
    |app| {
        put_calendar(&app, json!({"time_zone": "Asia/Shanghai", "working_days": ["mon", "tue", "wed", "thu", "fri"]})).await;
        // 17:00 UTC on Friday is already Saturday 01:00 in Shanghai.
        let item = feedback(
            &app,
            json!({"received_at": "2025-03-07T17:00:00Z", "priority": "urgent"}),
        )
        .await;
        // Monday and Tuesday; Tuesday ends at midnight Beijing time (16:00 UTC).
        assert_eq!(time(&item["resolution_due_at"]), at("2025-03-11T16:00:00Z"));
        put_calendar(
            &app,
            json!({"time_zone": "UTC", "working_days": ["sun", "mon", "tue", "wed", "thu"]}),
        )
        .await;
        let item = feedback(
            &app,
            json!({"received_at": "2025-03-06T09:00:00Z", "priority": "urgent"}),
        )
        .await;
        // Thursday: then Sunday and Monday.
        assert_eq!(time(&item["resolution_due_at"]), at("2025-03-11T00:00:00Z"));
    }
);

db_test!(
    the_calendar_is_read_by_staff_and_replaced_by_admins,
    |app| {
        let viewer = app.token_for("viewer").await;
        let default = app
            .request_as(&viewer, Method::GET, "/v1/service-levels/calendar")
            .send()
            .await
            .unwrap();
        assert_eq!(header(&default, "etag").as_deref(), Some("\"0\""));
        let default = json_of(default, StatusCode::OK).await;
        assert_eq!(default["time_zone"], "UTC");
        assert_eq!(
            default["working_days"],
            json!(["mon", "tue", "wed", "thu", "fri"])
        );
        assert_eq!(default["holidays"], json!([]));
        let body = json!({"time_zone": "Europe/Berlin", "working_days": ["fri", "mon"], "holidays": ["2025-12-25", "2025-01-01"]});
        for role in ["manager", "agent"] {
            let token = app.token_for(role).await;
            let response = app
                .request_as(&token, Method::PUT, "/v1/service-levels/calendar")
                .json(&body)
                .send()
                .await
                .unwrap();
            problem(response, StatusCode::FORBIDDEN).await;
        }
        let saved = put_calendar(&app, body.clone()).await;
        assert_eq!(saved["version"], 1);
        assert_eq!(saved["working_days"], json!(["mon", "fri"]));
        assert_eq!(saved["holidays"], json!(["2025-01-01", "2025-12-25"]));
        assert_eq!(
            json_of(app.get("/v1/service-levels/calendar").await, StatusCode::OK).await,
            saved
        );
        let stale = app
            .request(Method::PUT, "/v1/service-levels/calendar")
            .header("if-match", "\"0\"")
            .json(&body)
            .send()
            .await
            .unwrap();
        problem(stale, StatusCode::PRECONDITION_FAILED).await;
        let fresh = app
            .request(Method::PUT, "/v1/service-levels/calendar")
            .header("if-match", "\"1\"")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(json_of(fresh, StatusCode::OK).await["version"], 2);
    }
);

db_test!(an_invalid_calendar_is_refused_naming_each_field, |app| {
    let bad = json!({"time_zone": "Mars/Olympus", "working_days": ["monday"], "holidays": ["2025-02-30"], "extra_working_days": []});
    let response = app
        .request(Method::PUT, "/v1/service-levels/calendar")
        .json(&bad)
        .send()
        .await
        .unwrap();
    let body = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["holidays[0]", "time_zone", "working_days[0]"]);
    let clash = json!({"time_zone": "UTC", "working_days": ["mon"], "holidays": ["2025-10-11"], "extra_working_days": ["2025-10-11"]});
    let response = app
        .request(Method::PUT, "/v1/service-levels/calendar")
        .json(&clash)
        .send()
        .await
        .unwrap();
    assert_eq!(
        problem(response, StatusCode::UNPROCESSABLE_ENTITY).await["errors"][0]["field"],
        "extra_working_days"
    );
    let none = json!({"time_zone": "UTC", "working_days": []});
    let response = app
        .request(Method::PUT, "/v1/service-levels/calendar")
        .json(&none)
        .send()
        .await
        .unwrap();
    assert_eq!(
        problem(response, StatusCode::UNPROCESSABLE_ENTITY).await["errors"][0]["field"],
        "working_days"
    );
});

db_test!(waiting_on_the_customer_pauses_the_resolution_clock, |app| {
    let item = feedback(&app, json!({})).await;
    let working = moved(&app, &item, "in_progress").await;
    let due = time(&working["resolution_due_at"]);
    assert_eq!(working["paused_seconds"], 0.0);
    let waiting = moved(&app, &working, "waiting_on_customer").await;
    assert!(waiting["waiting_since"].is_string());
    assert_eq!(
        time(&waiting["resolution_due_at"]),
        due,
        "the due time moves once the wait ends"
    );
    let back = moved(&app, &waiting, "in_progress").await;
    assert_eq!(back["waiting_since"], Value::Null);
    let log = activities(&app, &item).await;
    let waited = time(&log[2]["occurred_at"]) - time(&log[1]["occurred_at"]);
    assert!(waited > Duration::zero());
    assert_eq!(time(&back["resolution_due_at"]) - due, waited);
    assert_eq!(
        back["paused_seconds"].as_f64().unwrap(),
        waited.num_microseconds().unwrap() as f64 / 1e6
    );
    // The first-response due time is not affected; a second wait adds up; resolving from a wait ends it too.
    assert_eq!(back["first_response_due_at"], item["first_response_due_at"]);
    let waiting = moved(&app, &back, "waiting_on_customer").await;
    let resolved = moved(&app, &waiting, "resolved").await;
    let log = activities(&app, &item).await;
    let second = time(&log[4]["occurred_at"]) - time(&log[3]["occurred_at"]);
    assert_eq!(time(&resolved["resolution_due_at"]) - due, waited + second);
    assert_eq!(resolved["waiting_since"], Value::Null);
});

db_test!(
    sla_state_is_computed_from_the_clock_and_filters_the_list,
    |app| {
        let on_track = feedback(&app, json!({})).await;
        // Less than 20% of the 24-hour first-response window left.
        let at_risk = feedback(&app, json!({"received_at": app.hours_ago(20.0)})).await;
        let overdue = feedback(&app, json!({"received_at": app.hours_ago(25.0)})).await;
        let met = walk(
            &app,
            &feedback(&app, json!({})).await,
            &["in_progress", "resolved"],
        )
        .await;
        // Answered late and then resolved: a miss stays a miss.
        let late = walk(
            &app,
            &feedback(&app, json!({"received_at": app.hours_ago(30.0)})).await,
            &["in_progress", "resolved"],
        )
        .await;
        // Received four weeks ago and never answered: both clocks ran out.
        let unresolved = feedback(
            &app,
            json!({"kind": "inquiry", "received_at": app.hours_ago(24.0 * 28.0)}),
        )
        .await;
        let praise = feedback(&app, json!({"kind": "praise"})).await;
        let state = |v: &Value| v["sla_state"].as_str().map(str::to_string);
        assert_eq!(state(&on_track).as_deref(), Some("on_track"));
        assert_eq!(state(&at_risk).as_deref(), Some("at_risk"));
        assert_eq!(state(&overdue).as_deref(), Some("breached"));
        assert_eq!(state(&met).as_deref(), Some("met"));
        assert_eq!(state(&late).as_deref(), Some("breached"));
        assert_eq!(state(&unresolved).as_deref(), Some("breached"));
        assert_eq!(state(&praise), None);
        // A late first response answered now is still breached.
        let answered = moved(&app, &overdue, "acknowledged").await;
        assert_eq!(answered["sla_state"], "breached");
        let sorted = |mut v: Vec<String>| {
            v.sort();
            v
        };
        assert_eq!(listed(&app, "sla_state=on_track").await, [id(&on_track)]);
        assert_eq!(listed(&app, "sla_state=at_risk").await, [id(&at_risk)]);
        assert_eq!(listed(&app, "sla_state=met").await, [id(&met)]);
        assert_eq!(
            sorted(listed(&app, "sla_state=breached").await),
            sorted(vec![id(&overdue), id(&late), id(&unresolved)])
        );
        assert_eq!(
            listed(&app, "sla_state=breached&kind=inquiry").await,
            [id(&unresolved)]
        );
        problem(
            app.get("/v1/feedback?sla_state=late").await,
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
);

db_test!(
    an_item_waiting_on_the_customer_is_judged_at_the_start_of_the_wait,
    |app| {
        // Received 20 hours ago, answered now: its resolution window (10 business days) is far from over.
        let item = feedback(&app, json!({"received_at": app.hours_ago(20.0)})).await;
        let waiting = walk(&app, &item, &["in_progress", "waiting_on_customer"]).await;
        assert_eq!(waiting["sla_state"], "on_track");
        assert_eq!(listed(&app, "sla_state=on_track").await, [id(&item)]);
        // Overdue before the wait began: breached while waiting.
        let old = feedback(&app, json!({"received_at": app.hours_ago(24.0 * 28.0)})).await;
        let old_waiting = walk(&app, &old, &["in_progress", "waiting_on_customer"]).await;
        assert_eq!(old_waiting["sla_state"], "breached");
    }
);
