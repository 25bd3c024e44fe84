//! The customer metrics read each account's transaction totals per UTC
//! month, quarter and year and its spells of activity, kept with every
//! transaction (src/insights/activity.rs). These tests hold them to the
//! definitions: purchases recorded out of order, periods that cut months in
//! a non-UTC calendar, and the same figures once both are rebuilt from the
//! transactions.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::feedback::put_calendar;
use crate::common::loyalty::db;
use crate::common::records::{account, transaction as buy};
use crate::common::*;

async fn metrics_at(app: &TestApp, base: &str, query: &str) -> Value {
    let response = app
        .client
        .get(format!("{base}/v1/metrics/customers?{query}"))
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .unwrap();
    json_of(response, StatusCode::OK).await
}

/// W = 365. A's purchases of 2024-01-10 and 2025-06-01 are more than W apart; the one of 2024-10-01, recorded
/// last, bridges them. B buys in the middle of months and refunds; C only refunds (its purchase is from 2023).
async fn history(app: &TestApp) -> (String, String, String) {
    let a = account(app, "A").await;
    let b = account(app, "B").await;
    let c = account(app, "C").await;
    app.patch(&format!("/v1/accounts/{a}"), &json!({"key_account": true}))
        .await;
    buy(app, &a, "purchase", 10_000, "EUR", "2024-01-10T09:00:00Z").await;
    buy(app, &a, "purchase", 20_000, "EUR", "2025-06-01T09:00:00Z").await;
    buy(app, &a, "purchase", 30_000, "EUR", "2024-10-01T09:00:00Z").await;
    buy(app, &b, "purchase", 40_000, "EUR", "2025-02-14T23:30:00Z").await;
    buy(app, &b, "purchase", 5_000, "USD", "2025-03-31T23:30:00Z").await;
    buy(app, &b, "refund", 4_000, "EUR", "2025-05-20T12:00:00Z").await;
    buy(app, &c, "purchase", 8_000, "EUR", "2023-05-01T09:00:00Z").await;
    buy(app, &c, "refund", 3_000, "EUR", "2025-04-15T09:00:00Z").await;
    (a, b, c)
}

db_test!(
    a_purchase_recorded_late_joins_the_spells_it_bridges,
    |app| {
        history(&app).await;
        // Active on 2025-03-01 means a purchase in (2024-03-01, 2025-03-01]: A's of 2024-10-01 and B's of
        // 2025-02-14; C's last purchase is from 2023. On 2025-06-01 (exclusive end): A (2024-10-01) and B.
        let body = metrics_at(
            &app,
            &app.base,
            "from=2025-03-01T00:00:00Z&to=2025-06-01T00:00:00Z&currency=EUR",
        )
        .await;
        let all = &body["overall"];
        assert_eq!(all["customers_at_start"], 2);
        assert_eq!(all["retained"], 2);
        // Buyers in [2025-03-01, 2025-06-01): B (its USD purchase of 2025-03-31); A's of 2025-06-01 is at the end.
        assert_eq!(all["buyers"], 1);
        // EUR: B's refund − 4,000 and C's − 3,000, though C is not active; B's USD purchase is left out.
        assert_eq!(all["revenue"], -7_000);
        assert_eq!(all["left_out_transactions"], 1);
    }
);

db_test!(
    the_figures_are_the_same_when_rebuilt_from_the_transactions,
    |app| {
        history(&app).await;
        // Paris: each month and quarter starts an hour or two before UTC's, so every slice has ends that are no
        // whole UTC month.
        put_calendar(
            &app,
            json!({"time_zone": "Europe/Paris", "working_days": ["mon", "tue", "wed", "thu", "fri"]}),
        )
        .await;
        let queries = [
            "from=2024-12-31T23:00:00Z&to=2025-12-31T23:00:00Z&currency=EUR&interval=quarter&group_by=key_account",
            "from=2025-01-31T23:00:00Z&to=2025-06-30T22:00:00Z&currency=USD&interval=month",
            "from=2024-01-01T00:00:00Z&to=2026-01-01T00:00:00Z&currency=EUR&interval=quarter",
            "from=2025-02-14T23:30:00Z&to=2025-03-31T23:30:00Z&currency=EUR",
        ];
        let mut kept = vec![];
        for query in queries {
            kept.push(metrics_at(&app, &app.base, query).await);
        }
        // Paris's quarters of 2025: Q1 holds B's EUR purchase; Q2 B's USD purchase (Paris's April), A's purchase
        // and the two refunds: 20,000 − 4,000 − 3,000.
        let year = &kept[0];
        let quarters: Vec<(Value, Value)> = year["intervals"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| {
                (
                    q["overall"]["buyers"].clone(),
                    q["overall"]["revenue"].clone(),
                )
            })
            .collect();
        assert_eq!(
            quarters,
            [
                (json!(1), json!(40_000)),
                (json!(2), json!(13_000)),
                (json!(0), json!(0)),
                (json!(0), json!(0)),
            ]
        );
        // B's purchase of 2025-03-31T23:30Z is in Paris's April: the USD revenue of each month.
        let months: Vec<Value> = kept[1]["intervals"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["overall"]["revenue"].clone())
            .collect();
        assert_eq!(
            months,
            [json!(0), json!(0), json!(5_000), json!(0), json!(0)]
        );
        // The period's start is B's purchase (in), its end B's USD purchase (out).
        assert_eq!(kept[3]["overall"]["revenue"], 40_000);
        assert_eq!(kept[3]["overall"]["left_out_transactions"], 0);

        // Forget what was kept: a node starting on the database builds it again from the transactions.
        let db = db(&app).await;
        rapport::on_writer!(&db, pool => sqlx::query("DELETE FROM account_activity_built")
            .execute(pool).await.map(|r| r.rows_affected()))
        .expect("the builder row is removed");
        db.close().await;
        let node = app.another_node(|_| {}).await;
        for (query, kept) in queries.iter().zip(&kept) {
            assert_eq!(&metrics_at(&app, &node.base, query).await, kept, "{query}");
        }
        node.stop().await;
    }
);
