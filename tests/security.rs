//! The boundary against a hostile client: scopes, spreadsheet-safe exports,
//! headers. (Issue 11; more of its attacks land here as they are closed.)

mod common;
#[path = "security/erasure.rs"]
mod erasure;
#[path = "security/idempotency.rs"]
mod idempotency;
#[path = "security/limits.rs"]
mod limits;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn contact_id(app: &TestApp, body: serde_json::Value) -> String {
    json_of(app.post("/v1/contacts", &body).await, StatusCode::CREATED).await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

db_test!(a_write_key_cannot_reach_what_only_managers_do, |app| {
    let target = contact_id(
        &app,
        json!({"first_name": "Jane", "email": "jane@acme.example"}),
    )
    .await;
    let write = app.api_key(&["contacts:write", "loyalty:write"]).await;
    let manage = app.api_key(&["contacts:manage"]).await;
    for (method, path) in [
        (Method::GET, format!("/v1/contacts/{target}/export")),
        (Method::POST, format!("/v1/contacts/{target}/erase")),
        (Method::DELETE, format!("/v1/contacts/{target}")),
    ] {
        let refused = app
            .request_as(&write, method.clone(), &path)
            .send()
            .await
            .unwrap();
        let p = problem(refused, StatusCode::FORBIDDEN).await;
        assert!(
            p["detail"].as_str().unwrap().contains("contacts:manage"),
            "{p}"
        );
    }
    json_of(
        app.post("/v1/loyalty/members", &json!({"contact_id": target}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let adjust = app
        .request_as(
            &write,
            Method::POST,
            &format!("/v1/loyalty/members/{target}/adjust"),
        )
        .header("Idempotency-Key", "adjust-1")
        .json(&json!({"points": 1_000_000_000, "reason": "mint"}))
        .send()
        .await
        .unwrap();
    problem(adjust, StatusCode::FORBIDDEN).await;
    // manage implies write and read.
    let exported = app
        .request_as(
            &manage,
            Method::GET,
            &format!("/v1/contacts/{target}/export"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(exported.status(), StatusCode::OK);
    let read = app
        .request_as(&manage, Method::GET, "/v1/contacts")
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), StatusCode::OK);
});

db_test!(
    a_csv_export_cannot_carry_a_formula_and_still_imports_back,
    |app| {
        contact_id(
        &app,
        json!({"first_name": "=HYPERLINK(\"http://evil.example\")", "last_name": "@SUM(A1)", "email": "f@acme.example", "phone": "+4930123456"}),
    )
    .await;
        let csv = app
            .get("/v1/contacts/export?format=csv")
            .await
            .text()
            .await
            .unwrap();
        assert!(csv.contains("'=HYPERLINK"), "{csv}");
        assert!(csv.contains("'@SUM(A1)"), "{csv}");
        assert!(
            !csv.lines().skip(1).any(|l| l
                .split(',')
                .any(|cell| cell.starts_with(['=', '+', '-', '@']))),
            "{csv}"
        );
        let reimported = app
            .request(Method::POST, "/v1/contacts/import")
            .header("content-type", "text/csv")
            .body(csv)
            .send()
            .await
            .unwrap();
        json_of(reimported, StatusCode::OK).await;
        let listed = json_of(app.get("/v1/contacts").await, StatusCode::OK).await;
        assert_eq!(
            listed["data"][0]["first_name"],
            "=HYPERLINK(\"http://evil.example\")"
        );
        assert_eq!(listed["data"][0]["phone"], "+4930123456");
    }
);

db_test!(
    responses_are_not_sniffed_and_api_answers_are_never_cached,
    |app| {
        for path in ["/v1/me", "/v1/contacts", "/healthz", "/no/such/path"] {
            let response = app.get(path).await;
            assert_eq!(
                header(&response, "x-content-type-options").as_deref(),
                Some("nosniff"),
                "{path}"
            );
            if path.starts_with("/v1/") {
                assert_eq!(
                    header(&response, "cache-control").as_deref(),
                    Some("no-store"),
                    "{path}"
                );
            }
        }
        let token = app
            .client
            .post(app.url("/v1/auth/token"))
            .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(header(&token, "cache-control").as_deref(), Some("no-store"));
    }
);

db_test!(metrics_labels_do_not_grow_with_invented_methods, |app| {
    for verb in ["BREW", "WHEN", "LOOK"] {
        app.client
            .request(
                Method::from_bytes(verb.as_bytes()).unwrap(),
                app.url("/v1/me"),
            )
            .send()
            .await
            .unwrap();
    }
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !metrics.contains("BREW"),
        "an invented method became a label"
    );
    assert!(metrics.contains("method=\"other\""));
});

db_test!(
    viewers_search_names_but_not_the_emails_they_see_masked,
    |app| {
        contact_id(
            &app,
            json!({"first_name": "Jane", "last_name": "Roe", "email": "jane.roe@acme.example"}),
        )
        .await;
        let viewer = app.token_for("viewer").await;
        let search = |q: &'static str| {
            let request = app.request_as(
                &viewer,
                Method::GET,
                &format!("/v1/contacts?q={q}&include_total=true"),
            );
            async move { json_of(request.send().await.unwrap(), StatusCode::OK).await }
        };
        assert_eq!(
            search("jane.r").await["total"],
            0,
            "an email prefix finds nothing for a viewer"
        );
        assert_eq!(search("roe").await["total"], 1, "names are still found");
        let admin = json_of(
            app.get("/v1/contacts?q=jane.r&include_total=true").await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(admin["total"], 1);
        let export = app
            .request_as(
                &viewer,
                Method::GET,
                "/v1/contacts/export?format=ndjson&q=jane.r",
            )
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(export.trim(), "", "{export}");
    }
);

db_test!(a_cursor_reveals_nothing_of_the_row_it_follows, |app| {
    // An email-only contact sorts by its address.
    contact_id(&app, json!({"email": "aaa.secret0@acme.example"})).await;
    contact_id(&app, json!({"first_name": "Zed"})).await;
    let viewer = app.token_for("viewer").await;
    let page = json_of(
        app.request_as(&viewer, Method::GET, "/v1/contacts?sort=name&limit=1")
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(page["data"][0]["email"], "a***@acme.example");
    let cursor = page["next_cursor"].as_str().unwrap();
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .unwrap();
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        !text.contains("secret0") && !text.contains("acme"),
        "{text}"
    );
    // It still pages, and a tampered one is refused.
    let next = json_of(
        app.request_as(
            &viewer,
            Method::GET,
            &format!("/v1/contacts?sort=name&limit=1&cursor={cursor}"),
        )
        .send()
        .await
        .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(next["data"][0]["first_name"], "Zed");
    let mut forged = cursor.to_string();
    forged.replace_range(10..11, if &cursor[10..11] == "A" { "B" } else { "A" });
    let refused = app
        .request_as(
            &viewer,
            Method::GET,
            &format!("/v1/contacts?sort=name&limit=1&cursor={forged}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
});

db_test!(an_erased_contact_takes_no_part_in_a_merge, |app| {
    let erased = contact_id(
        &app,
        json!({"first_name": "Gone", "email": "gone@acme.example"}),
    )
    .await;
    let other = contact_id(
        &app,
        json!({"first_name": "Dup", "email": "dup@acme.example"}),
    )
    .await;
    json_of(
        app.post(&format!("/v1/contacts/{erased}/erase"), &json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    for (survivor, duplicate) in [(&erased, &other), (&other, &erased)] {
        let p = problem(
            app.post(
                &format!("/v1/contacts/{survivor}/merge"),
                &json!({"duplicate_id": duplicate}),
            )
            .await,
            StatusCode::CONFLICT,
        )
        .await;
        assert_eq!(p["erased_id"], erased.as_str());
    }
    let kept = json_of(
        app.get(&format!("/v1/contacts/{erased}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(kept["email"], serde_json::Value::Null);
    json_of(
        app.get(&format!("/v1/contacts/{other}")).await,
        StatusCode::OK,
    )
    .await;
});

/// A user with `role` and a token for them: (id, token).
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

db_test!(consent_cannot_be_backdated_to_rewrite_history, |app| {
    let id = contact_id(&app, json!({"first_name": "Pat"})).await;
    let put = |consent: serde_json::Value| {
        let request = app
            .request(Method::PUT, &format!("/v1/contacts/{id}/preferences"))
            .json(&json!({"consents": [consent]}));
        async move { request.send().await.unwrap() }
    };
    let statement = |granted: bool, at: String| {
        json!({"channel_kind": "email", "purpose": "marketing", "granted": granted,
               "source": "web_form", "recorded_at": at})
    };
    let p = problem(
        put(statement(true, app.days_from_now(-31.0))).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "too_old");
    json_of(
        put(statement(true, app.days_from_now(-29.0))).await,
        StatusCode::OK,
    )
    .await;
});

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

db_test!(
    the_audit_log_shows_only_the_areas_a_caller_may_read,
    |app| {
        let id = contact_id(&app, json!({"first_name": "Kim"})).await;
        json_of(
            app.post(
                "/v1/feedback",
                &json!({"kind": "complaint", "contact_id": id, "text": "private words"}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let key = app.api_key(&["audit:read", "contacts:read"]).await;
        let read = |path: &'static str| {
            let request = app.request_as(&key, Method::GET, path);
            async move { request.send().await.unwrap() }
        };
        let all = json_of(read("/v1/audit-events").await, StatusCode::OK).await;
        let types: Vec<&str> = all["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["entity_type"].as_str().unwrap())
            .collect();
        assert!(types.contains(&"contact"), "{types:?}");
        assert!(!types.contains(&"feedback"), "{types:?}");
        assert!(!all.to_string().contains("private words"));
        problem(
            read("/v1/audit-events?entity_type=feedback").await,
            StatusCode::FORBIDDEN,
        )
        .await;
        problem(
            read("/v1/audit-events?entity_type=nonsense").await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        // The admin sees both.
        let admin = json_of(
            app.get("/v1/audit-events?entity_type=feedback").await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(admin["data"].as_array().unwrap().len(), 1);
    }
);

db_test!(expanding_accounts_needs_the_accounts_scope, |app| {
    let key = app.api_key(&["contacts:read"]).await;
    let response = app
        .request_as(&key, Method::GET, "/v1/contacts?expand=account")
        .send()
        .await
        .unwrap();
    let p = problem(response, StatusCode::FORBIDDEN).await;
    assert!(
        p["detail"].as_str().unwrap().contains("accounts:read"),
        "{p}"
    );
    let both = app.api_key(&["contacts:read", "accounts:read"]).await;
    let ok = app
        .request_as(&both, Method::GET, "/v1/contacts?expand=account")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
});
