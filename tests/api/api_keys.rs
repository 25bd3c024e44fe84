//! API keys: the secret shown once, bearer use, scopes, revocation, expiry
//! and last use.

use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

db_test!(an_api_keys_secret_is_shown_only_at_creation, |app| {
    let response = app
        .post(
            "/v1/api-keys",
            &json!({"name": "Survey platform", "scopes": ["feedback:write"]}),
        )
        .await;
    let location = header(&response, "location").expect("Location");
    let created = json_of(response, StatusCode::CREATED).await;
    let key = created["key"].as_str().expect("the key");
    assert!(key.starts_with("rpk_"), "{key}");
    assert_eq!(location, format!("/v1/api-keys/{}", id(&created)));
    assert!(
        key.starts_with(created["prefix"].as_str().unwrap()),
        "{created}"
    );

    let fetched = json_of(app.get(&location).await, StatusCode::OK).await;
    assert!(fetched.get("key").is_none(), "{fetched}");
    assert!(!fetched.to_string().contains(key), "{fetched}");
    assert_eq!(fetched["name"], "Survey platform");
    assert_eq!(fetched["scopes"], json!(["feedback:write"]));
    let listed = json_of(app.get("/v1/api-keys").await, StatusCode::OK).await;
    assert!(!listed.to_string().contains(key), "{listed}");
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
});

db_test!(an_api_key_works_as_a_bearer_token, |app| {
    let key = app.api_key(&["contacts:read", "feedback:write"]).await;
    let me = json_of(
        app.request_as(&key, Method::GET, "/v1/me")
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(me["scopes"], json!(["contacts:read", "feedback:write"]));
    assert!(me["id"].is_string(), "{me}");
});

db_test!(a_key_with_a_wrong_secret_is_refused, |app| {
    let key = app.api_key(&["contacts:read"]).await;
    let (head, _) = key.rsplit_once('_').unwrap();
    let forged = format!("{head}_notTheSecretAtAll0000000000000000000000000");
    let response = app
        .request_as(&forged, Method::GET, "/v1/me")
        .send()
        .await
        .unwrap();
    assert!(header(&response, "www-authenticate").is_some());
    problem(response, StatusCode::UNAUTHORIZED).await;
    let response = app
        .request_as("rpk_nonexistent_secret", Method::GET, "/v1/me")
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::UNAUTHORIZED).await;
});

db_test!(scopes_limit_what_a_key_may_do, |app| {
    let key = app.api_key(&["contacts:read"]).await;
    for (method, path) in [
        (Method::GET, "/v1/users"),
        (Method::GET, "/v1/api-keys"),
        (Method::GET, "/v1/audit-events"),
    ] {
        let response = app.request_as(&key, method, path).send().await.unwrap();
        problem(response, StatusCode::FORBIDDEN).await;
    }
    let create = app
        .request_as(&key, Method::POST, "/v1/api-keys")
        .json(&json!({"name": "escalate", "scopes": ["contacts:write"]}))
        .send()
        .await
        .unwrap();
    problem(create, StatusCode::FORBIDDEN).await;
    let create = app
        .request_as(&key, Method::POST, "/v1/users")
        .json(&new_user("by-key@rapport.test", "admin"))
        .send()
        .await
        .unwrap();
    problem(create, StatusCode::FORBIDDEN).await;
});

db_test!(unknown_or_admin_scopes_are_refused_with_422, |app| {
    for scopes in [
        json!(["contacts:read", "contacts:delete"]),
        json!(["users:write"]),
        json!(["api_keys:read"]),
        json!([]),
    ] {
        let body = problem(
            app.post("/v1/api-keys", &json!({"name": "bad", "scopes": scopes}))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(body["errors"][0]["field"], "scopes", "{body}");
    }
    let keys = json_of(app.get("/v1/api-keys").await, StatusCode::OK).await;
    assert_eq!(keys["data"].as_array().unwrap().len(), 0);
});

db_test!(a_revoked_key_gets_401, |app| {
    let created = json_of(
        app.post(
            "/v1/api-keys",
            &json!({"name": "old", "scopes": ["contacts:read"]}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let key = created["key"].as_str().unwrap();
    json_of(
        app.request_as(key, Method::GET, "/v1/me")
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let path = format!("/v1/api-keys/{}", id(&created));
    assert_eq!(app.delete(&path).await.status(), StatusCode::NO_CONTENT);
    let response = app
        .request_as(key, Method::GET, "/v1/me")
        .send()
        .await
        .unwrap();
    assert!(header(&response, "www-authenticate").is_some());
    problem(response, StatusCode::UNAUTHORIZED).await;
    let fetched = json_of(app.get(&path).await, StatusCode::OK).await;
    assert!(fetched["revoked_at"].is_string(), "{fetched}");
    problem(
        app.delete(&format!("/v1/api-keys/{}", uuid::Uuid::now_v7()))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
});

db_test!(an_expired_key_gets_401, |app| {
    let past = (app.now() - chrono::Duration::hours(1)).to_rfc3339();
    let created = json_of(
        app.post(
            "/v1/api-keys",
            &json!({"name": "expired", "scopes": ["contacts:read"], "expires_at": past}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let response = app
        .request_as(created["key"].as_str().unwrap(), Method::GET, "/v1/me")
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::UNAUTHORIZED).await;
});

db_test!(using_a_key_records_last_used_at, |app| {
    let created = json_of(
        app.post(
            "/v1/api-keys",
            &json!({"name": "busy", "scopes": ["contacts:read"]}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let path = format!("/v1/api-keys/{}", id(&created));
    let before = json_of(app.get(&path).await, StatusCode::OK).await;
    assert!(before["last_used_at"].is_null(), "{before}");
    json_of(
        app.request_as(created["key"].as_str().unwrap(), Method::GET, "/v1/me")
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let after = json_of(app.get(&path).await, StatusCode::OK).await;
    let used = after["last_used_at"].as_str().expect("last_used_at is set");
    let used = chrono::DateTime::parse_from_rfc3339(used).expect("RFC 3339");
    let created_at =
        chrono::DateTime::parse_from_rfc3339(after["created_at"].as_str().unwrap()).unwrap();
    assert!(used >= created_at, "{after}");
});

db_test!(an_api_key_cannot_sign_out, |app| {
    let key = app.api_key(&["contacts:read"]).await;
    problem(
        app.request_as(&key, Method::POST, "/v1/auth/logout")
            .send()
            .await
            .unwrap(),
        StatusCode::FORBIDDEN,
    )
    .await;
});

// ---- Concurrency ----
