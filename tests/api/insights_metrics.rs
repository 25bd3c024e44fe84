//! Customer metrics (`/v1/metrics/customers`) and the insight settings
//! (`/v1/settings/insights`), on a fixture whose every figure is computed by
//! hand in the comments.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::feedback::{feedback, put_calendar};
use crate::common::records::{account, transaction as buy};
use crate::common::*;

async fn metrics(app: &TestApp, query: &str) -> Value {
    json_of(
        app.get(&format!("/v1/metrics/customers?{query}")).await,
        StatusCode::OK,
    )
    .await
}

/// The first quarter of 2026 (90 days), W = 365, so active at `from` means a
/// purchase in (2025-01-01, 2026-01-01] and active at `to` one in
/// (2025-04-01, 2026-04-01]:
///
/// - A (key account): bought 2025-06-01 and 2026-02-01 (100,000 EUR), refunded 20,000 on 2026-03-15 → retained.
/// - B: bought 2025-03-01 only → active at the start, not at the end: lost. Complained on 2026-02-15.
/// - C (key account): first purchases 2026-02-10 (50,000 EUR) and 2026-03-10 (30,000 USD) → new, a repeat buyer.
/// - D: bought 2024-06-01, then 2026-03-01 (70,000 EUR) → reactivated.
/// - E: never bought; its complaint does not count.
async fn fixture(app: &TestApp) {
    let a = account(app, "A").await;
    let b = account(app, "B").await;
    let c = account(app, "C").await;
    let d = account(app, "D").await;
    let e = account(app, "E").await;
    for key in [&a, &c] {
        app.patch(
            &format!("/v1/accounts/{key}"),
            &json!({"key_account": true}),
        )
        .await;
    }
    buy(app, &a, "purchase", 10_000, "EUR", "2025-06-01T09:00:00Z").await;
    buy(app, &a, "purchase", 100_000, "EUR", "2026-02-01T09:00:00Z").await;
    buy(app, &a, "refund", 20_000, "EUR", "2026-03-15T09:00:00Z").await;
    buy(app, &b, "purchase", 40_000, "EUR", "2025-03-01T09:00:00Z").await;
    buy(app, &c, "purchase", 50_000, "EUR", "2026-02-10T09:00:00Z").await;
    buy(app, &c, "purchase", 30_000, "USD", "2026-03-10T09:00:00Z").await;
    buy(app, &d, "purchase", 15_000, "EUR", "2024-06-01T09:00:00Z").await;
    buy(app, &d, "purchase", 70_000, "EUR", "2026-03-01T09:00:00Z").await;
    for (who, at) in [
        (&b, "2026-02-15T09:00:00Z"),
        (&e, "2026-02-20T09:00:00Z"),
        (&a, "2025-12-01T09:00:00Z"),
    ] {
        feedback(app, json!({"account_id": who, "received_at": at})).await;
    }
    // Answers in the period: A (a key account) 10 and CES 2; B 6 and CES 5; one without an account, 9.
    for (who, nps, ces) in [(Some(&a), 10, 2), (Some(&b), 6, 5), (None, 9, 1)] {
        let mut body = json!({"kind": "survey", "nps": nps, "ces": ces, "received_at": "2026-02-20T09:00:00Z"});
        if let Some(who) = who {
            body["account_id"] = json!(who);
        }
        created(app, "/v1/feedback", body).await;
    }
}

const Q1: &str = "from=2026-01-01T00:00:00Z&to=2026-04-01T00:00:00Z&currency=EUR";

db_test!(
    the_customer_figures_match_the_hand_computed_fixture,
    |app| {
        fixture(&app).await;
        let body = metrics(&app, Q1).await;
        assert_eq!(body["activity_window_days"], 365);
        let all = &body["overall"];
        // S = {A, B}; retained {A}; lost {B}; new {C}; reactivated {D}.
        assert_eq!(all["customers_at_start"], 2);
        assert_eq!(all["retained"], 1);
        assert_eq!(all["lost"], 1);
        assert_eq!(all["new"], 1);
        assert_eq!(all["reactivated"], 1);
        assert_eq!(all["retention_rate"], 0.5);
        assert_eq!(all["churn_rate"], 0.5);
        // Buyers in the period: A, C, D; only C bought twice: 1/3.
        assert_eq!(all["buyers"], 3);
        assert_eq!(all["repeat_purchase_rate"], 0.3333);
        // EUR revenue: A 100,000 − 20,000, C 50,000, D 70,000 = 200,000; C's USD purchase is left out.
        assert_eq!(all["revenue"], 200_000);
        assert_eq!(all["left_out_transactions"], 1);
        // ARPU = 200,000 / 3 = 66,666.67.
        assert_eq!(all["arpu"], 66_666.67);
        // 365/90 = 4.0556 periods a year; annual churn = 1 − 0.5^4.0556 = 0.9399;
        // CLV = 66,666.67 × 4.0556 × 1.0 / 0.9399 = 287,670.60.
        assert_eq!(all["clv"], 287_670.6);
        // One complaint from the counted accounts (B's); E's is not a customer's, A's is before the period:
        // 1 / (S 2 + new 1 + reactivated 1) = 0.25.
        assert_eq!(all["complaints"], 1);
        assert_eq!(all["complaint_rate"], 0.25);
        assert_eq!(body["groups"], json!([]));
        assert_eq!(body["intervals"], json!([]));
    }
);

db_test!(the_figures_group_by_an_account_attribute, |app| {
    fixture(&app).await;
    let body = metrics(&app, &format!("{Q1}&group_by=key_account")).await;
    // The overall figures do not depend on the grouping.
    assert_eq!(body["overall"], metrics(&app, Q1).await["overall"]);
    let groups = body["groups"].as_array().unwrap();
    let keys: Vec<&str> = groups.iter().map(|g| g["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["false", "true"]);
    let (others, key) = (&groups[0], &groups[1]);
    // Key accounts A and C: S = {A} retained; C new; both bought, C twice: 1/2; revenue 80,000 + 50,000.
    assert_eq!(
        (
            key["customers_at_start"].clone(),
            key["retained"].clone(),
            key["new"].clone()
        ),
        (json!(1), json!(1), json!(1))
    );
    assert_eq!(key["repeat_purchase_rate"], 0.5);
    assert_eq!(key["revenue"], 130_000);
    assert_eq!(key["arpu"], 65_000.0);
    // No churn: annual churn floored at 0.1, so CLV = 65,000 × 4.0556 / 0.1 = 2,636,111.11.
    assert_eq!(key["churn_rate"], 0.0);
    assert_eq!(key["clv"], 2_636_111.11);
    assert_eq!(key["complaint_rate"], 0.0);
    assert_eq!(key["left_out_transactions"], 1);
    // B and D: S = {B} lost; D reactivated and the only buyer; churn 1 makes annual churn 1:
    // CLV = 70,000 × 4.0556 = 283,888.89; B's complaint over (1 + 0 + 1) accounts.
    assert_eq!(others["lost"], 1);
    assert_eq!(others["reactivated"], 1);
    assert_eq!(others["repeat_purchase_rate"], 0.0);
    assert_eq!(others["clv"], 283_888.89);
    assert_eq!(others["complaint_rate"], 0.5);
    // Each group's answers are its accounts': A's 10 for the key accounts, B's 6 for the others.
    assert_eq!(key["nps"]["score"], 100.0);
    assert_eq!(key["ces"]["distribution"]["2"], 1);
    assert_eq!(others["nps"]["score"], -100.0);
    assert_eq!(others["ces"]["mean"], 5.0);
});

db_test!(quarters_follow_the_working_calendars_time_zone, |app| {
    // Shanghai is UTC+8: 20:00 UTC on 31 March is 04:00 on 1 April there, in the second quarter.
    put_calendar(
        &app,
        json!({"time_zone": "Asia/Shanghai", "working_days": ["mon", "tue", "wed", "thu", "fri"]}),
    )
    .await;
    let early = account(&app, "Early").await;
    let late = account(&app, "Late").await;
    buy(
        &app,
        &early,
        "purchase",
        1_000,
        "EUR",
        "2026-02-01T00:00:00Z",
    )
    .await;
    buy(
        &app,
        &late,
        "purchase",
        2_000,
        "EUR",
        "2026-03-31T20:00:00Z",
    )
    .await;
    let body = metrics(
        &app,
        "from=2025-12-31T16:00:00Z&to=2026-05-31T16:00:00Z&currency=EUR&interval=quarter",
    )
    .await;
    let slices = body["intervals"].as_array().unwrap();
    let labels: Vec<&str> = slices
        .iter()
        .map(|s| s["interval"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["2026-Q1", "2026-Q2"]);
    assert_eq!(slices[0]["to"], "2026-03-31T16:00:00Z");
    assert_eq!(slices[1]["from"], "2026-03-31T16:00:00Z");
    assert_eq!(slices[1]["to"], "2026-05-31T16:00:00Z");
    // Q1 (local): Early is new; Late's first purchase falls in Q2.
    assert_eq!(slices[0]["overall"]["new"], 1);
    assert_eq!(slices[0]["overall"]["revenue"], 1_000);
    // Q2: Early active at both ends (retained), Late new.
    assert_eq!(slices[1]["overall"]["customers_at_start"], 1);
    assert_eq!(slices[1]["overall"]["retained"], 1);
    assert_eq!(slices[1]["overall"]["new"], 1);
    assert_eq!(slices[1]["overall"]["revenue"], 2_000);
    // The whole period: both new.
    assert_eq!(body["overall"]["new"], 2);
});

db_test!(bad_metric_parameters_are_a_400, |app| {
    for query in [
        "group_by=planet",
        "interval=week",
        "currency=EURO",
        "from=2026-05-01T00:00:00Z&to=2026-04-01T00:00:00Z",
        "colour=red",
    ] {
        let response = app.get(&format!("/v1/metrics/customers?{query}")).await;
        problem(response, StatusCode::BAD_REQUEST).await;
    }
    let agent = app.token_for("agent").await;
    let response = app
        .request_as(&agent, Method::GET, "/v1/metrics/customers")
        .send()
        .await
        .unwrap();
    assert_ne!(
        response.status(),
        StatusCode::FORBIDDEN,
        "agents read metrics"
    );
});

async fn put_settings(app: &TestApp, body: Value, if_match: &str) -> reqwest::Response {
    app.request(Method::PUT, "/v1/settings/insights")
        .header("if-match", if_match)
        .json(&body)
        .send()
        .await
        .unwrap()
}

db_test!(the_settings_change_the_window_the_metrics_use, |app| {
    let current = json_of(app.get("/v1/settings/insights").await, StatusCode::OK).await;
    assert_eq!(current["version"], 0);
    assert_eq!(current["activity_window_days"], 365);
    assert_eq!(current["effective_base_currency"], "EUR");
    let b = account(&app, "B").await;
    buy(&app, &b, "purchase", 40_000, "EUR", "2025-03-01T09:00:00Z").await;
    // With W = 365, B is active on 2026-01-01 (a purchase in the year before); with W = 200 it is not.
    assert_eq!(metrics(&app, Q1).await["overall"]["customers_at_start"], 1);
    let body = json!({"activity_window_days": 200, "at_risk_after_days": 100, "new_customer_days": 30,
                      "gross_margin": 0.4, "base_currency": "usd"});
    let saved = json_of(
        put_settings(&app, body.clone(), "\"0\"").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(saved["version"], 1);
    assert_eq!(saved["base_currency"], "USD");
    assert_eq!(saved["effective_base_currency"], "USD");
    let after = metrics(&app, "from=2026-01-01T00:00:00Z&to=2026-04-01T00:00:00Z").await;
    assert_eq!(after["overall"]["customers_at_start"], 0);
    assert_eq!(after["currency"], "USD", "the base currency is the default");
    assert_eq!(after["activity_window_days"], 200);
    // A stale version is refused, and so are bad values — every one named at once.
    problem(
        put_settings(&app, body, "\"0\"").await,
        StatusCode::PRECONDITION_FAILED,
    )
    .await;
    let bad = json!({"activity_window_days": 0, "at_risk_after_days": 100, "new_customer_days": 30,
                     "gross_margin": 0.0, "base_currency": "XYZ1"});
    let refused = problem(
        put_settings(&app, bad, "\"1\"").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let fields: Vec<&str> = refused["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for field in ["activity_window_days", "gross_margin", "base_currency"] {
        assert!(fields.contains(&field), "{field} in {fields:?}");
    }
    let agent = app.token_for("manager").await;
    let response = app
        .request_as(&agent, Method::GET, "/v1/settings/insights")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
});
