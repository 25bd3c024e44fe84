//! Satisfaction and service-level metrics (`/v1/metrics/satisfaction`, `/v1/metrics/service-levels`) and the
//! feedback part of the channel metrics, on known data.

use crate::common::feedback::*;
use crate::common::records::*;
use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn satisfaction(app: &TestApp, query: &str) -> Value {
    json_of(
        app.get(&format!("/v1/metrics/satisfaction?{query}")).await,
        StatusCode::OK,
    )
    .await
}

async fn service_levels(app: &TestApp, query: &str) -> Value {
    json_of(
        app.get(&format!("/v1/metrics/service-levels?{query}"))
            .await,
        StatusCode::OK,
    )
    .await
}

fn close_to(v: &Value, expected: f64, tolerance: f64) -> bool {
    v.as_f64()
        .is_some_and(|x| (x - expected).abs() <= tolerance)
}

db_test!(nps_of_a_known_score_set_is_20, |app| {
    for nps in [10, 10, 9, 9, 8, 7, 6, 5, 0, 10] {
        survey(&app, json!({"nps": nps})).await;
    }
    let m = satisfaction(&app, "").await;
    let nps = &m["overall"]["nps"];
    assert_eq!(nps["score"], 20.0, "{m}");
    assert_eq!(
        (nps["responses"].as_i64(), nps["promoters"].as_i64()),
        (Some(10), Some(5))
    );
    assert_eq!(
        (nps["passives"].as_i64(), nps["detractors"].as_i64()),
        (Some(2), Some(3))
    );
    assert_eq!(m["overall"]["csat"]["responses"], 0);
    assert_eq!(m["overall"]["csat"]["score"], Value::Null);
    assert_eq!(m["groups"], json!([]));
});

db_test!(csat_of_a_known_score_set_is_60_percent, |app| {
    for csat in [5, 4, 3, 2, 5] {
        survey(&app, json!({"csat": csat})).await;
    }
    // Scores on other kinds count too; items without a score do not.
    feedback(&app, json!({})).await;
    let m = satisfaction(&app, "").await;
    let csat = &m["overall"]["csat"];
    assert_eq!(csat["score"], 60.0, "{m}");
    assert_eq!(csat["mean"], 3.8);
    assert_eq!(
        (csat["responses"].as_i64(), csat["satisfied"].as_i64()),
        (Some(5), Some(3))
    );
    assert_eq!(m["overall"]["nps"]["score"], Value::Null);
});

db_test!(satisfaction_groups_by_channel_segment_and_month, |app| {
    let web = channel(&app, "web", "Web survey").await;
    let phone = channel(&app, "phone", "Phone survey").await;
    let big = json_of(
        app.post(
            "/v1/accounts",
            &json!({"name": "Big", "employee_count": 5000}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let small = json_of(
        app.post(
            "/v1/accounts",
            &json!({"name": "Small", "employee_count": 12}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    survey(&app, json!({"nps": 10, "csat": 5, "channel_id": web, "account_id": id(&big), "received_at": "2025-01-15T10:00:00Z"})).await;
    survey(&app, json!({"nps": 0, "csat": 1, "channel_id": web, "account_id": id(&small), "received_at": "2025-02-15T10:00:00Z"})).await;
    survey(&app, json!({"nps": 9, "channel_id": phone, "account_id": id(&big), "received_at": "2025-02-20T10:00:00Z"})).await;
    survey(
        &app,
        json!({"nps": 7, "received_at": "2025-02-28T23:59:59Z"}),
    )
    .await;
    let period = "from=2025-01-01T00:00:00Z&to=2025-03-01T00:00:00Z";
    let by_channel = satisfaction(&app, &format!("{period}&group_by=channel")).await;
    assert_eq!(by_channel["overall"]["nps"]["responses"], 4);
    assert_eq!(by_channel["overall"]["nps"]["score"], 25.0);
    let groups = by_channel["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 3, "{by_channel}");
    let group = |key: &str| {
        groups
            .iter()
            .find(|g| g["key"] == key)
            .unwrap_or_else(|| panic!("no group {key}"))
            .clone()
    };
    assert_eq!(group(&web)["label"], "Web survey");
    assert_eq!(group(&web)["nps"]["score"], 0.0);
    assert_eq!(group(&web)["csat"]["score"], 50.0);
    assert_eq!(group(&phone)["nps"]["score"], 100.0);
    assert!(
        groups
            .iter()
            .any(|g| g["key"].is_null() && g["nps"]["responses"] == 1)
    );
    let by_segment = satisfaction(&app, &format!("{period}&group_by=segment")).await;
    let segments = by_segment["groups"].as_array().unwrap();
    let seg = |key: &str| segments.iter().find(|g| g["key"] == key).unwrap().clone();
    assert_eq!(seg("enterprise")["nps"]["score"], 100.0);
    assert_eq!(seg("small")["nps"]["score"], -100.0);
    let by_month = satisfaction(&app, &format!("{period}&group_by=month")).await;
    let months: Vec<(String, i64)> = by_month["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["key"].as_str().unwrap().to_string(),
                g["nps"]["responses"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        months,
        [("2025-01".to_string(), 1), ("2025-02".to_string(), 3)]
    );
    // The period is [from, to): the end is excluded.
    let january = satisfaction(&app, "from=2025-01-01T00:00:00Z&to=2025-02-15T10:00:00Z").await;
    assert_eq!(january["overall"]["nps"]["responses"], 1);
    problem(
        app.get("/v1/metrics/satisfaction?group_by=colour").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    problem(
        app.get("/v1/metrics/satisfaction?from=2025-02-01T00:00:00Z&to=2025-01-01T00:00:00Z")
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
});

db_test!(
    service_level_metrics_count_shares_means_and_medians,
    |app| {
        let ch = channel(&app, "email", "Support inbox").await;
        // First responses after 1, 2, 3 and 10 hours (all within 24 h); one after 30 h (missed).
        for hours in [1.0, 2.0, 3.0, 10.0] {
            let item = feedback(
                &app,
                json!({"received_at": app.hours_ago(hours), "channel_id": ch}),
            )
            .await;
            moved(&app, &item, "acknowledged").await;
        }
        let late = feedback(
            &app,
            json!({"kind": "inquiry", "received_at": app.hours_ago(30.0), "priority": "high"}),
        )
        .await;
        moved(&app, &late, "in_progress").await;
        // Never answered and overdue: missed, and open and breached.
        feedback(
            &app,
            json!({"received_at": app.hours_ago(26.0), "priority": "urgent"}),
        )
        .await;
        // Resolved at once: met for both clocks.
        walk(
            &app,
            &feedback(&app, json!({"channel_id": ch})).await,
            &["in_progress", "resolved"],
        )
        .await;
        // Scores and other kinds are not part of service levels.
        survey(&app, json!({"nps": 3})).await;
        let m = service_levels(&app, "").await;
        let all = &m["overall"];
        assert_eq!(all["items"], 7, "{m}");
        assert_eq!(
            (all["complaints"].as_i64(), all["inquiries"].as_i64()),
            (Some(6), Some(1))
        );
        assert_eq!(all["first_responded"], 6);
        assert_eq!(
            (
                all["first_response_met"].as_i64(),
                all["first_response_missed"].as_i64()
            ),
            (Some(5), Some(2))
        );
        assert!(
            close_to(&all["first_response_within_sla"], 71.43, 0.001),
            "{all}"
        );
        assert_eq!(
            (all["resolved"].as_i64(), all["resolution_met"].as_i64()),
            (Some(1), Some(1))
        );
        assert_eq!(all["resolution_missed"], 0);
        assert_eq!(all["resolution_within_sla"], 100.0);
        assert_eq!(all["open_breached"], 2);
        // Times: 0, 60, 120, 180, 600 and 1800 minutes (a few seconds of slack for the test's own pace).
        assert!(
            close_to(&all["median_first_response_minutes"], 150.0, 0.2),
            "{all}"
        );
        assert!(
            close_to(&all["mean_first_response_minutes"], 2760.0 / 6.0, 0.2),
            "{all}"
        );
        assert!(
            close_to(&all["median_resolution_minutes"], 0.0, 0.2),
            "{all}"
        );
        let channels = m["by_channel"].as_array().unwrap();
        let inbox = channels
            .iter()
            .find(|c| c["channel_id"] == ch.as_str())
            .unwrap();
        assert_eq!(inbox["channel_name"], "Support inbox");
        assert_eq!(inbox["items"], 5);
        // Inbox: 0, 60, 120, 180, 600 minutes: the median is the middle one.
        assert!(
            close_to(&inbox["median_first_response_minutes"], 120.0, 0.2),
            "{inbox}"
        );
        assert_eq!(inbox["first_response_within_sla"], 100.0);
        let priorities: Vec<&str> = m["by_priority"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["priority"].as_str().unwrap())
            .collect();
        assert_eq!(priorities, ["urgent", "high", "normal"]);
        let urgent = &m["by_priority"][0];
        assert_eq!(
            (urgent["items"].as_i64(), urgent["open_breached"].as_i64()),
            (Some(1), Some(1))
        );
        assert_eq!(urgent["first_response_within_sla"], 0.0);
        assert_eq!(urgent["median_first_response_minutes"], Value::Null);
        let inquiries = service_levels(&app, "kind=inquiry").await;
        assert_eq!(inquiries["overall"]["items"], 1);
        problem(
            app.get("/v1/metrics/service-levels?kind=praise").await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        let empty = service_levels(&app, "from=2020-01-01T00:00:00Z&to=2020-02-01T00:00:00Z").await;
        assert_eq!(empty["overall"]["items"], 0);
        assert_eq!(empty["overall"]["first_response_within_sla"], Value::Null);
        assert_eq!(empty["by_channel"], json!([]));
    }
);

db_test!(resolution_time_runs_from_receipt_to_resolution, |app| {
    let item = feedback(&app, json!({"received_at": app.hours_ago(5.0)})).await;
    walk(
        &app,
        &item,
        &[
            "in_progress",
            "waiting_on_customer",
            "in_progress",
            "resolved",
        ],
    )
    .await;
    let m = service_levels(&app, "").await;
    assert!(
        close_to(&m["overall"]["mean_resolution_minutes"], 300.0, 0.2),
        "{m}"
    );
    assert!(
        close_to(&m["overall"]["median_resolution_minutes"], 300.0, 0.2),
        "{m}"
    );
});

db_test!(
    channel_metrics_show_the_mean_time_to_first_response,
    |app| {
        let ch = channel(&app, "chat", "Live chat").await;
        let quiet = channel(&app, "sms", "SMS").await;
        for hours in [1.0, 3.0] {
            let item = feedback(
                &app,
                json!({"received_at": app.hours_ago(hours), "channel_id": ch}),
            )
            .await;
            moved(&app, &item, "in_progress").await;
        }
        feedback(&app, json!({"channel_id": ch})).await;
        let m = json_of(app.get("/v1/metrics/channels").await, StatusCode::OK).await;
        let row = |id: &str| {
            m["data"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["channel_id"] == id)
                .unwrap()
                .clone()
        };
        assert!(
            close_to(&row(&ch)["mean_first_response_minutes"], 120.0, 0.2),
            "{m}"
        );
        assert_eq!(row(&quiet)["mean_first_response_minutes"], Value::Null);
    }
);

db_test!(
    metrics_are_readable_by_viewers_and_metrics_keys_only,
    |app| {
        survey(&app, json!({"nps": 9})).await;
        let viewer = app.token_for("viewer").await;
        for url in ["/v1/metrics/satisfaction", "/v1/metrics/service-levels"] {
            json_of(
                app.request_as(&viewer, Method::GET, url)
                    .send()
                    .await
                    .unwrap(),
                StatusCode::OK,
            )
            .await;
            let metrics_key = app.api_key(&["metrics:read"]).await;
            json_of(
                app.request_as(&metrics_key, Method::GET, url)
                    .send()
                    .await
                    .unwrap(),
                StatusCode::OK,
            )
            .await;
            let feedback_key = app.api_key(&["feedback:write"]).await;
            problem(
                app.request_as(&feedback_key, Method::GET, url)
                    .send()
                    .await
                    .unwrap(),
                StatusCode::FORBIDDEN,
            )
            .await;
        }
    }
);

db_test!(
    every_item_of_a_long_period_counts_once_whatever_its_instant,
    |app| {
        // A long period may be summed in parts (on SQLite, two halves side by side): an item at the period's
        // start, at its middle (2025-04-01T12:00:00Z, half of 181 days), a second before the middle and a second
        // before its end counts once each; one at its end does not count.
        let web = channel(&app, "web", "Web survey").await;
        let period = "from=2025-01-01T00:00:00Z&to=2025-07-01T00:00:00Z";
        let instants = [
            "2025-01-01T00:00:00Z",
            "2025-04-01T11:59:59Z",
            "2025-04-01T12:00:00Z",
            "2025-06-30T23:59:59Z",
            "2025-07-01T00:00:00Z",
        ];
        for (nps, at) in [10, 9, 0, 8, 10].into_iter().zip(instants) {
            survey(
                &app,
                json!({"nps": nps, "channel_id": web, "received_at": at}),
            )
            .await;
            feedback(&app, json!({"channel_id": web, "received_at": at})).await;
        }
        let by_channel = satisfaction(&app, &format!("{period}&group_by=channel")).await;
        // 10, 9, 0, 8: two promoters, one detractor of four → 25.
        assert_eq!(by_channel["overall"]["nps"]["responses"], 4, "{by_channel}");
        assert_eq!(by_channel["overall"]["nps"]["score"], 25.0);
        let groups = by_channel["groups"].as_array().unwrap();
        assert_eq!(groups.len(), 1, "{by_channel}");
        assert_eq!(groups[0]["label"], "Web survey");
        assert_eq!(groups[0]["nps"]["responses"], 4);
        // April has an answer on each side of the middle: one group of two.
        let by_month = satisfaction(&app, &format!("{period}&group_by=month")).await;
        let months: Vec<(Value, Value)> = by_month["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| (g["key"].clone(), g["nps"]["responses"].clone()))
            .collect();
        assert_eq!(
            months,
            vec![
                (json!("2025-01"), json!(1)),
                (json!("2025-04"), json!(2)),
                (json!("2025-06"), json!(1))
            ],
            "{by_month}"
        );
        let levels = service_levels(&app, period).await;
        assert_eq!(levels["overall"]["items"], 4, "{levels}");
        let channels = levels["by_channel"].as_array().unwrap();
        assert_eq!(channels.len(), 1, "{levels}");
        assert_eq!(channels[0]["items"], 4);
        let priorities = levels["by_priority"].as_array().unwrap();
        assert_eq!(priorities.len(), 1, "{levels}");
        assert_eq!(priorities[0]["items"], 4);
        // Four complaints among eight items of the period, all on the one channel.
        let complaints = json_of(
            app.get(&format!("/v1/metrics/complaints?{period}&group_by=channel"))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(complaints["overall"]["received"], 4, "{complaints}");
        assert_eq!(complaints["overall"]["feedback_items"], 8);
        let groups = complaints["groups"].as_array().unwrap();
        assert_eq!(groups.len(), 1, "{complaints}");
        assert_eq!(
            (
                &groups[0]["label"],
                &groups[0]["received"],
                &groups[0]["feedback_items"]
            ),
            (&json!("Web survey"), &json!(4), &json!(8))
        );
    }
);
