//! The changes feed: every change is one event, in commit order, exactly once
//! to a reader who follows the cursor; scopes, masking, erasure, retention.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{TestApp, created, id, json_of, problem, records};

/// Reads the feed as `token` from `after` until `count` events of `types`
/// arrived (the feed may hold events back for a moment on PostgreSQL, while
/// other transactions on the server are still running).
pub async fn read_feed(
    app: &TestApp,
    token: &str,
    types: &str,
    count: usize,
) -> (Vec<Value>, String) {
    let mut events = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..200 {
        let mut path = format!("/v1/events?types={types}&limit=2");
        if let Some(c) = &cursor {
            path.push_str(&format!("&after={c}"));
        }
        let page = json_of(
            app.request_as(token, Method::GET, &path)
                .send()
                .await
                .unwrap(),
            StatusCode::OK,
        )
        .await;
        events.extend(page["data"].as_array().unwrap().iter().cloned());
        cursor = Some(page["next_cursor"].as_str().unwrap().to_string());
        if events.len() >= count && page["has_more"] == false {
            return (events, cursor.unwrap());
        }
        if page["data"].as_array().unwrap().is_empty() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    panic!(
        "the feed gave {} events of {types}, expected {count}: {events:?}",
        events.len()
    );
}

fn types_of(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["type"].as_str().unwrap()).collect()
}

db_test!(
    every_change_is_one_event_in_commit_order_with_the_resource_as_get_returns_it,
    |app| {
        let account = created(&app, "/v1/accounts", json!({"name": "Acme Research"})).await;
        let contact = created(
            &app,
            "/v1/contacts",
            json!({"first_name": "Ana", "email": "ana@acme.example"}),
        )
        .await;
        let path = format!("/v1/contacts/{}", id(&contact));
        json_of(
            app.patch(&path, &json!({"title": "CTO", "account_id": id(&account)}))
                .await,
            StatusCode::OK,
        )
        .await;
        let current = json_of(app.get(&path).await, StatusCode::OK).await;
        assert_eq!(app.delete(&path).await.status(), StatusCode::NO_CONTENT);

        let (events, cursor) = read_feed(
            &app,
            &app.admin_token,
            "contact.created,contact.updated,contact.deleted,account.created",
            4,
        )
        .await;
        assert_eq!(
            types_of(&events),
            [
                "account.created",
                "contact.created",
                "contact.updated",
                "contact.deleted"
            ]
        );
        assert_eq!(events[1]["data"], contact);
        assert_eq!(
            events[2]["data"], current,
            "an update carries the resource after the change"
        );
        assert_eq!(
            events[3]["data"],
            json!({"id": id(&contact)}),
            "a deletion carries only the id"
        );
        let admin = records::admin_id(&app).await;
        assert_eq!(events[1]["actor"], json!({"type": "user", "id": admin}));
        let ids: std::collections::HashSet<&str> =
            events.iter().map(|e| e["id"].as_str().unwrap()).collect();
        assert_eq!(ids.len(), 4);

        // Caught up: the same cursor comes back with nothing, to poll with later.
        let page = json_of(
            app.get(&format!("/v1/events?after={cursor}")).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(page["data"], json!([]));
        assert_eq!(page["next_cursor"], cursor.as_str());
        assert_eq!(page["has_more"], false);
    }
);

db_test!(
    a_change_that_is_refused_or_rolled_back_emits_nothing,
    |app| {
        created(
            &app,
            "/v1/contacts",
            json!({"first_name": "Ana", "email": "ana@acme.example"}),
        )
        .await;
        let duplicate = app
            .post(
                "/v1/contacts",
                &json!({"first_name": "Ana", "email": "ana@acme.example"}),
            )
            .await;
        problem(duplicate, StatusCode::CONFLICT).await;
        let bad = app
            .post("/v1/contacts", &json!({"email": "not-an-email"}))
            .await;
        problem(bad, StatusCode::UNPROCESSABLE_ENTITY).await;
        created(&app, "/v1/accounts", json!({"name": "After"})).await;
        // The account's event comes after anything the refused requests could have written.
        let (events, _) =
            read_feed(&app, &app.admin_token, "contact.created,account.created", 2).await;
        assert_eq!(types_of(&events), ["contact.created", "account.created"]);
    }
);

db_test!(each_module_emits_its_events, |app| {
    let contact = records::contact(&app, None).await;
    let channel = records::channel(&app, "phone", "Hotline").await;
    records::logged(&app, &channel, json!({"contact_id": contact})).await;
    let complaint = crate::common::feedback::feedback(&app, json!({"contact_id": contact})).await;
    crate::common::feedback::moved(&app, &complaint, "acknowledged").await;
    let (events, _) = read_feed(
        &app,
        &app.admin_token,
        "channel.created,interaction.created,feedback.created,feedback.status_changed",
        4,
    )
    .await;
    assert_eq!(
        types_of(&events),
        [
            "channel.created",
            "interaction.created",
            "feedback.created",
            "feedback.status_changed"
        ]
    );
    assert_eq!(events[3]["data"]["status"], "acknowledged");
});

db_test!(
    a_reader_paging_with_the_cursor_sees_every_event_once,
    |app| {
        for n in 0..7 {
            created(
                &app,
                "/v1/accounts",
                json!({"name": format!("Account {n}")}),
            )
            .await;
        }
        let (events, _) = read_feed(&app, &app.admin_token, "account.created", 7).await;
        let names: Vec<&str> = events
            .iter()
            .map(|e| e["data"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            (0..7).map(|n| format!("Account {n}")).collect::<Vec<_>>()
        );
    }
);

db_test!(
    keys_see_the_areas_they_read_and_viewers_get_masked_contacts,
    |app| {
        created(&app, "/v1/accounts", json!({"name": "Acme"})).await;
        created(
            &app,
            "/v1/contacts",
            json!({"first_name": "Ana", "email": "ana@acme.example", "phone": "+8613812345678"}),
        )
        .await;
        let key = app.api_key(&["contacts:read"]).await;
        let (events, _) = read_feed(&app, &key, "contact.created", 1).await;
        assert_eq!(events[0]["data"]["email"], "ana@acme.example");
        let page = json_of(
            app.request_as(&key, Method::GET, "/v1/events")
                .send()
                .await
                .unwrap(),
            StatusCode::OK,
        )
        .await;
        assert!(
            types_of(page["data"].as_array().unwrap())
                .iter()
                .all(|t| t.starts_with("contact.")),
            "{page}"
        );
        let other = app
            .request_as(&key, Method::GET, "/v1/events?types=account.created")
            .send()
            .await
            .unwrap();
        problem(other, StatusCode::FORBIDDEN).await;

        let viewer = app.token_for("viewer").await;
        let (events, _) = read_feed(&app, &viewer, "contact.created", 1).await;
        assert_eq!(events[0]["data"]["email"], "a***@acme.example");
        assert_eq!(events[0]["data"]["phone"], "+86 138****5678");
    }
);

db_test!(bad_feed_requests_get_clear_errors, |app| {
    let unknown = problem(
        app.get("/v1/events?types=contact.exploded").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(
        unknown["detail"]
            .as_str()
            .unwrap()
            .contains("contact.created"),
        "{unknown}"
    );
    problem(
        app.get("/v1/events?after=garbage").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    problem(app.get("/v1/events?limit=0").await, StatusCode::BAD_REQUEST).await;
    problem(
        app.get("/v1/events?limit=1001").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    problem(app.get("/v1/events?types=").await, StatusCode::BAD_REQUEST).await;
    let anonymous = app.client.get(app.url("/v1/events")).send().await.unwrap();
    problem(anonymous, StatusCode::UNAUTHORIZED).await;
});

db_test!(erasing_a_contact_reduces_their_events_to_ids, |app| {
    let contact = created(
        &app,
        "/v1/contacts",
        json!({"first_name": "Ana", "email": "ana@acme.example"}),
    )
    .await;
    let path = format!("/v1/contacts/{}", id(&contact));
    json_of(
        app.patch(&path, &json!({"title": "CTO"})).await,
        StatusCode::OK,
    )
    .await;
    json_of(
        app.post(&format!("{path}/erase"), &json!({})).await,
        StatusCode::OK,
    )
    .await;
    let (events, _) = read_feed(
        &app,
        &app.admin_token,
        "contact.created,contact.updated,contact.erased",
        3,
    )
    .await;
    assert_eq!(
        types_of(&events),
        ["contact.created", "contact.updated", "contact.erased"]
    );
    for event in &events {
        assert_eq!(event["data"]["id"], id(&contact).as_str());
    }
    assert_eq!(events[0]["data"]["erased"], true);
    let all = app.get("/v1/events?limit=1000").await.text().await.unwrap();
    assert!(
        !all.contains("ana@acme.example") && !all.contains("Ana"),
        "{all}"
    );
});

db_test!(a_cursor_older_than_the_retention_is_gone, |app| {
    created(&app, "/v1/accounts", json!({"name": "Old one"})).await;
    let (_, old_cursor) = read_feed(&app, &app.admin_token, "account.created", 1).await;
    created(&app, "/v1/accounts", json!({"name": "Old two"})).await;
    read_feed(&app, &app.admin_token, "account.created", 2).await;
    app.advance_clock(chrono::TimeDelta::days(31)).await;
    created(&app, "/v1/accounts", json!({"name": "New"})).await;
    // The hourly pruning runs on the next tick of the moved clock.
    for _ in 0..100 {
        let page = json_of(
            app.get("/v1/events?types=account.created").await,
            StatusCode::OK,
        )
        .await;
        if page["data"].as_array().unwrap().len() == 1 {
            assert_eq!(page["data"][0]["data"]["name"], "New");
            let gone = problem(
                app.get(&format!("/v1/events?after={old_cursor}")).await,
                StatusCode::GONE,
            )
            .await;
            assert!(
                gone["detail"].as_str().unwrap().contains("30-day"),
                "{gone}"
            );
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("events past the retention were not removed");
});

/// PostgreSQL hands out transaction ids when transactions start writing, not
/// when they commit: an event of a long transaction must not be skipped by a
/// reader who already read a later one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_that_commits_late_is_not_skipped_on_postgres() {
    let Some(app) = TestApp::postgres().await else {
        return;
    };
    let pool = sqlx::PgPool::connect(&app.database_url).await.unwrap();
    let mut long = pool.begin().await.unwrap();
    // The long transaction takes its id first…
    sqlx::query("SELECT pg_current_xact_id()")
        .execute(&mut *long)
        .await
        .unwrap();
    // …then a later one commits an event through the API.
    created(&app, "/v1/accounts", json!({"name": "Later"})).await;
    let page = json_of(
        app.get("/v1/events?types=account.created").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        page["data"],
        json!([]),
        "the feed must wait for the older transaction"
    );
    let cursor = page["next_cursor"].as_str().unwrap().to_string();
    sqlx::query(
        "INSERT INTO events (tx_id, seq, id, type, area, occurred_at, data, actor_type)
         VALUES (pg_current_xact_id()::text::bigint, 1, $1, 'account.created', 'accounts', now(), $2, 'system')",
    )
    .bind(uuid::Uuid::now_v7())
    .bind(sqlx::types::Json(json!({"name": "Earlier"})))
    .execute(&mut *long)
    .await
    .unwrap();
    long.commit().await.unwrap();
    let mut names = Vec::new();
    let mut after = cursor;
    for _ in 0..100 {
        let page = json_of(
            app.get(&format!("/v1/events?types=account.created&after={after}"))
                .await,
            StatusCode::OK,
        )
        .await;
        for event in page["data"].as_array().unwrap() {
            names.push(event["data"]["name"].as_str().unwrap().to_string());
        }
        after = page["next_cursor"].as_str().unwrap().to_string();
        if names.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(names, ["Earlier", "Later"]);
    pool.close().await;
}

db_test!(the_event_types_a_caller_may_read_are_listed, |app| {
    let all = json_of(app.get("/v1/event-types").await, StatusCode::OK).await;
    let names: Vec<&str> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["type"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"contact.created") && names.contains(&"webhook_endpoint.disabled"),
        "{all}"
    );
    let key = app.api_key(&["feedback:read"]).await;
    let some = json_of(
        app.request_as(&key, Method::GET, "/v1/event-types")
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let areas: Vec<&str> = some["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["area"].as_str().unwrap())
        .collect();
    assert!(
        !areas.is_empty() && areas.iter().all(|a| *a == "feedback"),
        "{some}"
    );
});
