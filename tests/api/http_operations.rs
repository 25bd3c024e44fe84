//! Idempotency keys, health, readiness, metrics and the served docs.

use crate::common::*;
use reqwest::{Method, StatusCode};

db_test!(
    a_retried_post_with_the_same_idempotency_key_replays_the_first_response,
    |app| {
        let body = new_user("once@rapport.test", "agent");
        let send = || {
            app.request(Method::POST, "/v1/users")
                .header("idempotency-key", "create-once-1")
                .json(&body)
                .send()
        };
        let first = send().await.unwrap();
        assert_eq!(first.status(), StatusCode::CREATED);
        assert!(header(&first, "idempotent-replayed").is_none());
        let first_location = header(&first, "location");
        let first_body = first.text().await.unwrap();

        let second = send().await.unwrap();
        assert_eq!(second.status(), StatusCode::CREATED);
        assert_eq!(
            header(&second, "idempotent-replayed").as_deref(),
            Some("true")
        );
        assert_eq!(header(&second, "location"), first_location);
        assert_eq!(second.text().await.unwrap(), first_body);

        let users = json_of(app.get("/v1/users").await, StatusCode::OK).await;
        let count = users["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|u| u["email"] == "once@rapport.test")
            .count();
        assert_eq!(count, 1, "{users}");
    }
);

db_test!(
    an_idempotency_key_reused_with_another_body_is_a_422,
    |app| {
        let send = |email: &'static str| {
            app.request(Method::POST, "/v1/users")
                .header("idempotency-key", "create-once-2")
                .json(&new_user(email, "agent"))
                .send()
        };
        json_of(
            send("first@rapport.test").await.unwrap(),
            StatusCode::CREATED,
        )
        .await;
        problem(
            send("second@rapport.test").await.unwrap(),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        let users = json_of(app.get("/v1/users").await, StatusCode::OK).await;
        assert!(
            !users.to_string().contains("second@rapport.test"),
            "{users}"
        );
    }
);

db_test!(idempotency_keys_belong_to_their_caller, |app| {
    let other_admin = app.create_user("admin").await;
    let other_token = app
        .sign_in(other_admin["email"].as_str().unwrap(), USER_PASSWORD)
        .await;
    let first = app
        .request(Method::POST, "/v1/users")
        .header("idempotency-key", "shared-key")
        .json(&new_user("mine@rapport.test", "agent"))
        .send()
        .await
        .unwrap();
    json_of(first, StatusCode::CREATED).await;
    // Another caller using the same key string is a different request, not a replay or a 422.
    let second = app
        .request_as(&other_token, Method::POST, "/v1/users")
        .header("idempotency-key", "shared-key")
        .json(&new_user("theirs@rapport.test", "agent"))
        .send()
        .await
        .unwrap();
    assert!(header(&second, "idempotent-replayed").is_none());
    let created = json_of(second, StatusCode::CREATED).await;
    assert_eq!(created["email"], "theirs@rapport.test");
});

db_test!(a_replayed_error_is_an_error_again, |app| {
    let send = || {
        app.request(Method::POST, "/v1/users")
            .header("idempotency-key", "bad-request-key")
            .json(&new_user("not-an-email", "agent"))
            .send()
    };
    problem(send().await.unwrap(), StatusCode::UNPROCESSABLE_ENTITY).await;
    let again = send().await.unwrap();
    assert_eq!(
        header(&again, "idempotent-replayed").as_deref(),
        Some("true")
    );
    problem(again, StatusCode::UNPROCESSABLE_ENTITY).await;
});

db_test!(an_invalid_idempotency_key_is_a_400, |app| {
    let long = "k".repeat(256);
    let response = app
        .request(Method::POST, "/v1/users")
        .header("idempotency-key", long)
        .json(&new_user("long-key@rapport.test", "agent"))
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::BAD_REQUEST).await;
});

// ---- Operations and docs ----

db_test!(health_and_readiness_answer_200, |app| {
    let health = json_of(
        app.client.get(app.url("/healthz")).send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(health["status"], "ok");
    let ready = json_of(
        app.client.get(app.url("/readyz")).send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(ready["status"], "ok");
});

db_test!(metrics_count_requests, |app| {
    app.get("/v1/me").await;
    let response = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        header(&response, "content-type")
            .unwrap_or_default()
            .starts_with("text/plain")
    );
    let text = response.text().await.unwrap();
    assert!(text.contains("rapport_http_requests_total"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("rapport_http_requests_total")
                && l.contains("/v1/me")
                && l.contains("200")),
        "{text}"
    );
});

db_test!(the_docs_are_served_by_the_binary, |app| {
    let response = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        header(&response, "content-type")
            .unwrap_or_default()
            .starts_with("text/html")
    );
    let html = response.text().await.unwrap();
    assert!(html.to_lowercase().contains("<html"), "{html}");
    let assets: Vec<String> = ["src=\"", "href=\""]
        .iter()
        .flat_map(|attr| {
            html.split(attr)
                .skip(1)
                .map(|rest| rest.split('"').next().unwrap_or("").to_string())
        })
        .collect();
    assert!(
        assets.iter().any(|a| a.ends_with(".css")),
        "no stylesheet in {html}"
    );
    assert!(
        assets.iter().any(|a| a.ends_with(".js")),
        "no script in {html}"
    );
    for asset in &assets {
        assert!(
            !asset.starts_with("http") && !asset.starts_with("//"),
            "the docs load {asset} from the internet"
        );
        let path = format!("/docs/{}", asset.trim_start_matches("./"));
        let response = app.client.get(app.url(&path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert!(
            !response.bytes().await.unwrap().is_empty(),
            "{path} is empty"
        );
    }
    // The initializer points the UI at the served document.
    let init = app
        .client
        .get(app.url("/docs/swagger-initializer.js"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(init.contains("/openapi.json"), "{init}");
    // /docs without the slash leads to the UI.
    let bare = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = bare.get(app.url("/docs")).send().await.unwrap();
    assert!(response.status().is_redirection(), "{}", response.status());
    assert!(
        header(&response, "location")
            .unwrap_or_default()
            .ends_with("/docs/")
    );
});

db_test!(the_openapi_document_is_served, |app| {
    let doc = json_of(
        app.client
            .get(app.url("/openapi.json"))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")),
        "{}",
        doc["openapi"]
    );
    for path in ["/v1/auth/token", "/v1/me", "/v1/users", "/v1/api-keys"] {
        assert!(doc["paths"][path].is_object(), "{path} is not documented");
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
});

db_test!(
    concurrent_retries_with_one_idempotency_key_create_one_user,
    |app| {
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..6 {
            let request = app
                .request(Method::POST, "/v1/users")
                .header("idempotency-key", "burst-key")
                .json(&new_user("burst@rapport.test", "agent"));
            tasks.spawn(async move { request.send().await.unwrap().status() });
        }
        let statuses: Vec<StatusCode> = tasks.join_all().await;
        assert!(statuses.contains(&StatusCode::CREATED), "{statuses:?}");
        // The rest are replays (201) or "still in progress" (409), never a second user or a 5xx.
        assert!(
            statuses
                .iter()
                .all(|s| *s == StatusCode::CREATED || *s == StatusCode::CONFLICT),
            "{statuses:?}"
        );
        let users = json_of(app.get("/v1/users").await, StatusCode::OK).await;
        let count = users["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|u| u["email"] == "burst@rapport.test")
            .count();
        assert_eq!(count, 1, "{users}");
    }
);
