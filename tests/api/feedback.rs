//! Feedback items (`/v1/feedback`): recording, validation, references, roles and API keys, lists and filters,
//! changes and deletion.

use crate::common::feedback::*;
use crate::common::records::*;
use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

db_test!(
    a_complaint_starts_new_with_due_times_location_and_etag,
    |app| {
        let response = post_feedback(&app, json!({"category": " Billing "})).await;
        let location = header(&response, "location").unwrap();
        assert_eq!(header(&response, "etag").as_deref(), Some("\"1\""));
        let item = json_of(response, StatusCode::CREATED).await;
        assert_eq!(location, path(&item));
        assert_eq!(item["kind"], "complaint");
        assert_eq!(item["status"], "new");
        assert_eq!(item["priority"], "normal");
        assert_eq!(item["category"], "billing");
        assert_eq!(item["sla_state"], "on_track");
        assert_eq!(item["first_response_target_minutes"], 1440);
        assert_eq!(item["resolution_target_business_days"], 10);
        let received = time(&item["received_at"]);
        assert_eq!(
            time(&item["first_response_due_at"]) - received,
            chrono::Duration::hours(24)
        );
        // Received on Monday 1 June 2026 (the test clock's day): the tenth
        // working day after it is Monday 15 June, which ends at midnight UTC.
        assert_eq!(received.date_naive(), test_epoch().date_naive());
        assert_eq!(
            time(&item["resolution_due_at"]),
            time(&json!("2026-06-16T00:00:00Z"))
        );
        assert_eq!(item["first_responded_at"], Value::Null);
        assert_eq!(
            json_of(app.get(&location).await, StatusCode::OK).await,
            item
        );
    }
);

db_test!(suggestions_praise_and_surveys_have_no_workflow, |app| {
    for (kind, extra) in [
        ("suggestion", json!({})),
        ("praise", json!({})),
        ("survey", json!({"nps": 9})),
    ] {
        let mut body = extra.clone();
        body["kind"] = json!(kind);
        let item = feedback(&app, body).await;
        assert_eq!(item["status"], Value::Null, "{kind}");
        assert_eq!(item["sla_state"], Value::Null, "{kind}");
        assert_eq!(item["first_response_due_at"], Value::Null, "{kind}");
        assert_eq!(item["resolution_due_at"], Value::Null, "{kind}");
    }
    let inquiry = feedback(&app, json!({"kind": "inquiry"})).await;
    assert_eq!(inquiry["status"], "new");
});

db_test!(scores_out_of_range_are_refused_naming_the_field, |app| {
    for (field, value) in [("csat", 0), ("csat", 6), ("nps", -1), ("nps", 11)] {
        let body = problem(
            app.post("/v1/feedback", &json!({"kind": "survey", field: value}))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(body["errors"][0]["field"], field, "{field}={value}: {body}");
    }
    let edges = survey(&app, json!({"csat": 1, "nps": 0})).await;
    assert_eq!(
        (edges["csat"].as_i64(), edges["nps"].as_i64()),
        (Some(1), Some(0))
    );
    let edges = survey(&app, json!({"csat": 5, "nps": 10})).await;
    assert_eq!(
        (edges["csat"].as_i64(), edges["nps"].as_i64()),
        (Some(5), Some(10))
    );
    // A score that is not an integer does not match the schema at all.
    problem(
        app.post("/v1/feedback", &json!({"kind": "survey", "csat": 4.5}))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
});

db_test!(a_survey_needs_a_score_and_other_kinds_need_text, |app| {
    let body = problem(
        app.post("/v1/feedback", &json!({"kind": "survey"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "csat");
    let body = problem(
        app.post("/v1/feedback", &json!({"kind": "complaint", "text": "  "}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "text");
    let body = problem(
        app.post("/v1/feedback", &json!({"kind": "rant", "text": "x"}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "kind");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("inquiry")
    );
    let body = problem(
        post_feedback(&app, json!({"priority": "asap"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "priority");
    problem(
        post_feedback(&app, json!({"txet": "typo"})).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    let later = (app.now() + chrono::Duration::hours(2)).to_rfc3339();
    let body = problem(
        post_feedback(&app, json!({"received_at": later})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "received_at");
});

db_test!(references_must_exist_and_each_bad_one_is_named, |app| {
    let missing = uuid::Uuid::now_v7();
    let body = problem(
        post_feedback(
            &app,
            json!({"contact_id": missing, "channel_id": missing, "assignee_id": missing}),
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
    assert_eq!(fields, ["assignee_id", "channel_id", "contact_id"]);
    let body = problem(
        post_feedback(&app, json!({"account_id": missing})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "account_id");
    let ch = channel(&app, "chat", "Old chat").await;
    json_of(
        app.patch(&format!("/v1/channels/{ch}"), &json!({"active": false}))
            .await,
        StatusCode::OK,
    )
    .await;
    let body = problem(
        post_feedback(&app, json!({"channel_id": ch})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["errors"][0]["code"], "inactive");
});

db_test!(the_account_is_taken_from_the_contact_when_omitted, |app| {
    let acme = account(&app, "Acme").await;
    let other = account(&app, "Other").await;
    let pat = contact(&app, Some(&acme)).await;
    let item = feedback(&app, json!({"contact_id": pat})).await;
    assert_eq!(item["account_id"], acme.as_str());
    let explicit = feedback(&app, json!({"contact_id": pat, "account_id": other})).await;
    assert_eq!(explicit["account_id"], other.as_str());
    let loner = contact(&app, None).await;
    assert_eq!(
        feedback(&app, json!({"contact_id": loner})).await["account_id"],
        Value::Null
    );
});

db_test!(
    a_partner_posts_survey_answers_with_a_feedback_write_key,
    |app| {
        let key = app.api_key(&["feedback:write"]).await;
        let send = |key: String, body: Value| {
            let request = app
                .request_as(&key, Method::POST, "/v1/feedback")
                .json(&body);
            async move { request.send().await.unwrap() }
        };
        let item = json_of(
            send(key.clone(), json!({"kind": "survey", "nps": 9, "csat": 5})).await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(item["nps"], 9);
        // The write scope includes reading.
        let read = app
            .request_as(&key, Method::GET, &path(&item))
            .send()
            .await
            .unwrap();
        json_of(read, StatusCode::OK).await;
        let read_only = app.api_key(&["feedback:read"]).await;
        problem(
            send(read_only, json!({"kind": "survey", "nps": 9})).await,
            StatusCode::FORBIDDEN,
        )
        .await;
        let other = app.api_key(&["contacts:write"]).await;
        problem(
            send(other, json!({"kind": "survey", "nps": 9})).await,
            StatusCode::FORBIDDEN,
        )
        .await;
    }
);

db_test!(viewers_read_feedback_but_change_nothing, |app| {
    let item = feedback(&app, json!({})).await;
    let viewer = app.token_for("viewer").await;
    let get = app
        .request_as(&viewer, Method::GET, &path(&item))
        .send()
        .await
        .unwrap();
    json_of(get, StatusCode::OK).await;
    let list = app
        .request_as(&viewer, Method::GET, "/v1/feedback")
        .send()
        .await
        .unwrap();
    json_of(list, StatusCode::OK).await;
    let acts = app
        .request_as(&viewer, Method::GET, &format!("{}/activities", path(&item)))
        .send()
        .await
        .unwrap();
    json_of(acts, StatusCode::OK).await;
    let writes = [
        (
            Method::POST,
            "/v1/feedback".to_string(),
            json!({"kind": "survey", "nps": 3}),
        ),
        (Method::PATCH, path(&item), json!({"priority": "high"})),
        (
            Method::POST,
            format!("{}/transitions", path(&item)),
            json!({"to": "acknowledged"}),
        ),
        (
            Method::POST,
            format!("{}/activities", path(&item)),
            json!({"note": "hello"}),
        ),
        (Method::DELETE, path(&item), json!({})),
    ];
    for (method, url, body) in writes {
        let response = app
            .request_as(&viewer, method.clone(), &url)
            .json(&body)
            .send()
            .await
            .unwrap();
        problem(response, StatusCode::FORBIDDEN).await;
    }
    // Agents write but do not delete.
    let agent = app.token_for("agent").await;
    let patch = app
        .request_as(&agent, Method::PATCH, &path(&item))
        .json(&json!({"priority": "high"}))
        .send()
        .await
        .unwrap();
    json_of(patch, StatusCode::OK).await;
    let delete = app
        .request_as(&agent, Method::DELETE, &path(&item))
        .send()
        .await
        .unwrap();
    problem(delete, StatusCode::FORBIDDEN).await;
});

db_test!(the_list_is_newest_first_and_pages_with_a_cursor, |app| {
    let mut created = Vec::new();
    for h in [5.0, 1.0, 3.0, 2.0, 4.0] {
        created.push((
            h,
            id(&feedback(&app, json!({"received_at": app.hours_ago(h)})).await),
        ));
    }
    created.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap());
    let expected: Vec<String> = created.into_iter().map(|(_, id)| id).collect();
    let paged = ids(&all_pages(&app, "/v1/feedback?limit=2").await);
    assert_eq!(paged, expected);
    let oldest_first = ids(&all_pages(&app, "/v1/feedback?limit=2&sort=received_at").await);
    assert_eq!(
        oldest_first,
        expected.iter().rev().cloned().collect::<Vec<_>>()
    );
    problem(
        app.get("/v1/feedback?limit=0").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    problem(
        app.get("/v1/feedback?status=open").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    problem(
        app.get("/v1/feedback?colour=red").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
});

db_test!(every_filter_narrows_the_list, |app| {
    let acme = account(&app, "Acme").await;
    let pat = contact(&app, Some(&acme)).await;
    let ch = channel(&app, "phone", "Hotline").await;
    let me = admin_id(&app).await;
    let a = id(&feedback(
        &app,
        json!({"contact_id": pat, "channel_id": ch, "priority": "urgent", "category": "Billing"}),
    )
    .await);
    let b = feedback(
        &app,
        json!({"kind": "inquiry", "assignee_id": me, "received_at": app.hours_ago(72.0)}),
    )
    .await;
    moved(&app, &b, "acknowledged").await;
    let b = id(&b);
    let c = id(&survey(&app, json!({"nps": 10})).await);
    assert_eq!(listed(&app, "kind=inquiry").await, [b.clone()]);
    assert_eq!(listed(&app, "kind=survey").await, [c.clone()]);
    assert_eq!(listed(&app, "status=acknowledged").await, [b.clone()]);
    assert_eq!(listed(&app, "status=new").await, [a.clone()]);
    assert_eq!(listed(&app, "priority=urgent").await, [a.clone()]);
    assert_eq!(
        listed(&app, &format!("assignee_id={me}")).await,
        [b.clone()]
    );
    assert_eq!(
        listed(&app, &format!("contact_id={pat}")).await,
        [a.clone()]
    );
    assert_eq!(
        listed(&app, &format!("account_id={acme}")).await,
        [a.clone()]
    );
    assert_eq!(listed(&app, &format!("channel_id={ch}")).await, [a.clone()]);
    assert_eq!(listed(&app, "category=BILLING").await, [a.clone()]);
    assert_eq!(
        listed(&app, &format!("to={}", app.hours_ago(24.0))).await,
        [b.clone()]
    );
    let mut recent = listed(&app, &format!("from={}", app.hours_ago(24.0))).await;
    recent.sort();
    let mut expected = vec![a.clone(), c.clone()];
    expected.sort();
    assert_eq!(recent, expected);
    // The inquiry was received three days ago and first answered now: its first response was late.
    assert_eq!(listed(&app, "sla_state=breached").await, [b.clone()]);
    assert_eq!(listed(&app, "sla_state=on_track").await, [a.clone()]);
    assert_eq!(
        listed(&app, "kind=complaint&priority=normal").await,
        Vec::<String>::new()
    );
});

db_test!(
    a_patch_changes_fields_honours_if_match_and_records_assignments,
    |app| {
        let item = feedback(&app, json!({"csat": 2})).await;
        let agent = app.create_user("agent").await;
        let url = path(&item);
        let stale = app
            .request(Method::PATCH, &url)
            .header("if-match", "\"7\"")
            .json(&json!({"csat": 3}))
            .send()
            .await
            .unwrap();
        problem(stale, StatusCode::PRECONDITION_FAILED).await;
        let response = app
            .request(Method::PATCH, &url)
            .header("if-match", "\"1\"")
            .json(
                &json!({"csat": null, "nps": 4, "assignee_id": id(&agent), "category": "Delivery"}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(header(&response, "etag").as_deref(), Some("\"2\""));
        let changed = json_of(response, StatusCode::OK).await;
        assert_eq!(changed["csat"], Value::Null);
        assert_eq!(changed["nps"], 4);
        assert_eq!(changed["category"], "delivery");
        assert_eq!(changed["assignee_id"], agent["id"]);
        assert_eq!(changed["text"], item["text"]);
        let log = activities(&app, &item).await;
        assert_eq!(log.len(), 1);
        assert_eq!(log[0]["kind"], "assignment");
        assert_eq!(log[0]["assignee_id"], agent["id"]);
        // Unassigning is an assignment too; status is not patchable.
        json_of(
            app.patch(&url, &json!({"assignee_id": null})).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(activities(&app, &item).await.len(), 2);
        problem(
            app.patch(&url, &json!({"status": "closed"})).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        let body = problem(
            app.patch(&url, &json!({"nps": 12})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(body["errors"][0]["field"], "nps");
        let body = problem(
            app.patch(&url, &json!({"text": null})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(body["errors"][0]["field"], "text");
    }
);

db_test!(raising_the_priority_recomputes_the_due_times, |app| {
    let item = feedback(&app, json!({"received_at": "2025-03-07T10:00:00Z"})).await;
    assert_eq!(
        time(&item["resolution_due_at"]),
        time(&json!("2025-03-22T00:00:00Z"))
    );
    let urgent = json_of(
        app.patch(&path(&item), &json!({"priority": "urgent"}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(urgent["first_response_target_minutes"], 240);
    assert_eq!(urgent["resolution_target_business_days"], 2);
    assert_eq!(
        time(&urgent["first_response_due_at"]),
        time(&json!("2025-03-07T14:00:00Z"))
    );
    assert_eq!(
        time(&urgent["resolution_due_at"]),
        time(&json!("2025-03-12T00:00:00Z"))
    );
});

db_test!(
    deleting_is_for_managers_and_removes_the_item_and_its_log,
    |app| {
        let item = feedback(&app, json!({})).await;
        moved(&app, &item, "acknowledged").await;
        let manager = app.token_for("manager").await;
        let stale = app
            .request_as(&manager, Method::DELETE, &path(&item))
            .header("if-match", "\"1\"")
            .send()
            .await
            .unwrap();
        problem(stale, StatusCode::PRECONDITION_FAILED).await;
        let response = app
            .request_as(&manager, Method::DELETE, &path(&item))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        problem(app.get(&path(&item)).await, StatusCode::NOT_FOUND).await;
        problem(
            app.get(&format!("{}/activities", path(&item))).await,
            StatusCode::NOT_FOUND,
        )
        .await;
    }
);
