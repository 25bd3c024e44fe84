//! An endpoint checks the scope of every area whose data it returns
//! (issue 11, item 2).

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::contact_id;
use crate::common::*;

db_test!(
    the_audit_log_shows_only_the_areas_a_caller_may_read,
    |app| {
        let id = contact_id(&app, json!({"first_name": "Kim"})).await;
        json_of(
            app.post(
                "/v1/feedback",
                &json!({"kind": "complaint", "contact_id": id, "text": "private words"}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let key = app.api_key(&["audit:read", "contacts:read"]).await;
        let read = |path: &'static str| {
            let request = app.request_as(&key, Method::GET, path);
            async move { request.send().await.unwrap() }
        };
        let all = json_of(read("/v1/audit-events").await, StatusCode::OK).await;
        let types: Vec<&str> = all["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["entity_type"].as_str().unwrap())
            .collect();
        assert!(types.contains(&"contact"), "{types:?}");
        assert!(!types.contains(&"feedback"), "{types:?}");
        assert!(!all.to_string().contains("private words"));
        problem(
            read("/v1/audit-events?entity_type=feedback").await,
            StatusCode::FORBIDDEN,
        )
        .await;
        problem(
            read("/v1/audit-events?entity_type=nonsense").await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        // The admin sees both.
        let admin = json_of(
            app.get("/v1/audit-events?entity_type=feedback").await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(admin["data"].as_array().unwrap().len(), 1);
    }
);

db_test!(expanding_accounts_needs_the_accounts_scope, |app| {
    let key = app.api_key(&["contacts:read"]).await;
    let response = app
        .request_as(&key, Method::GET, "/v1/contacts?expand=account")
        .send()
        .await
        .unwrap();
    let p = problem(response, StatusCode::FORBIDDEN).await;
    assert!(
        p["detail"].as_str().unwrap().contains("accounts:read"),
        "{p}"
    );
    let both = app.api_key(&["contacts:read", "accounts:read"]).await;
    let ok = app
        .request_as(&both, Method::GET, "/v1/contacts?expand=account")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
});
