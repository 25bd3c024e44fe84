//! Complaint metrics (`/v1/metrics/complaints`): volume, rate, resolution, reopening and first-contact
//! resolution, overall, per category, channel and priority, and per calendar month and quarter.

use crate::common::feedback::*;
use crate::common::records::channel;
use crate::common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn complaints(app: &TestApp, query: &str) -> Value {
    json_of(
        app.get(&format!("/v1/metrics/complaints?{query}")).await,
        StatusCode::OK,
    )
    .await
}

const PERIOD: &str = "from=2026-03-15T00:00:00Z&to=2026-06-15T00:00:00Z";

/// The fixture (received_at in 2026; the moves happen now, which the figures do not depend on):
///
/// | item | kind      | category | channel | priority | received | moves                                   | state now |
/// |------|-----------|----------|---------|----------|----------|-----------------------------------------|-----------|
/// | C1   | complaint | billing  | Phone   | high     | 10 Apr   | in_progress, resolved                   | resolved, first contact |
/// | C2   | complaint | billing  | Phone   | normal   | 20 Apr   | in_progress, waiting, in_progress, resolved | resolved (waited) |
/// | C3   | complaint | delivery | Email   | normal   | 5 May    | in_progress, resolved, reopen, resolved, closed | closed, reopened |
/// | C4   | complaint | —        | —       | urgent   | 20 May   | acknowledged                            | open |
/// | C5   | complaint | delivery | Email   | normal   | 25 May   | in_progress, resolved, reopen           | open, reopened |
/// | S1   | survey    | —        | Phone   | normal   | 12 Apr   |                                         |           |
/// | I1   | inquiry   | billing  | Email   | normal   | 6 May    | in_progress, resolved                   | (not a complaint) |
/// | I2   | inquiry   | access   | —       | normal   | 7 May    |                                         |           |
/// | P1   | praise    | —        | —       | normal   | 20 Mar   |                                         |           |
/// | —    | complaint | billing  | Phone   | normal   | 1 Mar    | (before the period: never counted)      |           |
///
/// Overall: 9 items, 5 complaints; resolved C1, C2, C3 (3); reopened C3, C5 (2); open C4, C5 (2); first contact
/// C1 (1) → complaint_rate 5/9 = 55.56, resolution_rate 3/5 = 60, reopen_rate 2/5 = 40, FCR 1/3 = 33.33.
async fn fixture(app: &TestApp) -> (String, String) {
    let phone = channel(app, "phone", "Phone").await;
    let email = channel(app, "email", "Email").await;
    let item = |extra: Value| async move { feedback(app, extra).await };
    let c1 = item(json!({"category": "billing", "channel_id": phone, "priority": "high", "received_at": "2026-04-10T10:00:00Z"})).await;
    walk(app, &c1, &["in_progress", "resolved"]).await;
    let c2 = item(
        json!({"category": "billing", "channel_id": phone, "received_at": "2026-04-20T10:00:00Z"}),
    )
    .await;
    walk(
        app,
        &c2,
        &[
            "in_progress",
            "waiting_on_customer",
            "in_progress",
            "resolved",
        ],
    )
    .await;
    let c3 = item(
        json!({"category": "delivery", "channel_id": email, "received_at": "2026-05-05T10:00:00Z"}),
    )
    .await;
    walk(
        app,
        &c3,
        &[
            "in_progress",
            "resolved",
            "in_progress",
            "resolved",
            "closed",
        ],
    )
    .await;
    let c4 = item(json!({"priority": "urgent", "received_at": "2026-05-20T10:00:00Z"})).await;
    walk(app, &c4, &["acknowledged"]).await;
    let c5 = item(
        json!({"category": "delivery", "channel_id": email, "received_at": "2026-05-25T10:00:00Z"}),
    )
    .await;
    walk(app, &c5, &["in_progress", "resolved", "in_progress"]).await;
    survey(
        app,
        json!({"nps": 9, "channel_id": phone, "received_at": "2026-04-12T10:00:00Z"}),
    )
    .await;
    let i1 = item(json!({"kind": "inquiry", "category": "billing", "channel_id": email, "received_at": "2026-05-06T10:00:00Z"})).await;
    walk(app, &i1, &["in_progress", "resolved"]).await;
    item(json!({"kind": "inquiry", "category": "access", "received_at": "2026-05-07T10:00:00Z"}))
        .await;
    item(json!({"kind": "praise", "received_at": "2026-03-20T10:00:00Z"})).await;
    item(
        json!({"category": "billing", "channel_id": phone, "received_at": "2026-03-01T10:00:00Z"}),
    )
    .await;
    (phone, email)
}

/// The counts and rates of a figures object, in a fixed order.
fn figures(v: &Value) -> Value {
    json!([
        v["feedback_items"],
        v["received"],
        v["resolved"],
        v["reopened"],
        v["open"],
        v["first_contact_resolved"],
        v["complaint_rate"],
        v["resolution_rate"],
        v["reopen_rate"],
        v["first_contact_resolution"]
    ])
}

fn row(
    items: i64,
    received: i64,
    resolved: i64,
    reopened: i64,
    open: i64,
    fcr: i64,
    rates: [Value; 4],
) -> Value {
    let [complaint, resolution, reopen, first] = rates;
    json!([
        items, received, resolved, reopened, open, fcr, complaint, resolution, reopen, first
    ])
}

db_test!(
    complaint_rates_count_reopens_and_first_contact_resolution,
    |app| {
        fixture(&app).await;
        let m = complaints(&app, PERIOD).await;
        assert_eq!(
            figures(&m["overall"]),
            row(
                9,
                5,
                3,
                2,
                2,
                1,
                [json!(55.56), json!(60.0), json!(40.0), json!(33.33)]
            ),
            "{m}"
        );
        assert_eq!(
            (m["groups"].clone(), m["intervals"].clone()),
            (json!([]), json!([]))
        );
        assert_eq!(
            (m["group_by"].clone(), m["interval"].clone()),
            (Value::Null, Value::Null)
        );
        // An empty period: counts 0, rates null.
        let empty = complaints(&app, "from=2020-01-01T00:00:00Z&to=2020-02-01T00:00:00Z").await;
        assert_eq!(
            figures(&empty["overall"]),
            row(
                0,
                0,
                0,
                0,
                0,
                0,
                [Value::Null, Value::Null, Value::Null, Value::Null]
            )
        );
    }
);

db_test!(complaints_group_by_category_channel_and_priority, |app| {
    let (phone, email) = fixture(&app).await;
    let null = Value::Null;
    // Category: billing = C1, C2 (+ I1); delivery = C3, C5; none = C4 (+ S1, P1); access has no complaint: absent.
    let m = complaints(&app, &format!("{PERIOD}&group_by=category")).await;
    let groups = m["groups"].as_array().unwrap();
    let keys: Vec<&Value> = groups.iter().map(|g| &g["key"]).collect();
    assert_eq!(keys, [&json!("billing"), &json!("delivery"), &null], "{m}");
    assert_eq!(
        figures(&groups[0]),
        row(
            3,
            2,
            2,
            0,
            0,
            1,
            [json!(66.67), json!(100.0), json!(0.0), json!(50.0)]
        )
    );
    assert_eq!(
        figures(&groups[1]),
        row(
            2,
            2,
            1,
            2,
            1,
            0,
            [json!(100.0), json!(50.0), json!(100.0), json!(0.0)]
        )
    );
    assert_eq!(
        figures(&groups[2]),
        row(
            3,
            1,
            0,
            0,
            1,
            0,
            [json!(33.33), json!(0.0), json!(0.0), null.clone()]
        )
    );
    // The groups add up to the overall counts.
    assert_eq!(
        groups
            .iter()
            .map(|g| g["received"].as_i64().unwrap())
            .sum::<i64>(),
        5
    );
    // Channel: Phone = C1, C2 (+ S1); Email = C3, C5 (+ I1); none = C4 (+ P1, I2), last.
    let m = complaints(&app, &format!("{PERIOD}&group_by=channel")).await;
    let groups = m["groups"].as_array().unwrap();
    let by = |key: &str| {
        groups
            .iter()
            .find(|g| g["key"] == key)
            .unwrap_or_else(|| panic!("{key}: {m}"))
            .clone()
    };
    assert_eq!(by(&phone)["label"], "Phone");
    assert_eq!(
        figures(&by(&phone)),
        row(
            3,
            2,
            2,
            0,
            0,
            1,
            [json!(66.67), json!(100.0), json!(0.0), json!(50.0)]
        )
    );
    assert_eq!(by(&email)["label"], "Email");
    assert_eq!(
        figures(&by(&email)),
        row(
            3,
            2,
            1,
            2,
            1,
            0,
            [json!(66.67), json!(50.0), json!(100.0), json!(0.0)]
        )
    );
    assert_eq!(groups.len(), 3);
    assert_eq!(
        figures(&groups[2]),
        row(
            3,
            1,
            0,
            0,
            1,
            0,
            [json!(33.33), json!(0.0), json!(0.0), null.clone()]
        )
    );
    assert_eq!(groups[2]["key"], null);
    // Priority: high = C1; normal = C2, C3, C5 (+ S1, I1, I2, P1); urgent = C4.
    let m = complaints(&app, &format!("{PERIOD}&group_by=priority")).await;
    let groups = m["groups"].as_array().unwrap();
    let keys: Vec<&Value> = groups.iter().map(|g| &g["key"]).collect();
    assert_eq!(keys, [&json!("high"), &json!("normal"), &json!("urgent")]);
    assert_eq!(
        figures(&groups[0]),
        row(
            1,
            1,
            1,
            0,
            0,
            1,
            [json!(100.0), json!(100.0), json!(0.0), json!(100.0)]
        )
    );
    assert_eq!(
        figures(&groups[1]),
        row(
            7,
            3,
            2,
            2,
            1,
            0,
            [json!(42.86), json!(66.67), json!(66.67), json!(0.0)]
        )
    );
    assert_eq!(
        figures(&groups[2]),
        row(
            1,
            1,
            0,
            0,
            1,
            0,
            [json!(100.0), json!(0.0), json!(0.0), null]
        )
    );
});

db_test!(complaints_come_per_calendar_month_and_quarter, |app| {
    fixture(&app).await;
    let m = complaints(&app, &format!("{PERIOD}&interval=month&group_by=priority")).await;
    assert_eq!(
        (m["interval"].clone(), m["group_by"].clone()),
        (json!("month"), json!("priority"))
    );
    let rows = m["intervals"].as_array().unwrap();
    let spans: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r["key"].as_str().unwrap(),
                r["from"].as_str().unwrap(),
                r["to"].as_str().unwrap(),
            )
        })
        .collect();
    // Every month the period touches, the first and last clipped to it.
    assert_eq!(
        spans,
        [
            ("2026-03", "2026-03-15T00:00:00Z", "2026-04-01T00:00:00Z"),
            ("2026-04", "2026-04-01T00:00:00Z", "2026-05-01T00:00:00Z"),
            ("2026-05", "2026-05-01T00:00:00Z", "2026-06-01T00:00:00Z"),
            ("2026-06", "2026-06-01T00:00:00Z", "2026-06-15T00:00:00Z"),
        ]
    );
    let null = Value::Null;
    // March: P1 only. April: C1, C2, S1. May: C3, C4, C5, I1, I2. June: nothing.
    assert_eq!(
        figures(&rows[0]),
        row(
            1,
            0,
            0,
            0,
            0,
            0,
            [json!(0.0), null.clone(), null.clone(), null.clone()]
        )
    );
    assert_eq!(
        figures(&rows[1]),
        row(
            3,
            2,
            2,
            0,
            0,
            1,
            [json!(66.67), json!(100.0), json!(0.0), json!(50.0)]
        )
    );
    assert_eq!(
        figures(&rows[2]),
        row(
            5,
            3,
            1,
            2,
            2,
            0,
            [json!(60.0), json!(33.33), json!(66.67), json!(0.0)]
        )
    );
    assert_eq!(
        figures(&rows[3]),
        row(
            0,
            0,
            0,
            0,
            0,
            0,
            [null.clone(), null.clone(), null.clone(), null]
        )
    );
    assert_eq!(m["groups"].as_array().unwrap().len(), 3);
    // Quarters: Q1 has P1 (from 15 March); Q2 everything else.
    let m = complaints(&app, &format!("{PERIOD}&interval=quarter")).await;
    let rows = m["intervals"].as_array().unwrap();
    let keys: Vec<&str> = rows.iter().map(|r| r["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["2026-Q1", "2026-Q2"]);
    assert_eq!(
        (
            rows[0]["feedback_items"].as_i64(),
            rows[0]["received"].as_i64()
        ),
        (Some(1), Some(0))
    );
    assert_eq!(rows[1]["from"], "2026-04-01T00:00:00Z");
    assert_eq!(
        figures(&rows[1]),
        row(
            8,
            5,
            3,
            2,
            2,
            1,
            [json!(62.5), json!(60.0), json!(40.0), json!(33.33)]
        )
    );
});

db_test!(
    bad_complaint_parameters_are_400s_that_list_the_valid_values,
    |app| {
        let p = problem(
            app.get("/v1/metrics/complaints?group_by=segment").await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        let detail = p["detail"].as_str().unwrap();
        assert!(
            ["category", "channel", "priority"]
                .iter()
                .all(|v| detail.contains(v)),
            "{detail}"
        );
        let p = problem(
            app.get("/v1/metrics/complaints?interval=week").await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        let detail = p["detail"].as_str().unwrap();
        assert!(
            detail.contains("month") && detail.contains("quarter"),
            "{detail}"
        );
        for query in [
            "from=yesterday",
            "kind=complaint",
            "from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z",
        ] {
            problem(
                app.get(&format!("/v1/metrics/complaints?{query}")).await,
                StatusCode::BAD_REQUEST,
            )
            .await;
        }
    }
);
