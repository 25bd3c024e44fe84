//! HTTP conventions every endpoint shares: problem+json errors, content types,
//! body limits, 404/405, request ids, CORS, idempotency keys, and the
//! operations endpoints and docs.

use crate::common::*;
use reqwest::{Method, Response, StatusCode};
use serde_json::json;

const ALLOWED_ORIGIN: &str = "https://app.rapport.test";

fn request_id(response: &Response) -> String {
    header(response, "x-request-id").unwrap_or_else(|| {
        panic!(
            "no X-Request-Id on {} {}",
            response.status(),
            response.url()
        )
    })
}

// ---- Bodies ----

db_test!(malformed_json_is_a_400_problem, |app| {
    let response = app
        .request(Method::POST, "/v1/users")
        .header("content-type", "application/json")
        .body(r#"{"email": "a@b.test", "#)
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::BAD_REQUEST).await;
    let response = app
        .request(Method::POST, "/v1/auth/token")
        .header("content-type", "application/json")
        .body("not json at all")
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::BAD_REQUEST).await;
});

db_test!(a_body_of_the_wrong_json_shape_is_a_400_problem, |app| {
    for body in [
        json!([1, 2, 3]),
        json!({"email": 42, "password": true}),
        json!("text"),
    ] {
        problem(
            app.post("/v1/auth/token", &body).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
});

db_test!(a_body_that_is_not_json_is_a_415_problem, |app| {
    let body = new_user("form@rapport.test", "agent").to_string();
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        let mut request = app.request(Method::POST, "/v1/users").body(body.clone());
        if let Some(ct) = content_type {
            request = request.header("content-type", ct);
        }
        problem(
            request.send().await.unwrap(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        )
        .await;
    }
    assert_eq!(
        app.client
            .post(app.url("/v1/auth/token"))
            .json(&json!({"email": "form@rapport.test", "password": USER_PASSWORD}))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED,
        "no user was created"
    );
});

db_test!(a_json_content_type_with_a_charset_is_accepted, |app| {
    let response = app
        .request(Method::POST, "/v1/users")
        .header("content-type", "application/json; charset=utf-8")
        .body(new_user("charset@rapport.test", "agent").to_string())
        .send()
        .await
        .unwrap();
    json_of(response, StatusCode::CREATED).await;
});

db_test!(a_body_over_one_mebibyte_is_a_413_problem, |app| {
    let padding = "x".repeat(1024 * 1024 + 1);
    let body = json!({"email": "big@rapport.test", "display_name": padding, "role": "agent", "password": USER_PASSWORD});
    let response = app.post("/v1/users", &body).await;
    problem(response, StatusCode::PAYLOAD_TOO_LARGE).await;
});

db_test!(
    a_body_over_one_mebibyte_is_a_413_problem_with_an_idempotency_key_too,
    |app| {
        let padding = "x".repeat(1024 * 1024 + 1);
        let body = json!({"email": "big@rapport.test", "display_name": padding, "role": "agent", "password": USER_PASSWORD});
        let response = app
            .request(Method::POST, "/v1/users")
            .header("idempotency-key", "big-1")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            header(&response, "x-request-id").is_some(),
            "{:?}",
            response.headers()
        );
        problem(response, StatusCode::PAYLOAD_TOO_LARGE).await;
    }
);

db_test!(a_chunked_body_over_one_mebibyte_is_a_413_problem, |app| {
    // No Content-Length: the limit must hold while the body streams in.
    let addr = app.base.trim_start_matches("http://").to_string();
    let token = app.admin_token.clone();
    let head = tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(&addr).unwrap();
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(20)))
            .unwrap();
        let request = format!(
            "POST /v1/users HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        );
        let _ = stream.write_all(request.as_bytes());
        let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, " ".repeat(64 * 1024));
        // The server may answer and close before reading it all; that is fine.
        for _ in 0..20 {
            if stream.write_all(chunk.as_bytes()).is_err() {
                break;
            }
        }
        let _ = stream.write_all(b"0\r\n\r\n");
        let mut response = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = stream.read(&mut buf) {
            if n == 0 {
                break;
            }
            response.extend_from_slice(&buf[..n]);
            if response.windows(4).any(|w| w == b"\r\n\r\n") {
                break;
            }
        }
        String::from_utf8_lossy(&response).to_string()
    })
    .await
    .unwrap();
    assert!(head.starts_with("HTTP/1.1 413"), "{head}");
    assert!(
        head.to_lowercase()
            .contains("content-type: application/problem+json"),
        "{head}"
    );
});

db_test!(a_body_just_under_the_limit_is_read, |app| {
    // 1 MiB minus a little: the request is parsed and then fails validation, not the size check.
    let padding = "x".repeat(1024 * 1024 - 200);
    let body = json!({"email": "big@rapport.test", "display_name": padding, "role": "agent", "password": USER_PASSWORD});
    problem(
        app.post("/v1/users", &body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
});

// ---- Unmatched routes ----

db_test!(an_unknown_path_is_a_404_problem, |app| {
    for path in ["/v1/nothing-here", "/nothing", "/v1/users/123/extra"] {
        let body = problem(app.get(path).await, StatusCode::NOT_FOUND).await;
        assert!(body["detail"].as_str().unwrap().contains(path), "{body}");
    }
    // Unauthenticated callers get the same 404.
    problem(
        app.client
            .get(app.url("/v1/nothing-here"))
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
});

db_test!(a_wrong_method_on_a_known_path_is_a_405_with_allow, |app| {
    let response = app
        .request(Method::PUT, "/v1/users")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let allow = header(&response, "allow").expect("Allow header");
    problem(response, StatusCode::METHOD_NOT_ALLOWED).await;
    let methods: Vec<&str> = allow.split(',').map(str::trim).collect();
    assert!(
        methods.contains(&"GET") && methods.contains(&"POST"),
        "Allow: {allow}"
    );
    assert!(
        !methods.contains(&"PUT") && !methods.contains(&"DELETE"),
        "Allow: {allow}"
    );

    let user = app.create_user("agent").await;
    let response = app
        .request(Method::POST, &format!("/v1/users/{}", id(&user)))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let allow = header(&response, "allow").expect("Allow header");
    problem(response, StatusCode::METHOD_NOT_ALLOWED).await;
    for m in ["GET", "PATCH", "DELETE"] {
        assert!(allow.contains(m), "Allow: {allow}");
    }

    let response = app.request(Method::DELETE, "/v1/me").send().await.unwrap();
    let allow = header(&response, "allow").expect("Allow header");
    problem(response, StatusCode::METHOD_NOT_ALLOWED).await;
    assert!(
        allow.contains("GET") && !allow.contains("DELETE"),
        "Allow: {allow}"
    );
});

db_test!(every_method_the_allow_header_lists_is_accepted, |app| {
    let user = app.create_user("agent").await;
    for path in [
        "/v1/me".to_string(),
        "/v1/users".to_string(),
        format!("/v1/users/{}", id(&user)),
    ] {
        let response = app.request(Method::PUT, &path).send().await.unwrap();
        let allow = header(&response, "allow").expect("Allow header");
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        for method in allow.split(',').map(str::trim) {
            let method = Method::from_bytes(method.as_bytes()).unwrap();
            let response = app
                .request(method.clone(), &path)
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            assert_ne!(
                response.status(),
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path} is listed in Allow: {allow}"
            );
        }
    }
});

// ---- Request ids ----

db_test!(every_response_carries_a_request_id, |app| {
    let mut responses = vec![
        app.get("/v1/me").await,                                     // 200
        app.client.get(app.url("/healthz")).send().await.unwrap(),   // 200, public
        app.client.get(app.url("/v1/me")).send().await.unwrap(),     // 401
        app.get("/v1/nothing-here").await,                           // 404
        app.request(Method::PUT, "/v1/users").send().await.unwrap(), // 405
        app.post("/v1/users", &json!({"bogus": 1})).await,           // 400
        app.post("/v1/users", &new_user("not-an-email", "agent"))
            .await, // 422
        app.request(Method::POST, "/v1/users")
            .body("x")
            .send()
            .await
            .unwrap(), // 415
        app.client.get(app.url("/docs/")).send().await.unwrap(),     // docs
    ];
    let token = app.token_for("viewer").await;
    responses.push(
        app.request_as(&token, Method::GET, "/v1/users")
            .send()
            .await
            .unwrap(),
    ); // 403
    responses.push(
        app.post("/v1/users", &new_user("rid@rapport.test", "agent"))
            .await,
    ); // 201
    let mut ids = Vec::new();
    for response in &responses {
        let id = request_id(response);
        assert!(!id.is_empty());
        ids.push(id);
    }
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "request ids repeat: {ids:?}");
});

db_test!(a_sent_request_id_is_echoed, |app| {
    let response = app
        .request(Method::GET, "/v1/me")
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(request_id(&response), "abc-123");
    let response = app
        .client
        .get(app.url("/v1/nothing"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(request_id(&response), "abc-123");
    let response = app
        .client
        .post(app.url("/v1/auth/token"))
        .header("x-request-id", "abc-123")
        .json(&json!({"email": ADMIN_EMAIL, "password": "wrong-password-here"}))
        .send()
        .await
        .unwrap();
    assert_eq!(request_id(&response), "abc-123");
});

db_test!(an_unreasonable_request_id_is_replaced, |app| {
    let long = "a".repeat(500);
    let response = app
        .request(Method::GET, "/v1/me")
        .header("x-request-id", &long)
        .send()
        .await
        .unwrap();
    let id = request_id(&response);
    assert!(!id.is_empty() && id != long);
});

db_test!(the_request_id_lands_in_the_audit_log, |app| {
    let response = app
        .request(Method::POST, "/v1/users")
        .header("x-request-id", "audit-trace-42")
        .json(&new_user("traced@rapport.test", "agent"))
        .send()
        .await
        .unwrap();
    let user = json_of(response, StatusCode::CREATED).await;
    let events = json_of(app.get("/v1/audit-events").await, StatusCode::OK).await;
    let event = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["entity_id"] == user["id"])
        .unwrap_or_else(|| panic!("no audit event for the user: {events}"))
        .clone();
    assert_eq!(event["request_id"], "audit-trace-42", "{event}");
});

// ---- CORS ----

db_test!(a_preflight_from_an_allowed_origin_is_answered, |app| {
    let response = app
        .client
        .request(Method::OPTIONS, app.url("/v1/users"))
        .header("origin", ALLOWED_ORIGIN)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type, idempotency-key, if-match",
        )
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "preflight answered {}",
        response.status()
    );
    assert_eq!(
        header(&response, "access-control-allow-origin").as_deref(),
        Some(ALLOWED_ORIGIN)
    );
    let methods = header(&response, "access-control-allow-methods").unwrap_or_default();
    assert!(
        methods.contains("POST") && methods.contains("PATCH"),
        "allow-methods: {methods}"
    );
    let headers = header(&response, "access-control-allow-headers")
        .unwrap_or_default()
        .to_lowercase();
    for h in [
        "authorization",
        "content-type",
        "idempotency-key",
        "if-match",
    ] {
        assert!(headers.contains(h), "allow-headers: {headers}");
    }
});

db_test!(a_disallowed_origin_gets_no_allow_origin_header, |app| {
    let preflight = app
        .client
        .request(Method::OPTIONS, app.url("/v1/users"))
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(
        header(&preflight, "access-control-allow-origin").is_none(),
        "{:?}",
        preflight.headers()
    );
    assert!(
        !preflight.status().is_server_error(),
        "{}",
        preflight.status()
    );
    let simple = app
        .request(Method::GET, "/v1/me")
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(
        header(&simple, "access-control-allow-origin").is_none(),
        "{:?}",
        simple.headers()
    );
    assert!(!simple.status().is_server_error(), "{}", simple.status());
});

db_test!(cors_responses_expose_the_headers_clients_need, |app| {
    let response = app
        .request(Method::POST, "/v1/users")
        .header("origin", ALLOWED_ORIGIN)
        .json(&new_user("cors@rapport.test", "agent"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(
        header(&response, "access-control-allow-origin").as_deref(),
        Some(ALLOWED_ORIGIN)
    );
    let exposed = header(&response, "access-control-expose-headers")
        .unwrap_or_default()
        .to_lowercase();
    for h in ["etag", "location", "x-request-id"] {
        assert!(
            exposed.split(',').any(|e| e.trim() == h),
            "{h} is not exposed: {exposed:?}"
        );
    }
});

// ---- Idempotency keys ----
