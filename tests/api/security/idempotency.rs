//! Stored idempotent answers hold no secrets and are replayed only to a
//! caller who still has the access (issue 11, item 7).

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::*;

db_test!(
    a_replay_of_a_new_api_key_never_shows_its_secret_again,
    |app| {
        let send = || {
            app.request(Method::POST, "/v1/api-keys")
                .header("idempotency-key", "key-once")
                .json(&json!({"name": "billing sync", "scopes": ["contacts:read"]}))
                .send()
        };
        let first = send().await.unwrap();
        let location = header(&first, "location").unwrap();
        let created = json_of(first, StatusCode::CREATED).await;
        let secret = created["key"].as_str().unwrap().to_string();
        let again = send().await.unwrap();
        assert_eq!(
            header(&again, "idempotent-replayed").as_deref(),
            Some("true")
        );
        assert_eq!(
            header(&again, "location").as_deref(),
            Some(location.as_str())
        );
        let text = again.text().await.unwrap();
        assert!(!text.contains(&secret), "{text}");
        let p: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(p["status"], 409);
        assert!(
            p["detail"].as_str().unwrap().contains("shown only once"),
            "{p}"
        );
        // Exactly one key was made, and it works.
        let keys = json_of(app.get("/v1/api-keys").await, StatusCode::OK).await;
        assert_eq!(keys["data"].as_array().unwrap().len(), 1);
        let works = app
            .request_as(&secret, Method::GET, "/v1/contacts")
            .send()
            .await
            .unwrap();
        assert_eq!(works.status(), StatusCode::OK);
    }
);

db_test!(sign_in_ignores_the_idempotency_key, |app| {
    let send = || {
        app.request(Method::POST, "/v1/auth/token")
            .header("idempotency-key", "sign-in-once")
            .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
            .send()
    };
    let first = json_of(send().await.unwrap(), StatusCode::OK).await;
    let again = send().await.unwrap();
    assert!(header(&again, "idempotent-replayed").is_none());
    let again = json_of(again, StatusCode::OK).await;
    assert_ne!(first["refresh_token"], again["refresh_token"]);
});

db_test!(
    a_replay_goes_only_to_a_caller_who_still_has_the_access,
    |app| {
        let manager = app.create_user("manager").await;
        let email = manager["email"].as_str().unwrap().to_string();
        let token = app.sign_in(&email, USER_PASSWORD).await;
        let contact = |name: &str| {
            let request = app
                .request_as(&token, Method::POST, "/v1/contacts")
                .json(&json!({"first_name": name}));
            async move { json_of(request.send().await.unwrap(), StatusCode::CREATED).await }
        };
        let survivor = contact("Ana").await["id"].as_str().unwrap().to_string();
        let duplicate = contact("Anna").await["id"].as_str().unwrap().to_string();
        let merge = |token: String| {
            let request = app
                .request_as(
                    &token,
                    Method::POST,
                    &format!("/v1/contacts/{survivor}/merge"),
                )
                .header("idempotency-key", "merge-once")
                .json(&json!({"duplicate_id": duplicate}));
            async move { request.send().await.unwrap() }
        };
        json_of(merge(token.clone()).await, StatusCode::OK).await;
        // Demoted to agent (merging is a manager's), signed in again: the same
        // caller and key, but no replay.
        let id = manager["id"].as_str().unwrap();
        json_of(
            app.patch(&format!("/v1/users/{id}"), &json!({"role": "agent"}))
                .await,
            StatusCode::OK,
        )
        .await;
        let agent_token = app.sign_in(&email, USER_PASSWORD).await;
        let refused = merge(agent_token).await;
        assert!(header(&refused, "idempotent-replayed").is_none());
        problem(refused, StatusCode::FORBIDDEN).await;
    }
);

db_test!(
    an_idempotent_post_is_buffered_only_up_to_its_own_limit,
    |app| {
        let huge = "x".repeat(2 * 1024 * 1024);
        let response = app
            .request(Method::POST, "/v1/contacts")
            .header("idempotency-key", "too-large")
            .header("content-type", "application/json")
            .body(format!("{{\"first_name\": \"{huge}\"}}"))
            .send()
            .await
            .unwrap();
        let p = problem(response, StatusCode::PAYLOAD_TOO_LARGE).await;
        assert!(p["detail"].as_str().unwrap().contains("1048576"), "{p}");
    }
);

db_test!(concurrent_requests_with_one_key_write_once, |app| {
    let send = || {
        app.request(Method::POST, "/v1/contacts")
            .header("idempotency-key", "raced")
            .json(&json!({"first_name": "Once", "email": "once@rapport.test"}))
            .send()
    };
    let answers = futures_util::future::join_all((0..8).map(|_| send())).await;
    let mut fresh = 0;
    for answer in answers {
        let answer = answer.unwrap();
        let replayed = header(&answer, "idempotent-replayed").is_some();
        match answer.status() {
            StatusCode::CREATED if !replayed => fresh += 1,
            StatusCode::CREATED => {}
            // Still in flight when this one looked.
            StatusCode::CONFLICT => {
                let p = problem(answer, StatusCode::CONFLICT).await;
                assert!(
                    p["detail"]
                        .as_str()
                        .unwrap()
                        .contains("still being processed"),
                    "{p}"
                );
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(fresh, 1);
    let listed = json_of(app.get("/v1/contacts?q=once").await, StatusCode::OK).await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    // A retry now replays the one answer.
    let retry = send().await.unwrap();
    assert_eq!(
        header(&retry, "idempotent-replayed").as_deref(),
        Some("true")
    );
    assert_eq!(retry.status(), StatusCode::CREATED);
});

db_test!(
    a_refused_request_keeps_its_answer_and_writes_nothing,
    |app| {
        let send = |name: &'static str| {
            app.request(Method::POST, "/v1/contacts")
            .header("idempotency-key", format!("bad-{name}"))
            .json(&json!({"first_name": name, "account_id": "01937c5e-0000-7000-8000-000000000000"}))
            .send()
        };
        problem(
            send("Ghost").await.unwrap(),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        let again = send("Ghost").await.unwrap();
        assert_eq!(
            header(&again, "idempotent-replayed").as_deref(),
            Some("true")
        );
        problem(again, StatusCode::UNPROCESSABLE_ENTITY).await;
        let listed = json_of(app.get("/v1/contacts?q=ghost").await, StatusCode::OK).await;
        assert_eq!(listed["data"].as_array().unwrap().len(), 0);
    }
);
