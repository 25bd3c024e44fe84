//! Erasure leaves no personal value anywhere in the database (issue 11,
//! item 4): known values are written through every endpoint that stores
//! personal data, the person is erased, and every column of every table is
//! scanned for them.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::*;

/// Every value of every column of every table, as text.
async fn every_stored_value(app: &TestApp) -> Vec<(String, String)> {
    let url = &app.database_url;
    let mut found = Vec::new();
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        let columns: Vec<(String, String)> = sqlx::query_as(
            "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p
             WHERE m.type = 'table' AND m.name NOT LIKE '\\_sqlx%' ESCAPE '\\'",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        for (table, column) in columns {
            let values: Vec<Option<Vec<u8>>> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT CAST(\"{column}\" AS BLOB) FROM \"{table}\""
            )))
            .fetch_all(&pool)
            .await
            .unwrap();
            for v in values.into_iter().flatten() {
                found.push((
                    format!("{table}.{column}"),
                    String::from_utf8_lossy(&v).into_owned(),
                ));
            }
        }
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        let columns: Vec<(String, String)> = sqlx::query_as(
            "SELECT table_name::text, column_name::text FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name NOT LIKE '\\_sqlx%'",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        for (table, column) in columns {
            let values: Vec<Option<String>> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT CAST(\"{column}\" AS TEXT) FROM \"{table}\""
            )))
            .fetch_all(&pool)
            .await
            .unwrap();
            for v in values.into_iter().flatten() {
                found.push((format!("{table}.{column}"), v));
            }
        }
        pool.close().await;
    }
    found
}

async fn assert_nothing_left(app: &TestApp, secrets: &[&str]) {
    let stored = every_stored_value(app).await;
    assert!(stored.len() > 20, "the scan read the database");
    let left: Vec<String> = stored
        .iter()
        .flat_map(|(column, value)| {
            secrets
                .iter()
                .filter(|s| value.contains(**s))
                .map(move |s| format!("{s} in {column}"))
        })
        .collect();
    assert!(
        left.is_empty(),
        "personal values left after erasure: {left:?}"
    );
}

async fn created(app: &TestApp, path: &str, key: &str, body: Value) -> Value {
    json_of(
        app.request(Method::POST, path)
            .header("idempotency-key", key)
            .json(&body)
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await
}

async fn ok(app: &TestApp, method: Method, path: &str, body: Value) -> Value {
    let mut request = app.request(method, path).json(&body);
    if path.contains("/merge") || path.contains("/erase") {
        request = request.header("idempotency-key", format!("k-{path}"));
    }
    json_of(request.send().await.unwrap(), StatusCode::OK).await
}

const SECRETS: [&str; 18] = [
    "Zebulon",
    "Quixotic",
    "zq.erasure",
    "13812345678",
    "Xylophonist",
    "zq-custom",
    "zq-tag",
    "DOB 1980",
    "zq-note-ack",
    "zq-comment",
    "zq-subject",
    "zq-summary",
    "zq-outcome",
    "zq-source",
    "zq-earn-reason",
    "zq-redeem-reason",
    "Zebediah",
    "zq.duplicate",
];

db_test!(erasure_leaves_no_personal_value_in_any_column, |app| {
    let account = created(&app, "/v1/accounts", "a", json!({"name": "Acme Research"})).await;
    let person = created(
        &app,
        "/v1/contacts",
        "c",
        json!({
            "first_name": "Zebulon", "last_name": "Quixotic", "email": "zq.erasure@example.test",
            "phone": "+8613812345678", "title": "Xylophonist", "account_id": account["id"],
            "custom_fields": {"hobby": "zq-custom"}, "tags": ["zq-tag"]
        }),
    )
    .await;
    let id = person["id"].as_str().unwrap().to_string();
    ok(
        &app,
        Method::PATCH,
        &format!("/v1/contacts/{id}"),
        json!({"title": "Chief Xylophonist"}),
    )
    .await;
    let duplicate = created(
        &app,
        "/v1/contacts",
        "d",
        json!({
            "first_name": "Zebediah", "email": "zq.duplicate@example.test"
        }),
    )
    .await;
    ok(
        &app,
        Method::POST,
        &format!("/v1/contacts/{id}/merge"),
        json!({"duplicate_id": duplicate["id"]}),
    )
    .await;

    let complaint = created(&app, "/v1/feedback", "f", json!({
        "kind": "complaint", "contact_id": id, "text": "Wrong invoice; my DOB 1980-02-03 is on it."
    }))
    .await;
    let item = format!("/v1/feedback/{}", complaint["id"].as_str().unwrap());
    ok(
        &app,
        Method::POST,
        &format!("{item}/transitions"),
        json!({"to": "acknowledged", "note": "zq-note-ack"}),
    )
    .await;
    created(
        &app,
        &format!("{item}/activities"),
        "n",
        json!({"note": "zq-comment"}),
    )
    .await;

    let channel = created(
        &app,
        "/v1/channels",
        "ch",
        json!({"kind": "phone", "name": "Hotline"}),
    )
    .await;
    created(&app, "/v1/interactions", "i", json!({
        "channel_id": channel["id"], "contact_id": id, "direction": "inbound", "type": "call", "purpose": "service",
        "subject": "zq-subject", "summary": "zq-summary", "outcome": "zq-outcome"
    }))
    .await;
    ok(&app, Method::PUT, &format!("/v1/contacts/{id}/preferences"), json!({
        "language": "pt-BR",
        "consents": [{"channel_kind": "email", "purpose": "marketing", "granted": true, "source": "zq-source"}]
    }))
    .await;

    created(&app, "/v1/loyalty/members", "m", json!({"contact_id": id})).await;
    created(
        &app,
        &format!("/v1/loyalty/members/{id}/earn"),
        "e",
        json!({"points": 500, "reason": "zq-earn-reason"}),
    )
    .await;
    let reward = created(
        &app,
        "/v1/loyalty/rewards",
        "r",
        json!({"name": "Mug", "cost_points": 100}),
    )
    .await;
    created(
        &app,
        "/v1/loyalty/redemptions",
        "rd",
        json!({
            "contact_id": id, "reward_id": reward["id"], "reason": "zq-redeem-reason"
        }),
    )
    .await;

    let erased = ok(
        &app,
        Method::POST,
        &format!("/v1/contacts/{id}/erase"),
        json!({}),
    )
    .await;
    assert_eq!(erased["first_name"], Value::Null);
    assert_nothing_left(&app, &SECRETS).await;

    // What counts stays: the points, the complaint and its state.
    let member = json_of(
        app.get(&format!("/v1/loyalty/members/{id}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(member["balance"], 400);
    let kept = json_of(app.get(&item).await, StatusCode::OK).await;
    assert_eq!(kept["status"], "acknowledged");
    // Every entity type in the log has an area that guards it.
    let types: Vec<String> = every_stored_value(&app)
        .await
        .into_iter()
        .filter(|(column, _)| column == "audit_events.entity_type")
        .map(|(_, v)| v)
        .collect();
    for t in types {
        assert!(
            rapport::audit::routes::ENTITY_AREAS
                .iter()
                .any(|(name, _)| *name == t),
            "audit entity type {t} has no area"
        );
    }
});

db_test!(a_deleted_contact_can_still_be_erased, |app| {
    let person = created(
        &app,
        "/v1/contacts",
        "c",
        json!({
            "first_name": "Zebulon", "email": "zq.erasure@example.test"
        }),
    )
    .await;
    let id = person["id"].as_str().unwrap();
    let deleted = app.delete(&format!("/v1/contacts/{id}")).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let erased = ok(
        &app,
        Method::POST,
        &format!("/v1/contacts/{id}/erase"),
        json!({}),
    )
    .await;
    assert!(erased["erased_at"].is_string());
    assert_nothing_left(&app, &["Zebulon", "zq.erasure"]).await;
    // Still gone for reads.
    problem(
        app.get(&format!("/v1/contacts/{id}")).await,
        StatusCode::NOT_FOUND,
    )
    .await;
});

db_test!(erasing_a_duplicate_merged_away_needs_no_survivor, |app| {
    let survivor = created(&app, "/v1/contacts", "s", json!({"first_name": "Ana"})).await;
    let duplicate = created(
        &app,
        "/v1/contacts",
        "d",
        json!({"first_name": "Zebediah", "email": "zq.duplicate@example.test"}),
    )
    .await;
    let (s, d) = (
        survivor["id"].as_str().unwrap(),
        duplicate["id"].as_str().unwrap(),
    );
    ok(
        &app,
        Method::POST,
        &format!("/v1/contacts/{s}/merge"),
        json!({"duplicate_id": d}),
    )
    .await;
    // The duplicate alone is erased: its own row; the survivor took its email.
    ok(
        &app,
        Method::POST,
        &format!("/v1/contacts/{d}/erase"),
        json!({}),
    )
    .await;
    let stored = every_stored_value(&app).await;
    assert!(
        !stored
            .iter()
            .any(|(column, v)| column.starts_with("contacts.") && v.contains("Zebediah")),
        "the merged-away row still names the person"
    );
});
