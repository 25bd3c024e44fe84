//! Authentication: signing in, access tokens, refresh rotation, sign-out, and
//! the JWT secret kept in the database.

use crate::common::*;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

/// Claims like the server's own, for the signed-in admin, expiring `exp_in` seconds from now.
fn claims(app: &TestApp, admin: &Value, exp_in: i64) -> Value {
    let now = app.now().timestamp();
    json!({"sub": admin["id"], "role": "admin", "iat": now, "exp": now + exp_in, "iss": "rapport"})
}

fn sign(claims: &Value, secret: &[u8]) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .unwrap()
}

async fn me_with(app: &TestApp, token: &str) -> Response {
    app.request_as(token, Method::GET, "/v1/me")
        .send()
        .await
        .unwrap()
}

/// A 401 problem that also tells the client, in `WWW-Authenticate`, to use a bearer token.
async fn unauthorized(response: Response) -> Value {
    let challenge = header(&response, "www-authenticate").unwrap_or_default();
    let body = problem(response, StatusCode::UNAUTHORIZED).await;
    assert!(
        challenge.starts_with("Bearer"),
        "WWW-Authenticate is {challenge:?}; body: {body}"
    );
    body
}

async fn token_response(app: &TestApp, email: &str, password: &str) -> Response {
    app.client
        .post(app.url("/v1/auth/token"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
}

async fn refresh(app: &TestApp, refresh_token: &Value) -> Response {
    app.client
        .post(app.url("/v1/auth/refresh"))
        .json(&json!({"refresh_token": refresh_token}))
        .send()
        .await
        .unwrap()
}

// ---- POST /v1/auth/token ----

db_test!(the_right_password_gives_a_bearer_token_pair, |app| {
    let pair = json_of(
        token_response(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(pair["token_type"], "Bearer");
    assert_eq!(pair["expires_in"], 900);
    let access = pair["access_token"].as_str().expect("access_token");
    assert_eq!(
        access.split('.').count(),
        3,
        "the access token is a JWT: {access}"
    );
    assert!(
        pair["refresh_token"]
            .as_str()
            .is_some_and(|t| !t.is_empty()),
        "{pair}"
    );
    let me = json_of(me_with(&app, access).await, StatusCode::OK).await;
    assert_eq!(me["email"], ADMIN_EMAIL);
});

db_test!(sign_in_ignores_the_case_of_the_email, |app| {
    app.token_pair(&ADMIN_EMAIL.to_uppercase(), ADMIN_PASSWORD)
        .await;
});

db_test!(a_wrong_password_is_refused, |app| {
    unauthorized(token_response(&app, ADMIN_EMAIL, "not-the-admin-password").await).await;
});

db_test!(an_unknown_email_is_refused_like_a_wrong_password, |app| {
    let unknown = problem(
        token_response(&app, "nobody@rapport.test", ADMIN_PASSWORD).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let wrong = problem(
        token_response(&app, ADMIN_EMAIL, "not-the-admin-password").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    // The answer must not reveal which emails have accounts.
    assert_eq!(unknown, wrong);
});

db_test!(an_inactive_user_cannot_sign_in, |app| {
    let user = app.create_user("agent").await;
    let email = user["email"].as_str().unwrap();
    app.token_pair(email, USER_PASSWORD).await;
    json_of(
        app.patch(
            &format!("/v1/users/{}", id(&user)),
            &json!({"active": false}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    problem(
        token_response(&app, email, USER_PASSWORD).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
});

db_test!(a_user_created_inactive_cannot_sign_in, |app| {
    let body = json!({"email": "dormant@rapport.test", "display_name": "D", "role": "agent",
                      "password": USER_PASSWORD, "active": false});
    json_of(app.post("/v1/users", &body).await, StatusCode::CREATED).await;
    problem(
        token_response(&app, "dormant@rapport.test", USER_PASSWORD).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
});

// ---- GET /v1/me and access-token checks ----

db_test!(me_describes_the_signed_in_user, |app| {
    let user = app.create_user("manager").await;
    let token = app
        .sign_in(user["email"].as_str().unwrap(), USER_PASSWORD)
        .await;
    let me = json_of(me_with(&app, &token).await, StatusCode::OK).await;
    assert_eq!(me["id"], user["id"]);
    assert_eq!(me["email"], user["email"]);
    assert_eq!(me["role"], "manager");
    assert!(
        me.get("password_hash").is_none() && me.get("password").is_none(),
        "{me}"
    );
});

db_test!(
    a_request_without_credentials_gets_401_with_a_challenge,
    |app| {
        let response = app.client.get(app.url("/v1/me")).send().await.unwrap();
        unauthorized(response).await;
    }
);

db_test!(a_non_bearer_authorization_header_gets_401, |app| {
    let response = app
        .client
        .get(app.url("/v1/me"))
        .basic_auth(ADMIN_EMAIL, Some(ADMIN_PASSWORD))
        .send()
        .await
        .unwrap();
    unauthorized(response).await;
});

db_test!(a_malformed_token_gets_401_with_a_challenge, |app| {
    for token in [
        "not-a-token",
        "a.b.c",
        "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln",
    ] {
        unauthorized(me_with(&app, token).await).await;
    }
});

db_test!(a_token_signed_with_another_secret_gets_401, |app| {
    let admin = app.admin().await;
    // Same claims, correct algorithm, only the key differs: nothing but the signature check can refuse it.
    let forged = sign(
        &claims(&app, &admin, 600),
        b"some-other-secret-that-is-long-enough-0123456789",
    );
    let body = unauthorized(me_with(&app, &forged).await).await;
    assert!(
        body["detail"].as_str().unwrap().contains("signature"),
        "{body}"
    );
    // The control: the same claims signed with the server's secret are accepted.
    let secret = app.stored_jwt_secret().await;
    json_of(
        me_with(&app, &sign(&claims(&app, &admin, 600), secret.as_bytes())).await,
        StatusCode::OK,
    )
    .await;
});

db_test!(an_expired_token_gets_401_that_says_so, |app| {
    let admin = app.admin().await;
    let secret = app.stored_jwt_secret().await;
    let expired = sign(&claims(&app, &admin, -120), secret.as_bytes());
    let body = unauthorized(me_with(&app, &expired).await).await;
    assert!(
        body["detail"].as_str().unwrap().contains("expired"),
        "{body}"
    );
});

db_test!(an_unsigned_alg_none_token_gets_401, |app| {
    let admin = app.admin().await;
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims(&app, &admin, 600).to_string());
    for token in [
        format!("{header}.{payload}."),
        format!("{header}.{payload}"),
    ] {
        unauthorized(me_with(&app, &token).await).await;
    }
});

db_test!(a_token_signed_with_another_algorithm_gets_401, |app| {
    let admin = app.admin().await;
    let secret = app.stored_jwt_secret().await;
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS512),
        &claims(&app, &admin, 600),
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap();
    unauthorized(me_with(&app, &token).await).await;
});

db_test!(a_token_from_another_issuer_gets_401, |app| {
    let admin = app.admin().await;
    let secret = app.stored_jwt_secret().await;
    let mut foreign = claims(&app, &admin, 600);
    foreign["iss"] = json!("someone-else");
    unauthorized(me_with(&app, &sign(&foreign, secret.as_bytes())).await).await;
});

// ---- Refresh tokens ----

db_test!(a_refresh_token_gives_a_new_working_pair, |app| {
    let pair = app.token_pair(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let next = json_of(refresh(&app, &pair["refresh_token"]).await, StatusCode::OK).await;
    assert_eq!(next["token_type"], "Bearer");
    assert_eq!(next["expires_in"], 900);
    assert_ne!(next["refresh_token"], pair["refresh_token"]);
    let me = json_of(
        me_with(&app, next["access_token"].as_str().unwrap()).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(me["email"], ADMIN_EMAIL);
    // The successor rotates in turn.
    json_of(refresh(&app, &next["refresh_token"]).await, StatusCode::OK).await;
});

db_test!(
    reusing_a_rotated_refresh_token_revokes_the_whole_family,
    |app| {
        let first = app.token_pair(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let second = json_of(refresh(&app, &first["refresh_token"]).await, StatusCode::OK).await;
        unauthorized(refresh(&app, &first["refresh_token"]).await).await;
        // The thief presented the old token: the legitimate successor dies with it.
        unauthorized(refresh(&app, &second["refresh_token"]).await).await;
    }
);

db_test!(reuse_revokes_only_that_sign_in, |app| {
    let stolen = app.token_pair(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let other = app.token_pair(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    json_of(
        refresh(&app, &stolen["refresh_token"]).await,
        StatusCode::OK,
    )
    .await;
    problem(
        refresh(&app, &stolen["refresh_token"]).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    json_of(refresh(&app, &other["refresh_token"]).await, StatusCode::OK).await;
});

db_test!(an_unknown_refresh_token_gets_401, |app| {
    unauthorized(refresh(&app, &json!("rrt_this-token-was-never-issued")).await).await;
});

db_test!(logout_with_a_refresh_token_revokes_it, |app| {
    let pair = app.token_pair(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let other = app.token_pair(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let response = app
        .request_as(
            pair["access_token"].as_str().unwrap(),
            Method::POST,
            "/v1/auth/logout",
        )
        .json(&json!({"refresh_token": pair["refresh_token"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    unauthorized(refresh(&app, &pair["refresh_token"]).await).await;
    // Other sign-ins are untouched.
    json_of(refresh(&app, &other["refresh_token"]).await, StatusCode::OK).await;
});

db_test!(
    logout_without_a_body_revokes_every_sign_in_of_the_caller,
    |app| {
        let one = app.token_pair(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let two = app.token_pair(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let response = app
            .request(Method::POST, "/v1/auth/logout")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        problem(
            refresh(&app, &one["refresh_token"]).await,
            StatusCode::UNAUTHORIZED,
        )
        .await;
        problem(
            refresh(&app, &two["refresh_token"]).await,
            StatusCode::UNAUTHORIZED,
        )
        .await;
    }
);

db_test!(logout_needs_credentials, |app| {
    let pair = app.token_pair(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let response = app
        .client
        .post(app.url("/v1/auth/logout"))
        .json(&json!({"refresh_token": pair["refresh_token"]}))
        .send()
        .await
        .unwrap();
    unauthorized(response).await;
    json_of(refresh(&app, &pair["refresh_token"]).await, StatusCode::OK).await;
});

db_test!(a_deactivated_user_can_no_longer_refresh, |app| {
    let user = app.create_user("agent").await;
    let pair = app
        .token_pair(user["email"].as_str().unwrap(), USER_PASSWORD)
        .await;
    json_of(
        app.patch(
            &format!("/v1/users/{}", id(&user)),
            &json!({"active": false}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    problem(
        refresh(&app, &pair["refresh_token"]).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
});

db_test!(a_password_change_revokes_refresh_tokens, |app| {
    let user = app.create_user("agent").await;
    let pair = app
        .token_pair(user["email"].as_str().unwrap(), USER_PASSWORD)
        .await;
    let patch = json!({"password": "a-brand-new-password"});
    json_of(
        app.patch(&format!("/v1/users/{}", id(&user)), &patch).await,
        StatusCode::OK,
    )
    .await;
    problem(
        refresh(&app, &pair["refresh_token"]).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    problem(
        token_response(&app, user["email"].as_str().unwrap(), USER_PASSWORD).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    app.token_pair(user["email"].as_str().unwrap(), "a-brand-new-password")
        .await;
});

// ---- The JWT secret lives in the database ----

db_test!(
    a_second_node_on_the_same_database_accepts_the_first_nodes_tokens,
    |app| {
        let mut settings = rapport::config::Settings::for_tests(&app.database_url);
        settings.clock = app.clock.clone();
        let node = rapport::app::start(settings).await.expect("second node");
        let handle = node.server.handle();
        tokio::spawn(node.server);
        let response = app
            .client
            .get(format!("http://127.0.0.1:{}/v1/me", node.port))
            .bearer_auth(&app.admin_token)
            .send()
            .await
            .unwrap();
        let me = json_of(response, StatusCode::OK).await;
        assert_eq!(me["email"], ADMIN_EMAIL);
        handle.stop(false).await;
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_survives_a_restart_on_the_same_sqlite_file() {
    let scratch = TempDir::new("rapport-restart");
    let url = scratch.sqlite_url();
    let settings = || {
        let mut s = rapport::config::Settings::for_tests(&url);
        s.admin_email = Some(ADMIN_EMAIL.into());
        s.admin_password = Some(ADMIN_PASSWORD.into());
        s
    };
    let client = reqwest::Client::new();

    let first = rapport::app::start(settings()).await.expect("first start");
    let handle = first.server.handle();
    tokio::spawn(first.server);
    let response = client
        .post(format!("http://127.0.0.1:{}/v1/auth/token", first.port))
        .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    let token = json_of(response, StatusCode::OK).await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    handle.stop(true).await;
    first.db.close().await;

    let second = rapport::app::start(settings()).await.expect("second start");
    let handle = second.server.handle();
    tokio::spawn(second.server);
    let response = client
        .get(format!("http://127.0.0.1:{}/v1/me", second.port))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        json_of(response, StatusCode::OK).await["email"],
        ADMIN_EMAIL
    );
    handle.stop(true).await;
    second.db.close().await;
}

db_test!(
    concurrent_uses_of_one_refresh_token_rotate_it_at_most_once,
    |app| {
        for _ in 0..3 {
            let pair = app.token_pair(ADMIN_EMAIL, ADMIN_PASSWORD).await;
            let mut tasks = tokio::task::JoinSet::new();
            for _ in 0..4 {
                let request = app
                    .client
                    .post(app.url("/v1/auth/refresh"))
                    .json(&json!({"refresh_token": pair["refresh_token"]}));
                tasks.spawn(async move { request.send().await.unwrap().status() });
            }
            let statuses: Vec<StatusCode> = tasks.join_all().await;
            let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
            assert!(
                ok <= 1,
                "one refresh token was rotated {ok} times: {statuses:?}"
            );
            assert!(
                statuses
                    .iter()
                    .all(|s| *s == StatusCode::OK || *s == StatusCode::UNAUTHORIZED),
                "{statuses:?}"
            );
        }
    }
);
