//! `POST /v1/transactions/import`: a billing system's batch, row by row.

use crate::common::records::account;
use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn get(app: &TestApp, path: &str) -> serde_json::Value {
    json_of(app.get(path).await, StatusCode::OK).await
}

async fn purchase(app: &TestApp, extra: serde_json::Value) -> serde_json::Value {
    let body = merged(
        json!({"kind": "purchase", "amount": 10000, "currency": "EUR"}),
        extra,
    );
    created(app, "/v1/transactions", body).await
}

async fn import(app: &TestApp, content_type: &str, body: String, query: &str) -> reqwest::Response {
    app.request(Method::POST, &format!("/v1/transactions/import{query}"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

db_test!(
    an_import_records_each_row_once_and_reports_every_row,
    |app| {
        let acme = account(&app, "Acme").await;
        purchase(
            &app,
            json!({"account_id": acme, "amount": 100, "external_id": "INV-1"}),
        )
        .await;
        let rows = json!([
            {"kind": "purchase", "account_id": acme, "amount": 100, "currency": "EUR", "external_id": "INV-1"},
            {"kind": "purchase", "account_id": acme, "amount": 200, "currency": "EUR", "external_id": "INV-2"},
            {"kind": "purchase", "account_id": acme, "amount": 999, "currency": "EUR", "external_id": "INV-1"},
            {"kind": "purchase", "amount": 0, "currency": "EUR"},
            {"kind": "refund", "account_id": acme, "amount": 50, "currency": "EUR", "external_id": "CN-1"},
            "not an object"
        ]);
        let report = json_of(
            import(&app, "application/json", rows.to_string(), "").await,
            StatusCode::OK,
        )
        .await;
        let statuses: Vec<&str> = report["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["status"].as_str().unwrap())
            .collect();
        assert_eq!(
            statuses,
            ["unchanged", "created", "error", "error", "created", "error"]
        );
        assert_eq!(report["rows"][2]["errors"][0]["code"], "conflict");
        assert_eq!(
            (
                report["created"].clone(),
                report["unchanged"].clone(),
                report["failed"].clone()
            ),
            (json!(2), json!(1), json!(3))
        );
        let record = get(&app, &format!("/v1/accounts/{acme}")).await;
        assert_eq!(record["purchase_count"], 2);
        assert_eq!(record["lifetime_revenue"], json!({"EUR": 250}));
        let csv = format!(
            "kind,account_id,amount,currency,external_id,description\npurchase,{acme},300,EUR,INV-3,\"Wave 2, final\"\npurchase,{acme},x,EUR,INV-4,\n"
        );
        let report = json_of(
            import(&app, "text/csv", csv.clone(), "").await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(report["rows"][0]["status"], "created");
        assert_eq!(report["rows"][1]["status"], "error");
        let again = json_of(import(&app, "text/csv", csv, "").await, StatusCode::OK).await;
        assert_eq!(again["rows"][0]["status"], "unchanged");
        let stored = get(
            &app,
            &format!(
                "/v1/transactions/{}",
                again["rows"][0]["id"].as_str().unwrap()
            ),
        )
        .await;
        assert_eq!(stored["description"], "Wave 2, final");
    }
);

db_test!(
    an_all_or_nothing_import_writes_nothing_when_a_row_fails,
    |app| {
        let acme = account(&app, "Acme").await;
        let rows = json!([
            {"kind": "purchase", "account_id": acme, "amount": 100, "currency": "EUR"},
            {"kind": "purchase", "account_id": uuid::Uuid::now_v7(), "amount": 100, "currency": "EUR"}
        ]);
        let body = problem(
            import(
                &app,
                "application/json",
                rows.to_string(),
                "?mode=all_or_nothing",
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(body["rows"][0]["status"], "skipped");
        assert_eq!(body["rows"][1]["errors"][0]["field"], "account_id");
        assert!(
            get(&app, "/v1/transactions").await["data"]
                .as_array()
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            get(&app, &format!("/v1/accounts/{acme}")).await["purchase_count"],
            0
        );
        problem(
            import(&app, "text/plain", "x".into(), "").await,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        )
        .await;
        problem(
            import(&app, "text/csv", "kind,price\npurchase,1\n".into(), "").await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        let writer = app.api_key(&["transactions:write"]).await;
        let refused = app
            .request_as(&writer, Method::POST, "/v1/transactions/import")
            .header("content-type", "application/json")
            .body("[]")
            .send()
            .await
            .unwrap();
        problem(refused, StatusCode::FORBIDDEN).await;
    }
);
