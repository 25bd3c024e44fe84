//! Channels (`/v1/channels`) and channel metrics (`/v1/metrics/channels`).

use crate::common::records::*;
use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

db_test!(
    a_channel_is_created_with_location_etag_and_defaults,
    |app| {
        let response = app
            .post(
                "/v1/channels",
                &json!({"kind": "phone", "name": " Client hotline ", "first_response_minutes": 60}),
            )
            .await;
        let location = response.headers()["location"].to_str().unwrap().to_string();
        assert_eq!(response.headers()["etag"], "\"1\"");
        let channel = json_of(response, StatusCode::CREATED).await;
        assert_eq!(location, format!("/v1/channels/{}", id(&channel)));
        assert_eq!(channel["kind"], "phone");
        assert_eq!(channel["name"], "Client hotline");
        assert_eq!(channel["active"], true);
        assert_eq!(channel["first_response_minutes"], 60);
        assert_eq!(channel["resolution_business_days"], serde_json::Value::Null);
        assert_eq!(
            json_of(app.get(&location).await, StatusCode::OK).await,
            channel
        );
    }
);

db_test!(every_kind_in_the_fixed_list_is_accepted, |app| {
    let kinds = [
        "email",
        "phone",
        "sms",
        "chat",
        "social",
        "web",
        "mobile_app",
        "in_person",
        "event",
        "webinar",
        "chatbot",
        "other",
    ];
    for kind in kinds {
        channel(&app, kind, &format!("{kind} channel")).await;
    }
});

db_test!(an_unknown_kind_is_refused_naming_the_allowed_kinds, |app| {
    let body = problem(
        app.post("/v1/channels", &json!({"kind": "fax", "name": "Fax"}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "kind");
    assert_eq!(body["errors"][0]["code"], "invalid_choice");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("email") && message.contains("mobile_app") && message.contains("chatbot"),
        "{message}"
    );
});

db_test!(every_invalid_channel_field_is_reported_at_once, |app| {
    let body = problem(
        app.post(
            "/v1/channels",
            &json!({"kind": "chat", "name": "   ", "first_response_minutes": 0, "resolution_business_days": 366}),
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
    assert_eq!(
        fields,
        ["first_response_minutes", "name", "resolution_business_days"]
    );
});

db_test!(unknown_channel_fields_are_rejected, |app| {
    let body = problem(
        app.post(
            "/v1/channels",
            &json!({"kind": "chat", "name": "Chat", "colour": "red"}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(body["detail"].as_str().unwrap().contains("colour"));
});

db_test!(channel_names_are_unique_regardless_of_case, |app| {
    let first = channel(&app, "email", "Newsletter").await;
    let body = problem(
        app.post(
            "/v1/channels",
            &json!({"kind": "email", "name": "NEWSLETTER "}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(body["existing_id"], first.as_str());
    let other = channel(&app, "email", "Support mail").await;
    problem(
        app.patch(
            &format!("/v1/channels/{other}"),
            &json!({"name": "newsletter"}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
});

db_test!(a_channel_is_changed_with_merge_patch_and_if_match, |app| {
    let created = json_of(
        app.post("/v1/channels", &json!({"kind": "chat", "name": "Web chat", "first_response_minutes": 5, "resolution_business_days": 2})).await,
        StatusCode::CREATED,
    )
    .await;
    let path = format!("/v1/channels/{}", id(&created));
    let response = app
        .request(Method::PATCH, &path)
        .header("if-match", "\"1\"")
        .json(&json!({"active": false, "first_response_minutes": null, "kind": "chatbot"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["etag"], "\"2\"");
    let patched = json_of(response, StatusCode::OK).await;
    assert_eq!(patched["active"], false);
    assert_eq!(patched["kind"], "chatbot");
    assert_eq!(patched["first_response_minutes"], serde_json::Value::Null);
    assert_eq!(patched["resolution_business_days"], 2);
    assert_eq!(patched["name"], "Web chat");
    let stale = app
        .request(Method::PATCH, &path)
        .header("if-match", "\"1\"")
        .json(&json!({"active": true}))
        .send()
        .await
        .unwrap();
    let body = problem(stale, StatusCode::PRECONDITION_FAILED).await;
    assert_eq!(body["current_etag"], "\"2\"");
    problem(
        app.patch(&path, &json!({"kind": "pigeon"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
});

db_test!(
    a_channel_with_interactions_cannot_be_deleted_but_can_be_deactivated,
    |app| {
        let used = channel(&app, "phone", "Hotline").await;
        let account = account(&app, "Acme").await;
        logged(&app, &used, json!({"account_id": account})).await;
        let body = problem(
            app.delete(&format!("/v1/channels/{used}")).await,
            StatusCode::CONFLICT,
        )
        .await;
        assert!(
            body["detail"]
                .as_str()
                .unwrap()
                .contains("deactivate it instead"),
            "{body}"
        );
        json_of(
            app.patch(&format!("/v1/channels/{used}"), &json!({"active": false}))
                .await,
            StatusCode::OK,
        )
        .await;
        problem(
            app.delete(&format!("/v1/channels/{used}")).await,
            StatusCode::CONFLICT,
        )
        .await;
        json_of(
            app.get(&format!("/v1/channels/{used}")).await,
            StatusCode::OK,
        )
        .await;

        let unused = channel(&app, "sms", "Texts").await;
        let stale = app
            .request(Method::DELETE, &format!("/v1/channels/{unused}"))
            .header("if-match", "\"7\"")
            .send()
            .await
            .unwrap();
        problem(stale, StatusCode::PRECONDITION_FAILED).await;
        assert_eq!(
            app.delete(&format!("/v1/channels/{unused}")).await.status(),
            StatusCode::NO_CONTENT
        );
        problem(
            app.get(&format!("/v1/channels/{unused}")).await,
            StatusCode::NOT_FOUND,
        )
        .await;
    }
);

db_test!(
    channels_are_listed_in_pages_and_filtered_by_kind_and_active,
    |app| {
        let a = channel(&app, "email", "Mail A").await;
        let b = channel(&app, "phone", "Phone B").await;
        let c = channel(&app, "email", "Mail C").await;
        app.patch(&format!("/v1/channels/{c}"), &json!({"active": false}))
            .await;
        assert_eq!(
            ids(&all_pages(&app, "/v1/channels?limit=1").await),
            [a.clone(), b.clone(), c.clone()]
        );
        assert_eq!(
            ids(&all_pages(&app, "/v1/channels?kind=email").await),
            [a.clone(), c.clone()]
        );
        assert_eq!(
            ids(&all_pages(&app, "/v1/channels?kind=email&active=true").await),
            [a]
        );
        assert_eq!(
            ids(&all_pages(&app, "/v1/channels?active=false").await),
            [c]
        );
        let body = problem(
            app.get("/v1/channels?kind=fax").await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert!(body["detail"].as_str().unwrap().contains("webinar"));
        problem(
            app.get("/v1/channels?colour=red").await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        problem(
            app.get("/v1/channels?limit=0").await,
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
);

db_test!(
    viewers_read_channels_but_cannot_change_them_and_agents_cannot_delete,
    |app| {
        let ch = channel(&app, "web", "Website").await;
        let viewer = app.token_for("viewer").await;
        let read = app
            .request_as(&viewer, Method::GET, &format!("/v1/channels/{ch}"))
            .send()
            .await
            .unwrap();
        json_of(read, StatusCode::OK).await;
        let create = app
            .request_as(&viewer, Method::POST, "/v1/channels")
            .json(&json!({"kind": "web", "name": "X"}))
            .send()
            .await
            .unwrap();
        problem(create, StatusCode::FORBIDDEN).await;
        let patch = app
            .request_as(&viewer, Method::PATCH, &format!("/v1/channels/{ch}"))
            .json(&json!({"active": false}))
            .send()
            .await
            .unwrap();
        problem(patch, StatusCode::FORBIDDEN).await;
        let agent = app.token_for("agent").await;
        let delete = app
            .request_as(&agent, Method::DELETE, &format!("/v1/channels/{ch}"))
            .send()
            .await
            .unwrap();
        problem(delete, StatusCode::FORBIDDEN).await;
        let no_token = app
            .client
            .get(app.url("/v1/channels"))
            .send()
            .await
            .unwrap();
        problem(no_token, StatusCode::UNAUTHORIZED).await;
    }
);

db_test!(changes_to_channels_are_audited, |app| {
    let ch = channel(&app, "event", "Annual summit").await;
    app.patch(&format!("/v1/channels/{ch}"), &json!({"name": "Summit"}))
        .await;
    app.delete(&format!("/v1/channels/{ch}")).await;
    let events = json_of(
        app.get(&format!(
            "/v1/audit-events?entity_type=channel&entity_id={ch}"
        ))
        .await,
        StatusCode::OK,
    )
    .await;
    let actions: Vec<&str> = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["create", "update", "delete"]);
    assert_eq!(
        events["data"][1]["changes"]["name"],
        json!({"before": "Annual summit", "after": "Summit"})
    );
});

db_test!(
    channel_metrics_count_each_direction_and_distinct_contacts_in_the_period,
    |app| {
        let phone = channel(&app, "phone", "Hotline").await;
        let mail = channel(&app, "email", "Mail").await;
        let idle = channel(&app, "sms", "Idle").await;
        let acme = account(&app, "Acme").await;
        let (c1, c2) = (contact(&app, Some(&acme)).await, contact(&app, None).await);
        let in_period = "2026-03-10T10:00:00Z";
        for (ch, contact, direction) in [
            (&phone, &c1, "inbound"),
            (&phone, &c1, "outbound"),
            (&phone, &c2, "inbound"),
            (&mail, &c2, "outbound"),
        ] {
            logged(
                &app,
                ch,
                json!({"contact_id": contact, "direction": direction, "occurred_at": in_period}),
            )
            .await;
        }
        logged(
            &app,
            &phone,
            json!({"account_id": acme, "occurred_at": in_period}),
        )
        .await;
        // Outside [from, to): `to` is exclusive.
        logged(
            &app,
            &phone,
            json!({"contact_id": c1, "occurred_at": "2026-04-01T00:00:00Z"}),
        )
        .await;
        logged(
            &app,
            &mail,
            json!({"contact_id": c1, "occurred_at": "2026-02-28T23:59:59Z"}),
        )
        .await;

        let metrics = json_of(
            app.get("/v1/metrics/channels?from=2026-03-01T00:00:00Z&to=2026-04-01T00:00:00Z")
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(metrics["from"], "2026-03-01T00:00:00Z");
        let by_id = |ch: &str| {
            metrics["data"]
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["channel_id"] == ch)
                .cloned()
                .unwrap()
        };
        let p = by_id(&phone);
        assert_eq!(
            (
                p["inbound"].as_i64(),
                p["outbound"].as_i64(),
                p["interactions"].as_i64()
            ),
            (Some(3), Some(1), Some(4))
        );
        assert_eq!(p["distinct_contacts"], 2);
        assert_eq!(p["channel_kind"], "phone");
        assert_eq!(p["mean_first_response_minutes"], serde_json::Value::Null);
        let m = by_id(&mail);
        assert_eq!(
            (
                m["inbound"].as_i64(),
                m["outbound"].as_i64(),
                m["distinct_contacts"].as_i64()
            ),
            (Some(0), Some(1), Some(1))
        );
        let i = by_id(&idle);
        assert_eq!(
            (i["interactions"].as_i64(), i["distinct_contacts"].as_i64()),
            (Some(0), Some(0))
        );

        problem(
            app.get("/v1/metrics/channels?from=2026-04-01T00:00:00Z&to=2026-03-01T00:00:00Z")
                .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        problem(
            app.get("/v1/metrics/channels?from=yesterday").await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        let recent = json_of(app.get("/v1/metrics/channels").await, StatusCode::OK).await;
        assert_eq!(recent["data"].as_array().unwrap().len(), 3);
        let viewer = app.token_for("viewer").await;
        json_of(
            app.request_as(&viewer, Method::GET, "/v1/metrics/channels")
                .send()
                .await
                .unwrap(),
            StatusCode::OK,
        )
        .await;
        let key = app.api_key(&["contacts:read"]).await;
        problem(
            app.request_as(&key, Method::GET, "/v1/metrics/channels")
                .send()
                .await
                .unwrap(),
            StatusCode::FORBIDDEN,
        )
        .await;
    }
);
