//! Helpers shared by the feedback tests: one call per record they need.

#![allow(dead_code)]

use chrono::{DateTime, Utc};
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::common::{TestApp, created, json_of, merged};

/// POSTs feedback: `extra` is merged into a complaint with text.
pub async fn post_feedback(app: &TestApp, extra: Value) -> Response {
    let minimal = json!({"kind": "complaint", "text": "The invoice is wrong."});
    app.post("/v1/feedback", &merged(minimal, extra)).await
}

/// Records feedback that must be accepted; returns it.
pub async fn feedback(app: &TestApp, extra: Value) -> Value {
    json_of(post_feedback(app, extra).await, StatusCode::CREATED).await
}

/// A survey answer with these scores.
pub async fn survey(app: &TestApp, extra: Value) -> Value {
    created(
        app,
        "/v1/feedback",
        merged(json!({"kind": "survey"}), extra),
    )
    .await
}

pub fn path(item: &Value) -> String {
    format!("/v1/feedback/{}", item["id"].as_str().expect("an id"))
}

/// Requests a move; returns the raw response.
pub async fn transition(app: &TestApp, item: &Value, to: &str, note: Option<&str>) -> Response {
    let mut body = json!({"to": to});
    if let Some(n) = note {
        body["note"] = json!(n);
    }
    app.post(&format!("{}/transitions", path(item)), &body)
        .await
}

/// A move that must succeed; returns the item after it.
pub async fn moved(app: &TestApp, item: &Value, to: &str) -> Value {
    let note = (to == "resolved").then_some("Fixed.");
    json_of(transition(app, item, to, note).await, StatusCode::OK).await
}

/// Walks an item through the given states.
pub async fn walk(app: &TestApp, item: &Value, states: &[&str]) -> Value {
    let mut current = item.clone();
    for to in states {
        current = moved(app, &current, to).await;
    }
    current
}

pub async fn activities(app: &TestApp, item: &Value) -> Vec<Value> {
    let page = json_of(
        app.get(&format!("{}/activities?limit=200", path(item)))
            .await,
        StatusCode::OK,
    )
    .await;
    page["data"].as_array().expect("data").clone()
}

pub fn time(v: &Value) -> DateTime<Utc> {
    v.as_str()
        .unwrap_or_else(|| panic!("not a time: {v}"))
        .parse()
        .expect("an RFC 3339 time")
}

/// Replaces the working calendar as the admin.
pub async fn put_calendar(app: &TestApp, body: Value) -> Value {
    json_of(
        app.request(Method::PUT, "/v1/service-levels/calendar")
            .json(&body)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await
}

/// A channel with service-level targets.
pub async fn channel_with_targets(
    app: &TestApp,
    name: &str,
    first: Option<i64>,
    days: Option<i64>,
) -> String {
    let body = json!({"kind": "email", "name": name, "first_response_minutes": first, "resolution_business_days": days});
    crate::common::id(&json_of(app.post("/v1/channels", &body).await, StatusCode::CREATED).await)
}

/// The ids of a list page.
pub async fn listed(app: &TestApp, query: &str) -> Vec<String> {
    let page = json_of(
        app.get(&format!("/v1/feedback?limit=200&{query}")).await,
        StatusCode::OK,
    )
    .await;
    page["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(crate::common::id)
        .collect()
}
