use std::collections::HashSet;

use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

db_test!(a_contact_is_stored_normalised, |app| {
    let response = app
        .post("/v1/contacts", &json!({"first_name": " Mei ", "last_name": "Chen", "email": "Mei.Chen@ACME.example",
            "phone": "138 1234 5678", "country": "cn", "language": "zh-cn", "time_zone": "Asia/Shanghai",
            "custom_fields": {"legacy_id": 42}}))
        .await;
    assert_eq!(response.headers()["etag"], "\"1\"");
    let c = json_of(response, StatusCode::CREATED).await;
    assert_eq!(c["first_name"], "Mei");
    assert_eq!(c["email"], "mei.chen@acme.example");
    assert_eq!(c["phone"], "+8613812345678");
    assert_eq!(c["country"], "CN");
    assert_eq!(c["language"], "zh-CN");
    assert_eq!(c["lifecycle_stage"], "lead");
    assert_eq!(c["custom_fields"], json!({"legacy_id": 42}));
});

db_test!(
    invalid_contact_fields_are_all_reported_and_nothing_is_written,
    |app| {
        let body = problem(app.post("/v1/contacts", &json!({"first_name": "A", "email": "not-an-email", "country": "ZZ",
        "time_zone": "Mars/Olympus", "language": "123", "account_id": "01937c61-0000-7000-8000-0000000000a1"})).await,
        StatusCode::UNPROCESSABLE_ENTITY).await;
        let fields: Vec<&str> = body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, vec!["country", "email", "language", "time_zone"]);
        let body = problem(
            app.post(
                "/v1/contacts",
                &json!({"first_name": "A", "account_id": "01937c61-0000-7000-8000-0000000000a1"}),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(body["errors"][0]["field"], "account_id");
        problem(
            app.post("/v1/contacts", &json!({"title": "CTO"})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        problem(
            app.post(
                "/v1/contacts",
                &json!({"first_name": "A", "emial": "a@b.example"}),
            )
            .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        let list = json_of(
            app.get("/v1/contacts?include_total=true").await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(list["total"], 0);
        let audit = json_of(
            app.get("/v1/audit-events?entity_type=contact").await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(audit["data"].as_array().unwrap().len(), 0);
    }
);

// A create is one statement with its tags, audit entry and event (and the
// idempotency key): a duplicate email refuses all of it, keyed or not.
db_test!(
    a_create_refused_for_a_duplicate_email_writes_no_tags_audit_entry_or_event,
    |app| {
        let first = created(
            &app,
            "/v1/contacts",
            json!({"first_name": "Ana", "email": "ana@acme.example", "tags": ["kept"]}),
        )
        .await;
        let duplicate =
            json!({"first_name": "Ana B", "email": "ana@acme.example", "tags": ["refused"]});
        let body = problem(
            app.post("/v1/contacts", &duplicate).await,
            StatusCode::CONFLICT,
        )
        .await;
        assert_eq!(body["existing_id"], first["id"]);
        let keyed = || {
            app.request(Method::POST, "/v1/contacts")
                .header("idempotency-key", "duplicate-ana")
                .json(&duplicate)
                .send()
        };
        let body = problem(keyed().await.unwrap(), StatusCode::CONFLICT).await;
        assert_eq!(body["existing_id"], first["id"]);
        let again = keyed().await.unwrap();
        assert_eq!(
            header(&again, "idempotent-replayed").as_deref(),
            Some("true")
        );
        problem(again, StatusCode::CONFLICT).await;

        let tagged = json_of(app.get("/v1/contacts?tag=refused").await, StatusCode::OK).await;
        assert_eq!(tagged["data"].as_array().unwrap().len(), 0);
        let audit = json_of(
            app.get("/v1/audit-events?entity_type=contact").await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(audit["data"].as_array().unwrap().len(), 1, "{audit}");
        // The feed is in commit order: once a contact created after the refusals
        // shows, anything they had committed would show before it.
        let marker = created(&app, "/v1/contacts", json!({"first_name": "Zed"})).await;
        let (events, _) =
            crate::events::read_feed(&app, &app.admin_token, "contact.created", 2).await;
        let ids: Vec<&Value> = events.iter().map(|e| &e["data"]["id"]).collect();
        assert_eq!(ids, [&first["id"], &marker["id"]], "{events:?}");
    }
);

db_test!(
    a_second_contact_with_the_same_email_is_a_conflict_naming_the_first,
    |app| {
        let first = created(
            &app,
            "/v1/contacts",
            json!({"first_name": "Ana", "email": "ana@acme.example"}),
        )
        .await;
        let body = problem(
            app.post(
                "/v1/contacts",
                &json!({"first_name": "Ana B", "email": "ANA@acme.example"}),
            )
            .await,
            StatusCode::CONFLICT,
        )
        .await;
        assert_eq!(body["existing_id"], first["id"]);
        let other = created(
            &app,
            "/v1/contacts",
            json!({"first_name": "Bo", "email": "bo@acme.example"}),
        )
        .await;
        let body = problem(
            app.patch(
                &format!("/v1/contacts/{}", id(&other)),
                &json!({"email": "ana@acme.example"}),
            )
            .await,
            StatusCode::CONFLICT,
        )
        .await;
        assert_eq!(body["existing_id"], first["id"]);
        assert_eq!(
            app.delete(&format!("/v1/contacts/{}", id(&first)))
                .await
                .status(),
            StatusCode::NO_CONTENT
        );
        created(
            &app,
            "/v1/contacts",
            json!({"first_name": "Ana again", "email": "ana@acme.example"}),
        )
        .await;
    }
);

db_test!(
    one_hundred_and_twenty_contacts_page_by_fifty_into_three_pages,
    |app| {
        for i in 0..120 {
            created(&app, "/v1/contacts", json!({"first_name": format!("P{i:03}"), "last_name": format!("L{}", 119 - i), "tags": if i % 2 == 0 { json!(["even"]) } else { json!([]) }})).await;
        }
        for sort in ["created_at", "-created_at", "name", "-name", "updated_at"] {
            let mut seen = HashSet::new();
            let mut pages = 0;
            let mut cursor: Option<String> = None;
            let mut previous_key: Option<String> = None;
            loop {
                let path = match &cursor {
                    Some(c) => format!("/v1/contacts?limit=50&sort={sort}&cursor={c}"),
                    None => format!("/v1/contacts?limit=50&sort={sort}&include_total=true"),
                };
                let page = json_of(app.get(&path).await, StatusCode::OK).await;
                pages += 1;
                for c in page["data"].as_array().unwrap() {
                    assert!(seen.insert(id(c)), "{} repeated with sort={sort}", id(c));
                    if sort.ends_with("name") {
                        let key = format!(
                            "{} {}",
                            c["last_name"].as_str().unwrap().to_lowercase(),
                            c["first_name"].as_str().unwrap().to_lowercase()
                        );
                        if let Some(prev) = &previous_key {
                            assert!(
                                if sort.starts_with('-') {
                                    *prev >= key
                                } else {
                                    *prev <= key
                                },
                                "out of order with sort={sort}"
                            );
                        }
                        previous_key = Some(key);
                    }
                }
                if pages == 1 {
                    assert_eq!(page["total"], 120);
                }
                match page["next_cursor"].as_str() {
                    Some(c) => cursor = Some(c.to_string()),
                    None => break,
                }
            }
            assert_eq!(pages, 3, "sort={sort}");
            assert_eq!(seen.len(), 120, "sort={sort}");
        }
        let even = json_of(
            app.get("/v1/contacts?tag=even&limit=200&include_total=true")
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(even["total"], 60);
        problem(
            app.get("/v1/contacts?limit=201").await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        problem(
            app.get("/v1/contacts?cursor=garbage").await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        let first = json_of(app.get("/v1/contacts?limit=50").await, StatusCode::OK).await;
        let cursor = first["next_cursor"].as_str().unwrap();
        problem(
            app.get(&format!("/v1/contacts?sort=name&cursor={cursor}"))
                .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
);

db_test!(contacts_filter_by_account_attributes_and_search, |app| {
    let high = json_of(app.post("/v1/accounts", &json!({"name": "High", "value_tier": "high", "key_account": true, "employee_count": 2000})).await, StatusCode::CREATED).await;
    let low = json_of(
        app.post(
            "/v1/accounts",
            &json!({"name": "Low", "value_tier": "low", "employee_count": 10}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    created(&app, "/v1/contacts", json!({"first_name": "Mei", "last_name": "Chen", "email": "mei@high.example", "account_id": id(&high), "lifecycle_stage": "customer", "country": "CN"})).await;
    created(&app, "/v1/contacts", json!({"first_name": "Hans", "last_name": "Meier", "email": "hans@low.example", "account_id": id(&low), "country": "DE"})).await;
    let before = app.now();
    created(
        &app,
        "/v1/contacts",
        json!({"first_name": "Zoe", "email": "zoe@nowhere.example"}),
    )
    .await;
    let names = |v: Value| {
        let mut n: Vec<String> = v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["first_name"].as_str().unwrap().to_string())
            .collect();
        n.sort();
        n
    };
    assert_eq!(
        names(
            json_of(
                app.get("/v1/contacts?value_tier=high").await,
                StatusCode::OK
            )
            .await
        ),
        ["Mei"]
    );
    assert_eq!(
        names(
            json_of(
                app.get("/v1/contacts?key_account=true").await,
                StatusCode::OK
            )
            .await
        ),
        ["Mei"]
    );
    assert_eq!(
        names(
            json_of(
                app.get("/v1/contacts?size_segment=small").await,
                StatusCode::OK
            )
            .await
        ),
        ["Hans"]
    );
    assert_eq!(
        names(
            json_of(
                app.get("/v1/contacts?lifecycle_stage=customer").await,
                StatusCode::OK
            )
            .await
        ),
        ["Mei"]
    );
    assert_eq!(
        names(json_of(app.get("/v1/contacts?country=de").await, StatusCode::OK).await),
        ["Hans"]
    );
    assert_eq!(
        names(
            json_of(
                app.get(&format!("/v1/contacts?account_id={}", id(&low)))
                    .await,
                StatusCode::OK
            )
            .await
        ),
        ["Hans"]
    );
    assert_eq!(
        names(json_of(app.get("/v1/contacts?q=mei").await, StatusCode::OK).await),
        ["Hans", "Mei"]
    );
    assert_eq!(
        names(json_of(app.get("/v1/contacts?q=chen%20mei").await, StatusCode::OK).await),
        ["Mei"]
    );
    assert_eq!(
        names(json_of(app.get("/v1/contacts?q=mei%20chen").await, StatusCode::OK).await),
        ["Mei"]
    );
    assert_eq!(
        names(json_of(app.get("/v1/contacts?q=zoe@").await, StatusCode::OK).await),
        ["Zoe"]
    );
    assert_eq!(
        names(json_of(app.get("/v1/contacts?q=%25").await, StatusCode::OK).await),
        Vec::<String>::new()
    );
    let since = before
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
        .replace('+', "%2B");
    assert_eq!(
        names(
            json_of(
                app.get(&format!("/v1/contacts?updated_since={since}"))
                    .await,
                StatusCode::OK
            )
            .await
        ),
        ["Zoe"]
    );
    let expanded = json_of(
        app.get("/v1/contacts?expand=account&value_tier=high").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(expanded["data"][0]["account"]["name"], "High");
    let plain = json_of(
        app.get("/v1/contacts?value_tier=high").await,
        StatusCode::OK,
    )
    .await;
    assert!(plain["data"][0].get("account").is_none());
    problem(
        app.get("/v1/contacts?expand=owner").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
});

db_test!(
    concurrent_patches_with_the_same_if_match_let_exactly_one_through,
    |app| {
        let c = created(&app, "/v1/contacts", json!({"first_name": "Race"})).await;
        let path = format!("/v1/contacts/{}", id(&c));
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..8 {
            let request = app
                .request(Method::PATCH, &path)
                .header("if-match", "\"1\"")
                .json(&json!({"title": format!("T{i}")}));
            tasks.spawn(async move { request.send().await.unwrap().status() });
        }
        let statuses: Vec<StatusCode> = tasks.join_all().await;
        assert_eq!(
            statuses.iter().filter(|s| **s == StatusCode::OK).count(),
            1,
            "{statuses:?}"
        );
        assert_eq!(
            statuses
                .iter()
                .filter(|s| **s == StatusCode::PRECONDITION_FAILED)
                .count(),
            7,
            "{statuses:?}"
        );
        let now = json_of(app.get(&path).await, StatusCode::OK).await;
        assert_eq!(now["version"], 2);
    }
);

db_test!(viewers_see_masked_personal_data_and_cannot_write, |app| {
    let c = created(
        &app,
        "/v1/contacts",
        json!({"first_name": "Pat", "email": "pat@acme.example", "phone": "+8613812345678"}),
    )
    .await;
    let viewer = app.token_for("viewer").await;
    let seen = json_of(
        app.request_as(&viewer, Method::GET, &format!("/v1/contacts/{}", id(&c)))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(seen["email"], "p***@acme.example");
    assert_eq!(seen["phone"], "+86 138****5678");
    let listed = json_of(
        app.request_as(&viewer, Method::GET, "/v1/contacts")
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(listed["data"][0]["email"], "p***@acme.example");
    let exported = app
        .request_as(&viewer, Method::GET, "/v1/contacts/export?format=ndjson")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(exported.contains("p***@acme.example") && !exported.contains("pat@acme.example"));
    problem(
        app.request_as(&viewer, Method::POST, "/v1/contacts")
            .json(&json!({"first_name": "X"}))
            .send()
            .await
            .unwrap(),
        StatusCode::FORBIDDEN,
    )
    .await;
    problem(
        app.request_as(&viewer, Method::PATCH, &format!("/v1/contacts/{}", id(&c)))
            .json(&json!({"title": "X"}))
            .send()
            .await
            .unwrap(),
        StatusCode::FORBIDDEN,
    )
    .await;
    let agent = app.token_for("agent").await;
    let unmasked = json_of(
        app.request_as(&agent, Method::GET, &format!("/v1/contacts/{}", id(&c)))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(unmasked["email"], "pat@acme.example");
    for (method, path) in [
        (Method::DELETE, format!("/v1/contacts/{}", id(&c))),
        (Method::POST, format!("/v1/contacts/{}/erase", id(&c))),
        (Method::GET, format!("/v1/contacts/{}/export", id(&c))),
    ] {
        problem(
            app.request_as(&agent, method, &path).send().await.unwrap(),
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    let manager = app.token_for("manager").await;
    assert_eq!(
        app.request_as(
            &manager,
            Method::DELETE,
            &format!("/v1/contacts/{}", id(&c))
        )
        .send()
        .await
        .unwrap()
        .status(),
        StatusCode::NO_CONTENT
    );
});
