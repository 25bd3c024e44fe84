//! The boundary against a hostile client (issue 11), one test per attack:
//! here scopes, spreadsheet-safe exports, headers, masking and consent; in
//! `security/` revocation, areas, rate limits, idempotency and erasure.

mod areas;
mod erasure;
mod idempotency;
mod limits;
mod revocation;

use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

pub async fn contact_id(app: &TestApp, body: serde_json::Value) -> String {
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
