//! The complaint-handling workflow (`POST /v1/feedback/{id}/transitions`) and the activity log
//! (`/v1/feedback/{id}/activities`).

use crate::common::feedback::*;
use crate::common::records::*;
use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const STATES: [&str; 6] = [
    "new",
    "acknowledged",
    "in_progress",
    "waiting_on_customer",
    "resolved",
    "closed",
];

/// The legal moves, as the issue lists them (plus waiting_on_customer → resolved, see the API description).
fn legal(from: &str) -> &'static [&'static str] {
    match from {
        "new" => &["acknowledged", "in_progress"],
        "acknowledged" => &["in_progress"],
        "in_progress" => &["waiting_on_customer", "resolved"],
        "waiting_on_customer" => &["in_progress", "resolved"],
        "resolved" => &["closed", "in_progress"],
        "closed" => &["in_progress"],
        _ => unreachable!(),
    }
}

/// A complaint brought to `state`.
async fn complaint_in(app: &TestApp, state: &str) -> Value {
    let item = feedback(app, json!({})).await;
    let path: &[&str] = match state {
        "new" => &[],
        "acknowledged" => &["acknowledged"],
        "in_progress" => &["in_progress"],
        "waiting_on_customer" => &["in_progress", "waiting_on_customer"],
        "resolved" => &["in_progress", "resolved"],
        "closed" => &["in_progress", "resolved", "closed"],
        _ => unreachable!(),
    };
    walk(app, &item, path).await
}

db_test!(every_legal_move_is_accepted, |app| {
    for from in STATES {
        for to in legal(from) {
            let item = complaint_in(&app, from).await;
            assert_eq!(item["status"], from);
            let after = moved(&app, &item, to).await;
            assert_eq!(after["status"], *to, "{from} → {to}");
            assert_eq!(
                after["version"].as_i64().unwrap(),
                item["version"].as_i64().unwrap() + 1
            );
        }
    }
    // Inquiries follow the same workflow.
    let inquiry = feedback(&app, json!({"kind": "inquiry"})).await;
    let done = walk(
        &app,
        &inquiry,
        &[
            "acknowledged",
            "in_progress",
            "waiting_on_customer",
            "resolved",
            "closed",
        ],
    )
    .await;
    assert_eq!(done["status"], "closed");
});

db_test!(
    every_illegal_move_is_a_409_listing_the_allowed_states,
    |app| {
        for from in STATES {
            let item = complaint_in(&app, from).await;
            for to in STATES.iter().filter(|to| !legal(from).contains(to)) {
                let body = problem(
                    transition(&app, &item, to, Some("note")).await,
                    StatusCode::CONFLICT,
                )
                .await;
                let allowed: Vec<&str> = body["allowed"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().unwrap())
                    .collect();
                assert_eq!(allowed, legal(from), "{from} → {to}: {body}");
                assert_eq!(body["current_status"], from);
            }
            // Refused moves change nothing.
            let now = json_of(app.get(&path(&item)).await, StatusCode::OK).await;
            assert_eq!(now["version"], item["version"]);
        }
    }
);

db_test!(kinds_without_a_workflow_refuse_every_move, |app| {
    for kind in ["suggestion", "praise"] {
        let item = feedback(&app, json!({"kind": kind})).await;
        let body = problem(
            transition(&app, &item, "in_progress", None).await,
            StatusCode::CONFLICT,
        )
        .await;
        assert_eq!(body["allowed"], json!([]));
        assert!(
            body["detail"].as_str().unwrap().contains("no status"),
            "{body}"
        );
    }
    let answer = survey(&app, json!({"csat": 4})).await;
    problem(
        transition(&app, &answer, "acknowledged", None).await,
        StatusCode::CONFLICT,
    )
    .await;
});

db_test!(
    resolving_requires_a_note_which_becomes_the_resolution,
    |app| {
        let item = complaint_in(&app, "in_progress").await;
        let body = problem(
            transition(&app, &item, "resolved", None).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(body["errors"][0]["field"], "note");
        problem(
            transition(&app, &item, "resolved", Some("   ")).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        let resolved = json_of(
            transition(&app, &item, "resolved", Some(" Refunded. ")).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(resolved["resolution"], "Refunded.");
        let body = problem(
            transition(&app, &item, "teleported", None).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(body["errors"][0]["field"], "to");
        problem(
            app.post(
                &format!("{}/transitions", path(&item)),
                &json!({"to": "closed", "nope": 1}),
            )
            .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        problem(
            app.post(
                &format!("/v1/feedback/{}/transitions", uuid::Uuid::now_v7()),
                &json!({"to": "closed"}),
            )
            .await,
            StatusCode::NOT_FOUND,
        )
        .await;
    }
);

db_test!(moves_set_and_clear_their_timestamps, |app| {
    let item = feedback(&app, json!({})).await;
    let ack = moved(&app, &item, "acknowledged").await;
    let first = ack["first_responded_at"].clone();
    assert!(first.is_string());
    // Only the first move out of `new` is the first response.
    let working = moved(&app, &ack, "in_progress").await;
    assert_eq!(working["first_responded_at"], first);
    assert_eq!(working["resolved_at"], Value::Null);
    let resolved = moved(&app, &working, "resolved").await;
    assert!(resolved["resolved_at"].is_string());
    assert_eq!(resolved["sla_state"], "met");
    let closed = moved(&app, &resolved, "closed").await;
    assert!(closed["closed_at"].is_string());
    assert_eq!(closed["resolved_at"], resolved["resolved_at"]);
    let reopened = moved(&app, &closed, "in_progress").await;
    assert_eq!(reopened["resolved_at"], Value::Null);
    assert_eq!(reopened["closed_at"], Value::Null);
    assert_eq!(reopened["resolution"], Value::Null);
    assert_eq!(reopened["reopen_count"], 1);
    assert_eq!(reopened["first_responded_at"], first);
    assert_eq!(reopened["sla_state"], "on_track");
    let direct = moved(&app, &feedback(&app, json!({})).await, "in_progress").await;
    assert!(direct["first_responded_at"].is_string());
});

db_test!(a_stale_if_match_on_a_move_is_a_412, |app| {
    let item = feedback(&app, json!({})).await;
    let url = format!("{}/transitions", path(&item));
    let stale = app
        .request(Method::POST, &url)
        .header("if-match", "\"5\"")
        .json(&json!({"to": "acknowledged"}))
        .send()
        .await
        .unwrap();
    problem(stale, StatusCode::PRECONDITION_FAILED).await;
    let fresh = app
        .request(Method::POST, &url)
        .header("if-match", "\"1\"")
        .json(&json!({"to": "acknowledged"}))
        .send()
        .await
        .unwrap();
    assert_eq!(header(&fresh, "etag").as_deref(), Some("\"2\""));
    json_of(fresh, StatusCode::OK).await;
});

/// Fires the moves at once; returns the states of the winners and the statuses of the losers.
async fn race(
    app: &TestApp,
    item: &Value,
    bodies: Vec<Value>,
    if_match: Option<&str>,
) -> (Vec<String>, Vec<StatusCode>) {
    let mut set = tokio::task::JoinSet::new();
    for body in bodies {
        let mut request = app
            .request(Method::POST, &format!("{}/transitions", path(item)))
            .json(&body);
        if let Some(tag) = if_match {
            request = request.header("if-match", tag);
        }
        set.spawn(async move {
            let response = request.send().await.unwrap();
            (response.status(), response.json::<Value>().await.unwrap())
        });
    }
    let (mut won, mut lost) = (Vec::new(), Vec::new());
    while let Some(result) = set.join_next().await {
        let (status, body) = result.unwrap();
        match status {
            StatusCode::OK => won.push(body["status"].as_str().unwrap().to_string()),
            other => lost.push(other),
        }
    }
    (won, lost)
}

async fn assert_one_move(app: &TestApp, item: &Value, won: &[String]) {
    assert_eq!(won.len(), 1, "{won:?}");
    let after = json_of(app.get(&path(item)).await, StatusCode::OK).await;
    assert_eq!(after["status"], won[0].as_str());
    assert_eq!(after["version"], 2);
    assert_eq!(
        activities(app, item).await.len(),
        1,
        "one move, one activity"
    );
}

const TARGETS: [&str; 2] = ["acknowledged", "in_progress"];

db_test!(
    of_concurrent_moves_from_the_same_state_exactly_one_wins,
    |app| {
        // The same move eight times: the losers find the item already acknowledged.
        let item = feedback(&app, json!({})).await;
        let (won, lost) = race(&app, &item, vec![json!({"to": "acknowledged"}); 8], None).await;
        assert_one_move(&app, &item, &won).await;
        assert_eq!(lost, vec![StatusCode::CONFLICT; 7]);
        // Different moves from the state both callers saw (`from`).
        let item = feedback(&app, json!({})).await;
        let bodies = (0..8)
            .map(|i| json!({"to": TARGETS[i % 2], "from": "new"}))
            .collect();
        let (won, lost) = race(&app, &item, bodies, None).await;
        assert_one_move(&app, &item, &won).await;
        assert_eq!(lost, vec![StatusCode::CONFLICT; 7]);
        // Different moves from the version both callers read (`If-Match`).
        let item = feedback(&app, json!({})).await;
        let bodies = (0..8).map(|i| json!({"to": TARGETS[i % 2]})).collect();
        let (won, lost) = race(&app, &item, bodies, Some("\"1\"")).await;
        assert_one_move(&app, &item, &won).await;
        assert_eq!(lost, vec![StatusCode::PRECONDITION_FAILED; 7]);
    }
);

db_test!(a_move_from_a_state_the_item_has_left_is_a_409, |app| {
    let item = feedback(&app, json!({})).await;
    moved(&app, &item, "acknowledged").await;
    let body = json!({"to": "in_progress", "from": "new"});
    let refused = problem(
        app.post(&format!("{}/transitions", path(&item)), &body)
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(refused["current_status"], "acknowledged");
    assert_eq!(refused["allowed"], json!(["in_progress"]));
    let body = json!({"to": "in_progress", "from": "acknowledged"});
    json_of(
        app.post(&format!("{}/transitions", path(&item)), &body)
            .await,
        StatusCode::OK,
    )
    .await;
});

db_test!(every_move_assignment_and_comment_is_an_activity, |app| {
    let agent = app.create_user("agent").await;
    let item = feedback(&app, json!({"assignee_id": id(&agent)})).await;
    let me = admin_id(&app).await;
    let working = moved(&app, &item, "in_progress").await;
    let comment_url = format!("{}/activities", path(&item));
    let response = app
        .post(
            &comment_url,
            &json!({"note": "Asked finance", "visibility": "internal"}),
        )
        .await;
    let comment = json_of(response, StatusCode::CREATED).await;
    assert_eq!(comment["kind"], "comment");
    let reply = json_of(
        app.post(
            &comment_url,
            &json!({"note": "We are on it.", "visibility": "customer"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let body = json!({"to": "resolved", "note": "Refunded", "visibility": "customer"});
    json_of(
        app.post(&format!("{}/transitions", path(&working)), &body)
            .await,
        StatusCode::OK,
    )
    .await;
    let log = activities(&app, &item).await;
    let kinds: Vec<&str> = log.iter().map(|a| a["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "assignment",
            "transition",
            "comment",
            "comment",
            "transition"
        ]
    );
    assert_eq!(log[0]["assignee_id"], agent["id"]);
    assert_eq!(
        (log[1]["from_status"].as_str(), log[1]["to_status"].as_str()),
        (Some("new"), Some("in_progress"))
    );
    assert_eq!(log[4]["note"], "Refunded");
    assert_eq!(log[4]["visibility"], "customer");
    for a in &log {
        assert_eq!(a["actor_type"], "user");
        assert_eq!(a["actor_id"], me.as_str());
        assert!(a["occurred_at"].is_string());
    }
    let customer = json_of(
        app.get(&format!("{comment_url}?visibility=customer")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        ids(customer["data"].as_array().unwrap()),
        [id(&reply), id(&log[4])]
    );
    let paged = all_pages(&app, &format!("{comment_url}?limit=2")).await;
    assert_eq!(ids(&paged), ids(&log));
    // An API key's comment names the key.
    let key = app.api_key(&["feedback:write"]).await;
    let by_key = app
        .request_as(&key, Method::POST, &comment_url)
        .json(&json!({"note": "Synced from helpdesk"}))
        .send()
        .await
        .unwrap();
    let by_key = json_of(by_key, StatusCode::CREATED).await;
    assert_eq!(by_key["actor_type"], "api_key");
    assert_eq!(by_key["visibility"], "internal");
});

db_test!(comments_are_checked, |app| {
    let item = feedback(&app, json!({})).await;
    let url = format!("{}/activities", path(&item));
    let body = problem(
        app.post(&url, &json!({"note": "  "})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "note");
    let body = problem(
        app.post(&url, &json!({"note": "x", "visibility": "public"}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "visibility");
    problem(
        app.post(&url, &json!({"note": "x", "kind": "transition"}))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    problem(
        app.get(&format!("{url}?visibility=public")).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    let missing = format!("/v1/feedback/{}/activities", uuid::Uuid::now_v7());
    problem(
        app.post(&missing, &json!({"note": "x"})).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    // A comment is not a first response.
    json_of(
        app.post(&url, &json!({"note": "hello", "visibility": "customer"}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let after = json_of(app.get(&path(&item)).await, StatusCode::OK).await;
    assert_eq!(after["first_responded_at"], Value::Null);
    assert_eq!(after["status"], "new");
});
