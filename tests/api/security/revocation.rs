//! Revocation: a user's power ends when they are deleted, deactivated,
//! demoted or re-keyed, on every node, and a refresh cannot outlive a sign-out
//! (issue 11, item 1).

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::*;

async fn user_with_token(app: &TestApp, role: &str) -> (String, String) {
    let token = app.token_for(role).await;
    let me = json_of(
        app.request_as(&token, Method::GET, "/v1/me")
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    (me["id"].as_str().unwrap().to_string(), token)
}

async fn create_key_as(app: &TestApp, token: &str) -> reqwest::Response {
    app.request_as(token, Method::POST, "/v1/api-keys")
        .json(&json!({"name": "after revocation", "scopes": ["contacts:read"]}))
        .send()
        .await
        .unwrap()
}

db_test!(a_deleted_admin_cannot_use_the_token_in_hand, |app| {
    let (id, token) = user_with_token(&app, "admin").await;
    json_of(create_key_as(&app, &token).await, StatusCode::CREATED).await;
    let deleted = app.delete(&format!("/v1/users/{id}")).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let p = problem(create_key_as(&app, &token).await, StatusCode::UNAUTHORIZED).await;
    assert!(p["detail"].as_str().unwrap().contains("deleted"), "{p}");
});

db_test!(
    deactivation_demotion_and_a_new_password_end_the_tokens_issued_before,
    |app| {
        for change in [
            json!({"active": false}),
            json!({"role": "viewer"}),
            json!({"password": "a-brand-new-password"}),
        ] {
            let (id, token) = user_with_token(&app, "manager").await;
            json_of(
                app.request_as(&token, Method::GET, "/v1/contacts")
                    .send()
                    .await
                    .unwrap(),
                StatusCode::OK,
            )
            .await;
            json_of(
                app.patch(&format!("/v1/users/{id}"), &change).await,
                StatusCode::OK,
            )
            .await;
            let after = app
                .request_as(&token, Method::GET, "/v1/contacts")
                .send()
                .await
                .unwrap();
            problem(after, StatusCode::UNAUTHORIZED).await;
        }
        // A demoted user signs in again and gets the new role's powers only.
        let email = format!("demoted-{}@rapport.test", uuid::Uuid::now_v7().simple());
        let created = json_of(
        app.post("/v1/users", &json!({"email": email, "display_name": "D", "role": "admin", "password": "a-password-for-tests"})).await,
        StatusCode::CREATED,
    )
    .await;
        json_of(
            app.patch(
                &format!("/v1/users/{}", created["id"].as_str().unwrap()),
                &json!({"role": "agent"}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        let token = app.sign_in(&email, "a-password-for-tests").await;
        problem(create_key_as(&app, &token).await, StatusCode::FORBIDDEN).await;
    }
);

db_test!(a_key_stops_working_when_its_creator_is_deleted, |app| {
    let (id, token) = user_with_token(&app, "admin").await;
    let created = json_of(create_key_as(&app, &token).await, StatusCode::CREATED).await;
    let key = created["key"].as_str().unwrap().to_string();
    let read = app
        .request_as(&key, Method::GET, "/v1/contacts")
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), StatusCode::OK);
    assert_eq!(
        app.delete(&format!("/v1/users/{id}")).await.status(),
        StatusCode::NO_CONTENT
    );
    let p = problem(
        app.request_as(&key, Method::GET, "/v1/contacts")
            .send()
            .await
            .unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("creator"), "{p}");
});

db_test!(
    another_node_honours_a_revocation_once_its_cached_standing_is_stale,
    |app| {
        let second = app.another_node(|_| {}).await;
        let (id, token) = user_with_token(&app, "manager").await;
        let on_second = |token: String| {
            let request = app
                .client
                .get(second.url("/v1/contacts"))
                .bearer_auth(token);
            async move { request.send().await.unwrap().status() }
        };
        assert_eq!(
            on_second(token.clone()).await,
            StatusCode::OK,
            "the second node knows the user now"
        );
        json_of(
            app.patch(&format!("/v1/users/{id}"), &json!({"active": false}))
                .await,
            StatusCode::OK,
        )
        .await;
        // The first node forgot at once; the second may act on what it read for
        // at most the documented staleness, measured on the servers' clock.
        let first = app
            .request_as(&token, Method::GET, "/v1/contacts")
            .send()
            .await
            .unwrap();
        assert_eq!(first.status(), StatusCode::UNAUTHORIZED);
        app.clock
            .advance(rapport::auth::standing::STALENESS + chrono::TimeDelta::milliseconds(1));
        assert_eq!(on_second(token).await, StatusCode::UNAUTHORIZED);
        second.stop().await;
    }
);

db_test!(a_refresh_racing_a_sign_out_never_outlives_it, |app| {
    for _ in 0..15 {
        let pair = app.token_pair(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let refresh = pair["refresh_token"].as_str().unwrap().to_string();
        let rotate = app
            .client
            .post(app.url("/v1/auth/refresh"))
            .json(&json!({"refresh_token": refresh}))
            .send();
        let sign_out = app
            .request_as(
                pair["access_token"].as_str().unwrap(),
                Method::POST,
                "/v1/auth/logout",
            )
            .json(&json!({"refresh_token": refresh}))
            .send();
        let (rotated, signed_out) = tokio::join!(rotate, sign_out);
        assert_eq!(signed_out.unwrap().status(), StatusCode::NO_CONTENT);
        let rotated = rotated.unwrap();
        if rotated.status() == StatusCode::OK {
            // The successor was issued during the sign-out: it dies with it.
            let successor = rotated.json::<serde_json::Value>().await.unwrap();
            let again = app
                .client
                .post(app.url("/v1/auth/refresh"))
                .json(&json!({"refresh_token": successor["refresh_token"]}))
                .send()
                .await
                .unwrap();
            assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
        }
    }
});
