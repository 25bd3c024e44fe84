//! Tasks (`/v1/tasks`, `/v1/me/tasks`): deadlines, recurrence, who may change
//! them, and their place on the customer record.

use crate::common::records::*;
use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn task(app: &TestApp, extra: Value) -> Value {
    let body = merged(
        json!({"title": "Call back", "kind": "call", "due_at": app.days_from_now(1.0)}),
        extra,
    );
    created(app, "/v1/tasks", body).await
}

async fn patch(app: &TestApp, item: &Value, body: Value) -> reqwest::Response {
    app.patch(&format!("/v1/tasks/{}", id(item)), &body).await
}

db_test!(
    a_task_is_created_for_the_caller_with_location_etag_and_defaults,
    |app| {
        let due = app.days_from_now(2.0);
        let response = app
            .post(
                "/v1/tasks",
                &json!({"title": " Send the proposal ", "due_at": due}),
            )
            .await;
        let location = header(&response, "location").unwrap();
        assert_eq!(header(&response, "etag").unwrap(), "\"1\"");
        let created = json_of(response, StatusCode::CREATED).await;
        assert_eq!(location, format!("/v1/tasks/{}", id(&created)));
        assert_eq!(created["title"], "Send the proposal");
        assert_eq!(created["kind"], "other");
        assert_eq!(created["status"], "open");
        assert_eq!(created["priority"], "normal");
        assert_eq!(created["overdue"], false);
        assert_eq!(created["assignee_id"], app.admin().await["id"]);
        assert_eq!(created["due_at"], due.as_str());
        assert_eq!(
            json_of(app.get(&location).await, StatusCode::OK).await,
            created
        );
    }
);

db_test!(every_invalid_task_field_is_reported_at_once, |app| {
    let body = problem(
        app.post(
            "/v1/tasks",
            &json!({"title": " ", "kind": "lunch", "priority": "asap", "repeat": {"every": 0, "unit": "month"},
                    "contact_id": uuid::Uuid::now_v7()}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let mut fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        ["due_at", "kind", "priority", "repeat.every", "title"]
    );
    let body = problem(
        app.post(
            "/v1/tasks",
            &json!({"title": "X", "due_at": app.days_from_now(1.0), "due_on": "2027-01-01"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["errors"][0]["code"], "exclusive");
    let body = problem(
        app.post(
            "/v1/tasks",
            &json!({"title": "X", "due_on": "2027-01-01", "contact_id": uuid::Uuid::now_v7(),
                                      "assignee_id": uuid::Uuid::now_v7()}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let mut fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    fields.sort();
    assert_eq!(fields, ["assignee_id", "contact_id"]);
});

db_test!(
    a_local_date_is_due_at_the_end_of_that_day_in_the_contacts_time_zone,
    |app| {
        let person = created(
            &app,
            "/v1/contacts",
            json!({"first_name": "Mei", "time_zone": "Asia/Shanghai"}),
        )
        .await;
        let theirs = task(
            &app,
            json!({"due_at": null, "due_on": "2027-03-01", "contact_id": id(&person)}),
        )
        .await;
        assert_eq!(theirs["time_zone"], "Asia/Shanghai");
        assert_eq!(theirs["due_at"], "2027-03-01T16:00:00Z");
        assert_eq!(theirs["due_on"], "2027-03-01");
        // Without a contact, the working calendar's zone (UTC by default).
        let ours = task(&app, json!({"due_at": null, "due_on": "2027-03-01"})).await;
        assert_eq!(ours["time_zone"], "UTC");
        assert_eq!(ours["due_at"], "2027-03-02T00:00:00Z");
    }
);

db_test!(
    completing_a_monthly_task_creates_the_next_once_with_the_month_end_clamped,
    |app| {
        let monthly = task(&app, json!({"due_at": null, "due_on": "2027-01-31", "repeat": {"every": 1, "unit": "month"}})).await;
        let done = json_of(
            patch(
                &app,
                &monthly,
                json!({"status": "done", "outcome": "Reached them"}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(done["status"], "done");
        assert!(done["completed_at"].is_string());
        assert_eq!(done["outcome"], "Reached them");
        let open = json_of(app.get("/v1/tasks?status=open").await, StatusCode::OK).await;
        let open = open["data"].as_array().unwrap();
        assert_eq!(open.len(), 1);
        assert_eq!(open[0]["due_on"], "2027-02-28");
        assert_eq!(open[0]["follows_id"], monthly["id"]);
        assert_eq!(open[0]["repeat"], json!({"every": 1, "unit": "month"}));
        // Reopening and completing again creates no second next occurrence.
        json_of(
            patch(&app, &monthly, json!({"status": "open"})).await,
            StatusCode::OK,
        )
        .await;
        json_of(
            patch(&app, &monthly, json!({"status": "cancelled"})).await,
            StatusCode::OK,
        )
        .await;
        let open = json_of(app.get("/v1/tasks?status=open").await, StatusCode::OK).await;
        assert_eq!(open["data"].as_array().unwrap().len(), 1);
    }
);

db_test!(concurrent_completions_create_one_next_occurrence, |app| {
    let weekly = task(&app, json!({"repeat": {"every": 1, "unit": "week"}})).await;
    let path = format!("/v1/tasks/{}", id(&weekly));
    let complete = || {
        app.request(Method::PATCH, &path)
            .json(&json!({"status": "done"}))
            .send()
    };
    let (a, b) = tokio::join!(complete(), complete());
    let statuses = [a.unwrap().status(), b.unwrap().status()];
    assert!(statuses.contains(&StatusCode::OK), "{statuses:?}");
    let open = json_of(app.get("/v1/tasks?status=open").await, StatusCode::OK).await;
    assert_eq!(open["data"].as_array().unwrap().len(), 1);
    // The same local time a week later.
    let due: chrono::DateTime<chrono::Utc> = weekly["due_at"].as_str().unwrap().parse().unwrap();
    let next: chrono::DateTime<chrono::Utc> =
        open["data"][0]["due_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(next - due, chrono::TimeDelta::days(7));
});

db_test!(lists_filter_and_my_tasks_put_overdue_first, |app| {
    let acme = account(&app, "Acme").await;
    let late = task(
        &app,
        json!({"title": "Late", "due_at": app.hours_ago(5.0), "account_id": acme}),
    )
    .await;
    let soon = task(
        &app,
        json!({"title": "Soon", "due_at": app.days_from_now(1.0), "kind": "visit"}),
    )
    .await;
    let agent = app.create_user("agent").await;
    let theirs = task(&app, json!({"title": "Theirs", "assignee_id": id(&agent)})).await;
    let titles = |page: Value| -> Vec<String> {
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["title"].as_str().unwrap().to_string())
            .collect()
    };
    let get = |path: String| {
        let app = &app;
        async move { json_of(app.get(&path).await, StatusCode::OK).await }
    };
    assert_eq!(titles(get("/v1/me/tasks".into()).await), ["Late", "Soon"]);
    assert_eq!(titles(get("/v1/tasks?overdue=true".into()).await), ["Late"]);
    assert_eq!(
        get(format!("/v1/tasks/{}", id(&late))).await["overdue"],
        true
    );
    assert_eq!(titles(get("/v1/tasks?kind=visit".into()).await), ["Soon"]);
    assert_eq!(
        titles(get(format!("/v1/tasks?account_id={acme}")).await),
        ["Late"]
    );
    assert_eq!(
        titles(get(format!("/v1/tasks?assignee_id={}", id(&agent))).await),
        ["Theirs"]
    );
    let before = app.days_from_now(0.5);
    assert_eq!(
        titles(get(format!("/v1/tasks?due_before={before}")).await),
        ["Late"]
    );
    assert_eq!(
        titles(get(format!("/v1/tasks?due_after={before}&sort=-due_at")).await)[0],
        "Theirs"
    );
    let _ = (soon, theirs);
    let key = app.api_key(&["tasks:read"]).await;
    let none = json_of(
        app.request_as(&key, Method::GET, "/v1/me/tasks")
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert!(
        none["data"].as_array().unwrap().is_empty(),
        "an API key is assigned no tasks"
    );
});

db_test!(agents_change_their_own_tasks_and_managers_anyones, |app| {
    let agent = app.create_user("agent").await;
    let agent_token = app
        .sign_in(agent["email"].as_str().unwrap(), USER_PASSWORD)
        .await;
    let mine = task(&app, json!({"assignee_id": id(&agent)})).await;
    let not_mine = task(&app, json!({})).await;
    let as_agent = |item: &Value, body: Value| {
        app.request_as(
            &agent_token,
            Method::PATCH,
            &format!("/v1/tasks/{}", id(item)),
        )
        .json(&body)
        .send()
    };
    json_of(
        as_agent(&mine, json!({"priority": "high"})).await.unwrap(),
        StatusCode::OK,
    )
    .await;
    problem(
        as_agent(&not_mine, json!({"priority": "high"}))
            .await
            .unwrap(),
        StatusCode::FORBIDDEN,
    )
    .await;
    // An agent creates tasks for anyone.
    let admin = app.admin().await;
    let body = json!({"title": "For the boss", "due_at": app.days_from_now(1.0), "assignee_id": id(&admin)});
    json_of(
        app.request_as(&agent_token, Method::POST, "/v1/tasks")
            .json(&body)
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    problem(
        app.request_as(
            &agent_token,
            Method::DELETE,
            &format!("/v1/tasks/{}", id(&mine)),
        )
        .send()
        .await
        .unwrap(),
        StatusCode::FORBIDDEN,
    )
    .await;
    let viewer = app.token_for("viewer").await;
    json_of(
        app.request_as(&viewer, Method::GET, "/v1/tasks")
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    problem(
        app.request_as(&viewer, Method::POST, "/v1/tasks")
            .json(&body)
            .send()
            .await
            .unwrap(),
        StatusCode::FORBIDDEN,
    )
    .await;
    let manager = app.token_for("manager").await;
    json_of(
        app.request_as(&manager, Method::PATCH, &format!("/v1/tasks/{}", id(&mine)))
            .json(&json!({"status": "cancelled"}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        app.delete(&format!("/v1/tasks/{}", id(&mine)))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let key = app.api_key(&["tasks:write"]).await;
    let refused = problem(
        app.request_as(&key, Method::POST, "/v1/tasks")
            .json(&json!({"title": "X", "due_at": app.days_from_now(1.0)}))
            .send()
            .await
            .unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(refused["errors"][0]["field"], "assignee_id");
});

db_test!(
    the_customer_record_shows_the_next_task_and_the_timeline_the_done_ones,
    |app| {
        let acme = account(&app, "Acme").await;
        let person = contact(&app, Some(&acme)).await;
        let later = task(
            &app,
            json!({"contact_id": person, "account_id": acme, "due_at": app.days_from_now(5.0)}),
        )
        .await;
        let sooner = task(&app, json!({"title": "Renewal", "contact_id": person, "account_id": acme, "due_at": app.days_from_now(2.0)})).await;
        let next = |path: String| {
            let app = &app;
            async move {
                json_of(app.get(&path).await, StatusCode::OK).await["next_task_due_at"].clone()
            }
        };
        assert_eq!(
            next(format!("/v1/contacts/{person}")).await,
            sooner["due_at"]
        );
        assert_eq!(next(format!("/v1/accounts/{acme}")).await, sooner["due_at"]);
        json_of(
            patch(
                &app,
                &sooner,
                json!({"status": "done", "outcome": "Signed"}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(
            next(format!("/v1/contacts/{person}")).await,
            later["due_at"]
        );
        let timeline = json_of(
            app.get(&format!("/v1/contacts/{person}/timeline?kind=task"))
                .await,
            StatusCode::OK,
        )
        .await;
        let items = timeline["data"].as_array().unwrap();
        assert_eq!(items.len(), 1, "only done tasks");
        assert_eq!(items[0]["summary"], "Renewal: Signed");
        assert_eq!(items[0]["link"], format!("/v1/tasks/{}", id(&sooner)));
        let timeline = json_of(
            app.get(&format!("/v1/accounts/{acme}/timeline?kind=task"))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(timeline["data"].as_array().unwrap().len(), 1);
        json_of(
            patch(&app, &later, json!({"status": "cancelled"})).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(next(format!("/v1/accounts/{acme}")).await, Value::Null);
    }
);

db_test!(merge_carries_tasks_and_erasure_blanks_their_text, |app| {
    let survivor = contact(&app, None).await;
    let duplicate = contact(&app, None).await;
    let theirs = task(&app, json!({"title": "Ask about the divorce", "description": "Private", "contact_id": duplicate})).await;
    json_of(
        app.post(
            &format!("/v1/contacts/{survivor}/merge"),
            &json!({"duplicate_id": duplicate}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let moved = json_of(
        app.get(&format!("/v1/tasks/{}", id(&theirs))).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(moved["contact_id"], survivor.as_str());
    let record = json_of(
        app.get(&format!("/v1/contacts/{survivor}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(record["next_task_due_at"], theirs["due_at"]);
    let export = json_of(
        app.get(&format!("/v1/contacts/{survivor}/export")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(export["tasks"].as_array().unwrap().len(), 1);
    json_of(
        app.post(&format!("/v1/contacts/{survivor}/erase"), &json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    let erased = json_of(
        app.get(&format!("/v1/tasks/{}", id(&theirs))).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(erased["title"], "[erased]");
    assert_eq!(erased["description"], "[erased]");
    assert_eq!(erased["kind"], "call");
});
