use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

db_test!(
    an_account_is_created_with_location_etag_and_derived_segment,
    |app| {
        let response = app
        .post("/v1/accounts", &json!({"name": "Acme Research", "employee_count": 420, "country": "de",
            "annual_revenue": 5_400_000_000i64, "currency": "eur", "tags": ["Pharma", "pharma", "EMEA"]}))
        .await;
        let location = response.headers()["location"].to_str().unwrap().to_string();
        let etag = response.headers()["etag"].to_str().unwrap().to_string();
        let account = json_of(response, StatusCode::CREATED).await;
        assert_eq!(location, format!("/v1/accounts/{}", id(&account)));
        assert_eq!(etag, "\"1\"");
        assert_eq!(account["size_segment"], "mid_market");
        assert_eq!(account["country"], "DE");
        assert_eq!(account["currency"], "EUR");
        assert_eq!(account["tags"], json!(["pharma", "emea"]));
        assert_eq!(account["key_account"], false);
        let fetched = json_of(app.get(&location).await, StatusCode::OK).await;
        assert_eq!(fetched, account);
    }
);

db_test!(
    an_explicit_segment_overrides_and_null_derives_again,
    |app| {
        let account = json_of(
            app.post(
                "/v1/accounts",
                &json!({"name": "Big", "employee_count": 5000, "size_segment": "small"}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(account["size_segment"], "small");
        let path = format!("/v1/accounts/{}", id(&account));
        let patched = json_of(
            app.patch(&path, &json!({"size_segment": null})).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(patched["size_segment"], "enterprise");
    }
);

db_test!(every_invalid_account_field_is_reported_at_once, |app| {
    let body = problem(
        app.post(
            "/v1/accounts",
            &json!({"name": "A", "country": "XX", "currency": "EURO",
        "employee_count": -5, "custom_fields": {"nested": {"no": 1}}}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    // The derived rules (the range of employee_count) and the parsed ones
    // (country, currency, custom_fields) are reported together.
    assert_eq!(
        fields,
        vec!["country", "currency", "custom_fields", "employee_count"]
    );
    let body = problem(
        app.post(
            "/v1/accounts",
            &json!({"name": "A", "country": "XX", "currency": "EURO",
        "custom_fields": {"nested": {"no": 1}}}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["country", "currency", "custom_fields"]);
    problem(
        app.post("/v1/accounts", &json!({"name": "A", "nmae": "typo"}))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    let list = json_of(
        app.get("/v1/accounts?include_total=true").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(list["total"], 0, "a refused write leaves nothing behind");
});

db_test!(a_merge_patch_changes_only_what_it_names, |app| {
    let account = json_of(
        app.post(
            "/v1/accounts",
            &json!({"name": "Acme", "industry": "Research", "value_tier": "high"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let path = format!("/v1/accounts/{}", id(&account));
    let response = app
        .patch(&path, &json!({"industry": null, "key_account": true}))
        .await;
    assert_eq!(response.headers()["etag"], "\"2\"");
    let patched = json_of(response, StatusCode::OK).await;
    assert_eq!(patched["industry"], Value::Null);
    assert_eq!(patched["key_account"], true);
    assert_eq!(patched["value_tier"], "high");
    assert_eq!(patched["version"], 2);
    problem(
        app.patch(&path, &json!({"name": null})).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    problem(
        app.patch(&path, &json!({"bogus": 1})).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
});

db_test!(a_stale_if_match_is_refused_with_412, |app| {
    let account = json_of(
        app.post("/v1/accounts", &json!({"name": "Acme"})).await,
        StatusCode::CREATED,
    )
    .await;
    let path = format!("/v1/accounts/{}", id(&account));
    json_of(
        app.request(Method::PATCH, &path)
            .header("if-match", "\"1\"")
            .json(&json!({"region": "North"}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let body = problem(
        app.request(Method::PATCH, &path)
            .header("if-match", "\"1\"")
            .json(&json!({"region": "South"}))
            .send()
            .await
            .unwrap(),
        StatusCode::PRECONDITION_FAILED,
    )
    .await;
    assert_eq!(body["current_etag"], "\"2\"");
    problem(
        app.request(Method::DELETE, &path)
            .header("if-match", "\"1\"")
            .send()
            .await
            .unwrap(),
        StatusCode::PRECONDITION_FAILED,
    )
    .await;
    let current = json_of(app.get(&path).await, StatusCode::OK).await;
    assert_eq!(current["region"], "North");
});

db_test!(an_account_with_contacts_cannot_be_deleted, |app| {
    let account = json_of(
        app.post("/v1/accounts", &json!({"name": "Acme"})).await,
        StatusCode::CREATED,
    )
    .await;
    let path = format!("/v1/accounts/{}", id(&account));
    for i in 0..2 {
        json_of(
            app.post(
                "/v1/contacts",
                &json!({"first_name": format!("P{i}"), "account_id": id(&account)}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
    }
    let body = problem(app.delete(&path).await, StatusCode::CONFLICT).await;
    assert_eq!(body["contact_count"], 2);
    assert!(body["detail"].as_str().unwrap().contains("2 contacts"));
    let contacts = json_of(app.get(&format!("{path}/contacts")).await, StatusCode::OK).await;
    assert_eq!(contacts["data"].as_array().unwrap().len(), 2);
    let empty = json_of(
        app.post("/v1/accounts", &json!({"name": "Empty"})).await,
        StatusCode::CREATED,
    )
    .await;
    let empty_path = format!("/v1/accounts/{}", id(&empty));
    assert_eq!(
        app.delete(&empty_path).await.status(),
        StatusCode::NO_CONTENT
    );
    problem(app.get(&empty_path).await, StatusCode::NOT_FOUND).await;
});

db_test!(accounts_filter_and_sort, |app| {
    for (name, tier, employees, tag) in [
        ("Gamma", "high", 5, "emea"),
        ("alpha", "low", 2000, "apac"),
        ("Beta", "high", 300, "emea"),
    ] {
        json_of(app.post("/v1/accounts", &json!({"name": name, "value_tier": tier, "employee_count": employees, "tags": [tag]})).await, StatusCode::CREATED).await;
    }
    let names = |v: Value| {
        v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(json_of(app.get("/v1/accounts?sort=name").await, StatusCode::OK).await),
        ["alpha", "Beta", "Gamma"]
    );
    assert_eq!(
        names(json_of(app.get("/v1/accounts?sort=-name").await, StatusCode::OK).await),
        ["Gamma", "Beta", "alpha"]
    );
    assert_eq!(
        names(
            json_of(
                app.get("/v1/accounts?value_tier=high&sort=name").await,
                StatusCode::OK
            )
            .await
        ),
        ["Beta", "Gamma"]
    );
    assert_eq!(
        names(
            json_of(
                app.get("/v1/accounts?tag=EMEA&size_segment=small").await,
                StatusCode::OK
            )
            .await
        ),
        ["Gamma"]
    );
    assert_eq!(
        names(json_of(app.get("/v1/accounts?q=be").await, StatusCode::OK).await),
        ["Beta"]
    );
    problem(
        app.get("/v1/accounts?sort=revenue").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    problem(
        app.get("/v1/accounts?value_tier=gold").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    problem(
        app.get("/v1/accounts?colour=red").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
});

db_test!(viewers_read_accounts_but_cannot_write_them, |app| {
    let viewer = app.token_for("viewer").await;
    json_of(
        app.request_as(&viewer, Method::GET, "/v1/accounts")
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    problem(
        app.request_as(&viewer, Method::POST, "/v1/accounts")
            .json(&json!({"name": "X"}))
            .send()
            .await
            .unwrap(),
        StatusCode::FORBIDDEN,
    )
    .await;
    let agent = app.token_for("agent").await;
    let account = json_of(
        app.request_as(&agent, Method::POST, "/v1/accounts")
            .json(&json!({"name": "X"}))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    problem(
        app.request_as(
            &agent,
            Method::DELETE,
            &format!("/v1/accounts/{}", id(&account)),
        )
        .send()
        .await
        .unwrap(),
        StatusCode::FORBIDDEN,
    )
    .await;
});

db_test!(account_changes_are_audited, |app| {
    let account = json_of(
        app.post("/v1/accounts", &json!({"name": "Acme"})).await,
        StatusCode::CREATED,
    )
    .await;
    app.patch(
        &format!("/v1/accounts/{}", id(&account)),
        &json!({"name": "Acme Research"}),
    )
    .await;
    let events = json_of(
        app.get(&format!(
            "/v1/audit-events?entity_type=account&entity_id={}",
            id(&account)
        ))
        .await,
        StatusCode::OK,
    )
    .await;
    let events = events["data"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["action"], "create");
    assert_eq!(events[1]["action"], "update");
    assert_eq!(
        events[1]["changes"]["name"],
        json!({"before": "Acme", "after": "Acme Research"})
    );
    assert_eq!(events[1]["actor_type"], "user");
});
