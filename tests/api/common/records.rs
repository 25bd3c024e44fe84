//! Helpers shared by the channel, interaction, preference and timeline tests:
//! one call per record they need.

#![allow(dead_code)]

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::common::{TestApp, id, json_of, merged};

pub async fn channel(app: &TestApp, kind: &str, name: &str) -> String {
    id(&json_of(
        app.post("/v1/channels", &json!({"kind": kind, "name": name}))
            .await,
        StatusCode::CREATED,
    )
    .await)
}

pub async fn account(app: &TestApp, name: &str) -> String {
    id(&json_of(
        app.post("/v1/accounts", &json!({"name": name})).await,
        StatusCode::CREATED,
    )
    .await)
}

/// A contact with a unique email, at `account` when given.
/// Records a purchase or refund of `account`.
pub async fn transaction(
    app: &TestApp,
    account: &str,
    kind: &str,
    amount: i64,
    currency: &str,
    at: &str,
) {
    crate::common::created(
        app,
        "/v1/transactions",
        json!({"kind": kind, "account_id": account, "amount": amount, "currency": currency, "occurred_at": at}),
    )
    .await;
}

pub async fn contact(app: &TestApp, account: Option<&str>) -> String {
    let email = format!("p{}@example.com", uuid::Uuid::now_v7().simple());
    let mut body = json!({"first_name": "Pat", "last_name": "Lee", "email": email});
    if let Some(a) = account {
        body["account_id"] = json!(a);
    }
    id(&json_of(app.post("/v1/contacts", &body).await, StatusCode::CREATED).await)
}

/// POSTs an interaction: `extra` is merged into a minimal valid body.
pub async fn log(app: &TestApp, channel: &str, extra: Value) -> Response {
    let minimal = json!({"channel_id": channel, "direction": "inbound", "type": "call", "purpose": "service"});
    app.post("/v1/interactions", &merged(minimal, extra)).await
}

/// Logs an interaction that must succeed; returns it.
pub async fn logged(app: &TestApp, channel: &str, extra: Value) -> Value {
    json_of(log(app, channel, extra).await, StatusCode::CREATED).await
}

/// Records one consent statement for `kind`/marketing.
pub async fn consent(app: &TestApp, contact: &str, kind: &str, granted: bool) -> Value {
    put_preferences(
        app,
        contact,
        json!({"consents": [
            {"channel_kind": kind, "purpose": "marketing", "granted": granted, "source": "web_form"}
        ]}),
    )
    .await
}

/// Records one consent statement for `kind`/marketing made at `recorded_at`
/// (consent counts for touches that occurred after it was given).
pub async fn consent_since(
    app: &TestApp,
    contact: &str,
    kind: &str,
    granted: bool,
    recorded_at: &str,
) -> Value {
    put_preferences(app, contact, json!({"consents": [
        {"channel_kind": kind, "purpose": "marketing", "granted": granted, "source": "web_form", "recorded_at": recorded_at}
    ]}))
    .await
}

/// PUTs preferences, keeping the cap and other fields as given.
pub async fn put_preferences(app: &TestApp, contact: &str, body: Value) -> Value {
    json_of(
        app.request(Method::PUT, &format!("/v1/contacts/{contact}/preferences"))
            .json(&body)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await
}

/// The signed-in admin's user id.
pub async fn admin_id(app: &TestApp) -> String {
    id(&json_of(app.get("/v1/me").await, StatusCode::OK).await)
}

/// Follows `next_cursor` from `path` (which already has a `?`) to the end.
pub async fn all_pages(app: &TestApp, path: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..1000 {
        let url = match &cursor {
            Some(c) => format!("{path}&cursor={c}"),
            None => path.to_string(),
        };
        let page = json_of(app.get(&url).await, StatusCode::OK).await;
        items.extend(page["data"].as_array().expect("data").iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return items,
        }
    }
    panic!("more than 1000 pages at {path}");
}

pub fn ids(items: &[Value]) -> Vec<String> {
    items.iter().map(id).collect()
}
