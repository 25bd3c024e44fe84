//! Helpers shared by the loyalty tests: members, ledger writes with an
//! `Idempotency-Key`, and "time travel" (moving a lot's expiry or an entry's
//! date straight in the test database, since no test may sleep).

#![allow(dead_code)]

use chrono::{DateTime, Utc};
use rapport::db::Db;
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

pub use crate::common::records::contact;
use crate::common::{TestApp, json_of};

pub fn key() -> String {
    Uuid::now_v7().to_string()
}

/// A new contact, enrolled; returns the contact id.
pub async fn new_member(app: &TestApp) -> String {
    let contact_id = contact(app, None).await;
    json_of(
        app.post("/v1/loyalty/members", &json!({"contact_id": contact_id}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    contact_id
}

/// A POST as the admin with an `Idempotency-Key`.
pub async fn write(app: &TestApp, path: &str, key: &str, body: &Value) -> Response {
    app.request(Method::POST, path)
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await
        .expect("request sent")
}

/// A POST as another caller with an `Idempotency-Key`.
pub async fn write_as(app: &TestApp, token: &str, path: &str, key: &str, body: &Value) -> Response {
    app.request_as(token, Method::POST, path)
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await
        .expect("request sent")
}

pub fn path(contact_id: &str, action: &str) -> String {
    format!("/v1/loyalty/members/{contact_id}/{action}")
}

pub async fn earn(app: &TestApp, contact_id: &str, points: i64) -> Value {
    let body = json!({"points": points, "reason": "test earning"});
    json_of(
        write(app, &path(contact_id, "earn"), &key(), &body).await,
        StatusCode::CREATED,
    )
    .await
}

pub async fn redeem(app: &TestApp, contact_id: &str, points: i64) -> Response {
    write(
        app,
        &path(contact_id, "redeem"),
        &key(),
        &json!({"points": points}),
    )
    .await
}

pub async fn get_member(app: &TestApp, contact_id: &str) -> Value {
    json_of(
        app.get(&format!("/v1/loyalty/members/{contact_id}")).await,
        StatusCode::OK,
    )
    .await
}

pub async fn balance(app: &TestApp, contact_id: &str) -> i64 {
    get_member(app, contact_id).await["balance"]
        .as_i64()
        .unwrap()
}

pub async fn ledger(app: &TestApp, contact_id: &str) -> Value {
    json_of(
        app.get(&format!("{}?limit=200", path(contact_id, "ledger")))
            .await,
        StatusCode::OK,
    )
    .await
}

/// Replaces some programme settings, keeping the rest.
pub async fn set_program(app: &TestApp, changes: Value) -> Value {
    let mut program = json_of(app.get("/v1/loyalty/program").await, StatusCode::OK).await;
    let object = program.as_object_mut().unwrap();
    for field in ["version", "created_at", "updated_at"] {
        object.remove(field);
    }
    for (k, v) in changes.as_object().unwrap() {
        object.insert(k.clone(), v.clone());
    }
    let response = app
        .request(Method::PUT, "/v1/loyalty/program")
        .json(&program)
        .send()
        .await
        .unwrap();
    json_of(response, StatusCode::OK).await
}

pub async fn db(app: &TestApp) -> Db {
    Db::connect(&app.database_url, 2)
        .await
        .expect("the test database opens")
}

/// Moves the expiry of the lots an entry opened.
pub async fn set_lot_expiry(app: &TestApp, entry_id: &str, at: DateTime<Utc>) {
    let entry: Uuid = entry_id.parse().unwrap();
    let db = db(app).await;
    rapport::on_writer!(&db, pool => sqlx::query("UPDATE loyalty_lots SET expires_at = $1 WHERE entry_id = $2")
        .bind(at).bind(entry).execute(pool).await.map(|r| r.rows_affected()))
    .expect("lots updated");
    db.close().await;
}

/// Moves an entry into the past (for rolling tier windows).
pub async fn backdate_entry(app: &TestApp, entry_id: &str, at: DateTime<Utc>) {
    let entry: Uuid = entry_id.parse().unwrap();
    let db = db(app).await;
    rapport::on_writer!(&db, pool => sqlx::query("UPDATE loyalty_ledger SET created_at = $1 WHERE id = $2")
        .bind(at).bind(entry).execute(pool).await.map(|r| r.rows_affected()))
    .expect("entry updated");
    db.close().await;
}

pub fn entries(ledger: &Value) -> &Vec<Value> {
    ledger["data"].as_array().unwrap()
}

pub fn kinds(ledger: &Value) -> Vec<String> {
    entries(ledger)
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect()
}

/// A new reward in the catalogue (201 expected).
pub async fn reward(app: &TestApp, body: Value) -> Value {
    json_of(
        app.post("/v1/loyalty/rewards", &body).await,
        StatusCode::CREATED,
    )
    .await
}

/// The member redeems the reward, with a new `Idempotency-Key`.
pub async fn redeem_reward(app: &TestApp, member: &str, reward: &Value) -> Response {
    write(
        app,
        "/v1/loyalty/redemptions",
        &key(),
        &json!({"contact_id": member, "reward_id": crate::common::id(reward)}),
    )
    .await
}
