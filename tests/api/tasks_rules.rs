//! The rules that create tasks (`/v1/settings/tasks`): complaints at risk,
//! key-account reviews, birthday greetings. They run on the server's jobs
//! (every 100 ms in tests) and the clock is moved, never waited for.

use std::time::Duration;

use chrono::TimeDelta;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::feedback::feedback;
use crate::common::*;

/// The tasks matching `query` once there are `count` of them (the jobs run every 100 ms).
async fn tasks_when(app: &TestApp, query: &str, count: usize) -> Vec<Value> {
    for _ in 0..100 {
        let page = json_of(app.get(&format!("/v1/tasks?{query}")).await, StatusCode::OK).await;
        let tasks = page["data"].as_array().unwrap().clone();
        if tasks.len() >= count {
            return tasks;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("fewer than {count} tasks for {query}");
}

async fn put_settings(app: &TestApp, body: Value, if_match: &str) -> reqwest::Response {
    app.request(Method::PUT, "/v1/settings/tasks")
        .header("if-match", if_match)
        .json(&body)
        .send()
        .await
        .unwrap()
}

fn all(on: bool) -> Value {
    json!({"complaint_follow_ups": on, "key_account_reviews": on, "birthday_greetings": on})
}

db_test!(the_rules_are_on_until_an_admin_turns_them_off, |app| {
    let current = json_of(app.get("/v1/settings/tasks").await, StatusCode::OK).await;
    assert_eq!(current["version"], 0);
    assert_eq!(current["key_account_reviews"], true);
    let saved = json_of(
        put_settings(&app, all(false), "\"0\"").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(saved["version"], 1);
    assert_eq!(saved["birthday_greetings"], false);
    problem(
        put_settings(&app, all(true), "\"0\"").await,
        StatusCode::PRECONDITION_FAILED,
    )
    .await;
    let mut unknown = all(true);
    unknown["escalation_user_id"] = json!(uuid::Uuid::now_v7());
    problem(
        put_settings(&app, unknown, "\"1\"").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let manager = app.token_for("manager").await;
    problem(
        app.request_as(&manager, Method::GET, "/v1/settings/tasks")
            .send()
            .await
            .unwrap(),
        StatusCode::FORBIDDEN,
    )
    .await;
});

db_test!(
    a_complaint_going_at_risk_gets_one_follow_up_for_its_assignee,
    |app| {
        let agent = app.create_user("agent").await;
        let complaint = feedback(
            &app,
            json!({"priority": "normal", "assignee_id": id(&agent)}),
        )
        .await;
        // A first response is due in 24 hours; at risk from 19.2 hours.
        app.advance_clock(TimeDelta::hours(20)).await;
        let tasks = tasks_when(&app, "kind=follow_up", 1).await;
        assert_eq!(tasks[0]["assignee_id"], agent["id"]);
        assert_eq!(tasks[0]["feedback_id"], complaint["id"]);
        assert_eq!(tasks[0]["rule"], "complaint_at_risk");
        assert_eq!(tasks[0]["due_at"], complaint["first_response_due_at"]);
        app.advance_clock(TimeDelta::hours(10)).await;
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(
            tasks_when(&app, "kind=follow_up", 1).await.len(),
            1,
            "once, breached or not"
        );
    }
);

db_test!(
    an_unassigned_complaint_goes_to_the_escalation_user_unless_the_rule_is_off,
    |app| {
        let lead = app.create_user("manager").await;
        let mut rules = all(true);
        rules["escalation_user_id"] = lead["id"].clone();
        json_of(put_settings(&app, rules, "\"0\"").await, StatusCode::OK).await;
        feedback(&app, json!({"priority": "normal"})).await;
        app.advance_clock(TimeDelta::hours(20)).await;
        let tasks = tasks_when(&app, "kind=follow_up", 1).await;
        assert_eq!(tasks[0]["assignee_id"], lead["id"]);
        json_of(
            put_settings(&app, all(false), "\"1\"").await,
            StatusCode::OK,
        )
        .await;
        feedback(&app, json!({"priority": "normal"})).await;
        app.advance_clock(TimeDelta::hours(20)).await;
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(tasks_when(&app, "kind=follow_up", 1).await.len(), 1);
    }
);

db_test!(
    every_key_account_with_an_owner_gets_a_quarterly_review,
    |app| {
        let owner = app.create_user("agent").await;
        let acme = created(
            &app,
            "/v1/accounts",
            json!({"name": "Acme", "key_account": true, "owner_id": id(&owner)}),
        )
        .await;
        created(
            &app,
            "/v1/accounts",
            json!({"name": "Small", "owner_id": id(&owner)}),
        )
        .await;
        let tasks = tasks_when(&app, "kind=review", 1).await;
        // The test clock starts on 1 June 2026: the quarter ends on 30 June.
        assert_eq!(tasks[0]["due_on"], "2026-06-30");
        assert_eq!(tasks[0]["account_id"], acme["id"]);
        assert_eq!(tasks[0]["assignee_id"], owner["id"]);
        assert_eq!(tasks[0]["repeat"], json!({"every": 1, "unit": "quarter"}));
        assert_eq!(tasks[0]["title"], "Quarterly review with Acme");
        // Done, it comes back at the end of the next quarter; the rule adds no second series.
        json_of(
            app.patch(
                &format!("/v1/tasks/{}", id(&tasks[0])),
                &json!({"status": "done"}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        tokio::time::sleep(Duration::from_millis(400)).await;
        let open = tasks_when(&app, "kind=review&status=open", 1).await;
        assert_eq!(open.len(), 1);
        assert_eq!(open[0]["due_on"], "2026-09-30");
    }
);

db_test!(
    a_contact_with_a_birthday_and_an_owner_gets_a_yearly_greeting,
    |app| {
        let owner = app.create_user("agent").await;
        let body = json!({"first_name": "Mei", "birthday": "06-15", "time_zone": "Asia/Shanghai", "owner_id": id(&owner)});
        let mei = created(&app, "/v1/contacts", body).await;
        assert_eq!(mei["birthday"], "06-15");
        let tasks = tasks_when(&app, "kind=greeting", 1).await;
        assert_eq!(tasks[0]["due_on"], "2026-06-15");
        assert_eq!(tasks[0]["time_zone"], "Asia/Shanghai");
        assert_eq!(tasks[0]["contact_id"], mei["id"]);
        assert_eq!(tasks[0]["repeat"], json!({"every": 1, "unit": "year"}));
        assert_eq!(tasks[0]["title"], "Birthday greeting for Mei");
        let body = problem(
            app.post(
                "/v1/contacts",
                &json!({"first_name": "X", "birthday": "02-30"}),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(body["errors"][0]["code"], "invalid_birthday");
        json_of(
            app.post(&format!("/v1/contacts/{}/erase", id(&mei)), &json!({}))
                .await,
            StatusCode::OK,
        )
        .await;
        let erased = json_of(
            app.get(&format!("/v1/contacts/{}", id(&mei))).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(erased["birthday"], Value::Null);
    }
);
