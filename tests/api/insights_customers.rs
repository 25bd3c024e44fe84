//! Each customer's insights (`/v1/accounts/{id}/insights`,
//! `/v1/contacts/{id}/insights`, `POST /v1/insights/refresh`) and the list
//! filters on them, on a fixture computed by hand in the comments.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::feedback::survey;
use crate::common::records::{account, contact};
use crate::common::*;

async fn buy(app: &TestApp, account: &str, amount: i64, at: &str) {
    created(
        app,
        "/v1/transactions",
        json!({"kind": "purchase", "account_id": account, "amount": amount, "currency": "EUR", "occurred_at": at}),
    )
    .await;
}

async fn insights(app: &TestApp, account: &str) -> Value {
    json_of(
        app.get(&format!("/v1/accounts/{account}/insights")).await,
        StatusCode::OK,
    )
    .await
}

async fn refresh(app: &TestApp) -> Value {
    json_of(
        app.post("/v1/insights/refresh", &json!({})).await,
        StatusCode::OK,
    )
    .await
}

async fn names(app: &TestApp, query: &str) -> Vec<String> {
    let page = json_of(
        app.get(&format!("/v1/accounts?{query}")).await,
        StatusCode::OK,
    )
    .await;
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_string())
        .collect()
}

/// Now is 2026-06-01 09:00 UTC; W = 365 days (window from 2025-06-01), at risk after 180, new for 90.
///
/// | account | purchases (EUR, in W)                 | recency | F | M         | status   |
/// |---------|---------------------------------------|---------|---|-----------|----------|
/// | Loyal   | 2025-09-01, 2026-04-01, 2026-05-20 ×10k | 12      | 3 | 30,000    | loyal (NPS 9) |
/// | Risky   | 2025-07-01, 2025-11-01 ×50k          | 212     | 2 | 100,000   | at_risk (212 ≥ 180) |
/// | Newbie  | 2026-05-01 5k                        | 31      | 1 | 5,000     | new (31 < 90) |
/// | Grumpy  | 2025-08-01, 2026-05-25 ×20k          | 7       | 2 | 40,000    | at_risk (NPS 3) |
/// | Big     | 2025-10-01, 2026-03-01 ×500k         | 92      | 2 | 1,000,000 | loyal |
/// | Gone    | 2025-01-01 only                      | —       | 0 | 0         | churned |
/// | Maybe   | none                                 | —       | — | —         | prospect |
///
/// Scores among the five with a purchase in W: 1 + floor(5 × k / 5) = 1 + k, k = how many are strictly worse:
/// recency (fewer days is better) Risky 1, Big 2, Newbie 3, Loyal 4, Grumpy 5; frequency [1, 2, 2, 2, 3]:
/// Newbie 1, Risky/Grumpy/Big 2, Loyal 5; monetary Newbie 1, Loyal 2, Grumpy 3, Risky 4, Big 5.
async fn fixture(app: &TestApp) -> std::collections::HashMap<&'static str, String> {
    let mut ids = std::collections::HashMap::new();
    for name in ["Loyal", "Risky", "Newbie", "Grumpy", "Big", "Gone", "Maybe"] {
        ids.insert(name, account(app, name).await);
    }
    let purchases: [(&str, i64, &[&str]); 6] = [
        ("Loyal", 10_000, &["2025-09-01", "2026-04-01", "2026-05-20"]),
        ("Risky", 50_000, &["2025-07-01", "2025-11-01"]),
        ("Newbie", 5_000, &["2026-05-01"]),
        ("Grumpy", 20_000, &["2025-08-01", "2026-05-25"]),
        ("Big", 500_000, &["2025-10-01", "2026-03-01"]),
        ("Gone", 8_000, &["2025-01-01"]),
    ];
    for (name, amount, days) in purchases {
        for day in days {
            buy(app, &ids[name], amount, &format!("{day}T09:00:00Z")).await;
        }
    }
    survey(
        app,
        json!({"account_id": ids["Loyal"], "nps": 9, "received_at": "2026-05-21T09:00:00Z"}),
    )
    .await;
    survey(
        app,
        json!({"account_id": ids["Grumpy"], "nps": 10, "received_at": "2026-05-01T09:00:00Z"}),
    )
    .await;
    survey(app, json!({"account_id": ids["Grumpy"], "nps": 3, "csat": 2, "received_at": "2026-05-26T09:00:00Z"})).await;
    ids
}

db_test!(
    each_customers_insights_match_the_hand_computed_fixture,
    |app| {
        let ids = fixture(&app).await;
        let report = refresh(&app).await;
        assert_eq!(report["accounts"], 7);
        let scores = |v: &Value| {
            (
                v["recency_score"].clone(),
                v["frequency_score"].clone(),
                v["monetary_score"].clone(),
            )
        };
        let loyal = insights(&app, &ids["Loyal"]).await;
        assert_eq!(
            (
                loyal["recency_days"].clone(),
                loyal["frequency"].clone(),
                loyal["monetary"].clone()
            ),
            (json!(12), json!(3), json!(30_000))
        );
        assert_eq!(scores(&loyal), (json!(4), json!(5), json!(2)));
        // F ≥ 4 and R ≥ 3, not M ≥ 4: loyal.
        assert_eq!(loyal["rfm_segment"], "loyal");
        assert_eq!(loyal["loyalty_status"], "loyal");
        assert_eq!(loyal["reasons"][0]["code"], "repeat_purchases");
        assert_eq!(loyal["satisfaction"]["nps_class"], "promoter");
        assert_eq!(
            loyal["satisfaction"]["nps_12_months"],
            json!({"score": 100.0, "responses": 1})
        );
        // Loyal band 0–25: 25 × (0.4 × 12/180 + 0.25 × 0 + 0.15 × 0.25 (no CSAT) + 0) = 25 × 0.0642 = 1.6 → 2.
        assert_eq!(loyal["churn_risk"], 2);
        assert_eq!(loyal["value_tier"], "low");
        assert_eq!(loyal["value_tier_source"], "computed");

        let risky = insights(&app, &ids["Risky"]).await;
        assert_eq!(risky["recency_days"], 212);
        assert_eq!(scores(&risky), (json!(1), json!(2), json!(4)));
        // R ≤ 2 and M ≥ 3: used to buy much, not lately.
        assert_eq!(risky["rfm_segment"], "at_risk");
        assert_eq!(risky["loyalty_status"], "at_risk");
        assert_eq!(risky["reasons"][0]["code"], "no_recent_purchase");
        // At-risk band 50–90: 50 + 40 × (0.4 × 1 + 0.25 × 0.25 + 0.15 × 0.25 + 0) = 50 + 40 × 0.5 = 70.
        assert_eq!(risky["churn_risk"], 70);
        assert_eq!(risky["value_tier"], "medium");

        let newbie = insights(&app, &ids["Newbie"]).await;
        assert_eq!(scores(&newbie), (json!(3), json!(1), json!(1)));
        assert_eq!(newbie["rfm_segment"], "new");
        assert_eq!(newbie["loyalty_status"], "new");
        // New band 25–50: 25 + 25 × (0.4 × 31/180 + 0.0625 + 0.0375) = 25 + 4.22 = 29.
        assert_eq!(newbie["churn_risk"], 29);

        let grumpy = insights(&app, &ids["Grumpy"]).await;
        assert_eq!(scores(&grumpy), (json!(5), json!(2), json!(3)));
        // R 5 but F 2: potential loyalist by RFM, at risk as a detractor (the latest answer, 3, counts).
        assert_eq!(grumpy["rfm_segment"], "potential_loyalist");
        assert_eq!(grumpy["loyalty_status"], "at_risk");
        assert_eq!(grumpy["reasons"][0]["code"], "detractor");
        assert_eq!(grumpy["satisfaction"]["latest_nps"], 3);
        assert_eq!(grumpy["satisfaction"]["csat_class"], "dissatisfied");
        // 12-month NPS over 10 and 3: (1 − 1) / 2 = 0.
        assert_eq!(
            grumpy["satisfaction"]["nps_12_months"],
            json!({"score": 0.0, "responses": 2})
        );
        // 50 + 40 × (0.4 × 7/180 + 0.25 × 1 + 0.15 × 1 + 0) = 50 + 40 × 0.4156 = 66.6 → 67.
        assert_eq!(grumpy["churn_risk"], 67);

        let big = insights(&app, &ids["Big"]).await;
        assert_eq!(scores(&big), (json!(2), json!(2), json!(5)));
        assert_eq!(big["rfm_segment"], "at_risk");
        assert_eq!(big["loyalty_status"], "loyal");
        // 25 × (0.4 × 92/180 + 0.0625 + 0.0375) = 25 × 0.3044 = 7.6 → 8.
        assert_eq!(big["churn_risk"], 8);
        assert_eq!(big["value_tier"], "high");

        let gone = insights(&app, &ids["Gone"]).await;
        assert_eq!(gone["loyalty_status"], "churned");
        assert_eq!(gone["rfm_segment"], "lost");
        assert_eq!(gone["recency_score"], Value::Null);
        assert_eq!(gone["churn_risk"], 100);
        assert_eq!(gone["value_tier"], "low");

        let maybe = insights(&app, &ids["Maybe"]).await;
        assert_eq!(maybe["loyalty_status"], "prospect");
        assert_eq!(maybe["reasons"][0]["code"], "never_purchased");
        assert_eq!(maybe["rfm_segment"], Value::Null);
        assert_eq!(maybe["churn_risk"], Value::Null);
        assert_eq!(maybe["value_tier"], Value::Null);

        // The computed tier is on the account itself.
        let record = json_of(
            app.get(&format!("/v1/accounts/{}", ids["Big"])).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(
            (
                record["value_tier"].clone(),
                record["value_tier_source"].clone()
            ),
            (json!("high"), json!("computed"))
        );
    }
);

db_test!(lists_filter_and_sort_by_the_insights, |app| {
    fixture(&app).await;
    refresh(&app).await;
    assert_eq!(
        names(&app, "loyalty_status=at_risk&sort=name").await,
        ["Grumpy", "Risky"]
    );
    assert_eq!(
        names(&app, "rfm_segment=at_risk&sort=name").await,
        ["Big", "Risky"]
    );
    assert_eq!(names(&app, "nps_class=promoter").await, ["Loyal"]);
    assert_eq!(
        names(&app, "churn_risk_gte=67&sort=name").await,
        ["Gone", "Grumpy", "Risky"]
    );
    // Highest risk first; the prospect, without one, last.
    assert_eq!(
        names(&app, "sort=-churn_risk").await,
        ["Gone", "Risky", "Grumpy", "Newbie", "Big", "Loyal", "Maybe"]
    );
    // Keyset paging across the sort gives the same order.
    let first = json_of(
        app.get("/v1/accounts?sort=churn_risk&limit=4").await,
        StatusCode::OK,
    )
    .await;
    let cursor = first["next_cursor"].as_str().unwrap().to_string();
    let rest = names(&app, &format!("sort=churn_risk&limit=4&cursor={cursor}")).await;
    assert_eq!(rest, ["Risky", "Gone", "Maybe"]);
    for bad in [
        "loyalty_status=happy",
        "churn_risk_gte=101",
        "rfm_segment=x",
    ] {
        problem(
            app.get(&format!("/v1/accounts?{bad}")).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
});

db_test!(a_tier_set_by_hand_stays_until_cleared, |app| {
    let ids = fixture(&app).await;
    let path = format!("/v1/accounts/{}", ids["Loyal"]);
    let set = json_of(
        app.patch(&path, &json!({"value_tier": "high"})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(set["value_tier_source"], "manual");
    refresh(&app).await;
    let kept = insights(&app, &ids["Loyal"]).await;
    assert_eq!(
        (
            kept["value_tier"].clone(),
            kept["value_tier_source"].clone()
        ),
        (json!("high"), json!("manual"))
    );
    // Another change leaves a manual tier alone; clearing it hands it back to the refresh.
    let other = json_of(
        app.patch(&path, &json!({"industry": "Retail"})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(other["value_tier"], "high");
    let cleared = json_of(
        app.patch(&path, &json!({"value_tier": null})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(cleared["value_tier_source"], "computed");
    refresh(&app).await;
    let record = json_of(app.get(&path).await, StatusCode::OK).await;
    assert_eq!(record["value_tier"], "low");
    // A computed tier survives unrelated changes.
    let again = json_of(
        app.patch(&path, &json!({"industry": "Media"})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(again["value_tier"], "low");
});

db_test!(
    the_job_follows_a_customers_new_purchases_within_moments,
    |app| {
        let acme = account(&app, "Acme").await;
        let person = contact(&app, Some(&acme)).await;
        // Never refreshed: computed on the spot.
        assert_eq!(insights(&app, &acme).await["loyalty_status"], "prospect");
        created(
            &app,
            "/v1/transactions",
            json!({"kind": "purchase", "contact_id": person, "amount": 1_000, "currency": "EUR"}),
        )
        .await;
        // The job (every 100 ms in tests) picks the purchase up and stores it; no explicit refresh.
        let mut listed = vec![];
        for _ in 0..100 {
            let page = json_of(
                app.get("/v1/contacts?loyalty_status=new").await,
                StatusCode::OK,
            )
            .await;
            listed = page["data"].as_array().unwrap().clone();
            if !listed.is_empty() && names(&app, "loyalty_status=new").await == ["Acme"] {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0]["id"], person.as_str());
        let stored = json_of(
            app.get(&format!("/v1/contacts/{person}/insights")).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(
            (stored["frequency"].clone(), stored["monetary"].clone()),
            (json!(1), json!(1_000))
        );
        assert_eq!(names(&app, "loyalty_status=new").await, ["Acme"]);
    }
);

db_test!(
    insights_are_read_with_the_records_scope_and_refreshed_by_admins,
    |app| {
        let acme = account(&app, "Acme").await;
        let missing = uuid::Uuid::now_v7();
        problem(
            app.get(&format!("/v1/accounts/{missing}/insights")).await,
            StatusCode::NOT_FOUND,
        )
        .await;
        problem(
            app.get(&format!("/v1/contacts/{missing}/insights")).await,
            StatusCode::NOT_FOUND,
        )
        .await;
        let key = app.api_key(&["accounts:read"]).await;
        let response = app
            .request_as(&key, Method::GET, &format!("/v1/accounts/{acme}/insights"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let manager = app.token_for("manager").await;
        let response = app
            .request_as(&manager, Method::POST, "/v1/insights/refresh")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
    }
);

db_test!(
    a_burst_of_imported_purchases_is_covered_by_one_refresh,
    |app| {
        let acme = account(&app, "Acme").await;
        // More changes than the job follows in one pass: it recomputes everyone instead.
        let rows: Vec<Value> = (0..2_000)
            .map(|i| {
                json!({"kind": "purchase", "account_id": acme, "amount": 100, "currency": "EUR",
                        "occurred_at": "2026-01-05T09:00:00Z", "external_id": format!("INV-{i}")})
            })
            .collect();
        let report = json_of(
            app.post("/v1/transactions/import", &Value::from(rows))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(report["created"], 2_000);
        let mut loyal = vec![];
        for _ in 0..200 {
            loyal = names(&app, "loyalty_status=loyal").await;
            if !loyal.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(loyal, ["Acme"]);
        assert_eq!(insights(&app, &acme).await["frequency"], 2_000);
    }
);

db_test!(
    a_persons_export_holds_their_insights_and_erasure_ends_the_profiling,
    |app| {
        let person = contact(&app, None).await;
        created(
            &app,
            "/v1/transactions",
            json!({"kind": "purchase", "contact_id": person, "amount": 1_000, "currency": "EUR"}),
        )
        .await;
        refresh(&app).await;
        let export = json_of(
            app.get(&format!("/v1/contacts/{person}/export")).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(export["insights"]["frequency"], 1);
        assert_eq!(export["insights"]["loyalty_status"], "new");
        json_of(
            app.post(&format!("/v1/contacts/{person}/erase"), &json!({}))
                .await,
            StatusCode::OK,
        )
        .await;
        refresh(&app).await;
        problem(
            app.get(&format!("/v1/contacts/{person}/insights")).await,
            StatusCode::NOT_FOUND,
        )
        .await;
        let listed = json_of(
            app.get("/v1/contacts?loyalty_status=new").await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(listed["data"], json!([]));
        let export = json_of(
            app.get(&format!("/v1/contacts/{person}/export")).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(export["insights"], Value::Null);
    }
);
