//! Webhooks: endpoints, Standard Webhooks signatures, retries on the
//! schedule, disabling, rotation, test events, manual retries, many nodes.

use std::time::Duration;

use chrono::TimeDelta;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{TestApp, created, header, id, json_of, problem, receiver::Receiver};

async fn endpoint(app: &TestApp, receiver: &Receiver, extra: Value) -> Value {
    let mut body = json!({"url": receiver.url, "description": "Billing"});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    created(app, "/v1/webhook-endpoints", body).await
}

async fn deliveries(app: &TestApp, endpoint: &Value) -> Vec<Value> {
    let page = json_of(
        app.get(&format!(
            "/v1/webhook-endpoints/{}/deliveries",
            id(endpoint)
        ))
        .await,
        StatusCode::OK,
    )
    .await;
    page["data"].as_array().unwrap().clone()
}

/// Waits until the endpoint's newest delivery satisfies `done`.
async fn delivery_until(app: &TestApp, endpoint: &Value, done: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..300 {
        if let Some(first) = deliveries(app, endpoint).await.first()
            && done(first)
        {
            return first.clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "the delivery never got there: {:?}",
        deliveries(app, endpoint).await
    );
}

db_test!(an_event_arrives_signed_per_standard_webhooks, |app| {
    let receiver = Receiver::start().await;
    let hook = endpoint(&app, &receiver, json!({})).await;
    let secret = hook["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"), "{hook}");
    let read = json_of(
        app.get(&format!("/v1/webhook-endpoints/{}", id(&hook)))
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(
        read.get("secret").is_none(),
        "the secret is shown once: {read}"
    );

    let account = created(&app, "/v1/accounts", json!({"name": "Acme"})).await;
    let got = receiver.wait_for(1).await;
    let request = &got[0];
    assert!(request.signed_by(&secret), "{request:?}");
    assert_eq!(request.header("content-type"), "application/json");
    let body = request.json();
    assert_eq!(body["type"], "account.created");
    assert_eq!(body["data"], account);
    assert!(body["timestamp"].is_string());
    let (events, _) = crate::events::read_feed(&app, &app.admin_token, "account.created", 1).await;
    assert_eq!(
        request.header("webhook-id"),
        events[0]["id"].as_str().unwrap()
    );
    let timestamp: i64 = request.header("webhook-timestamp").parse().unwrap();
    assert!(
        (timestamp - app.now().timestamp()).abs() < 60,
        "the attempt's time, on the server's clock"
    );

    let delivery = delivery_until(&app, &hook, |d| d["status"] == "succeeded").await;
    assert_eq!(delivery["attempt_count"], 1);
    assert_eq!(delivery["attempts"][0]["status_code"], 200);
    assert_eq!(delivery["event_type"], "account.created");
});

db_test!(an_endpoint_gets_only_the_types_it_subscribed_to, |app| {
    let receiver = Receiver::start().await;
    endpoint(&app, &receiver, json!({"event_types": ["account.created"]})).await;
    created(&app, "/v1/contacts", json!({"first_name": "Ana"})).await;
    created(&app, "/v1/accounts", json!({"name": "Acme"})).await;
    let got = receiver.wait_for(1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.received().len(), 1);
    assert_eq!(got[0].json()["type"], "account.created");
});

db_test!(
    a_failed_attempt_is_retried_within_ten_seconds_with_the_same_id,
    |app| {
        let receiver = Receiver::start().await;
        receiver.answer(&[500]);
        let hook = endpoint(&app, &receiver, json!({})).await;
        created(&app, "/v1/accounts", json!({"name": "Acme"})).await;
        let first = delivery_until(&app, &hook, |d| d["attempt_count"] == 1).await;
        assert_eq!(first["status"], "pending");
        assert_eq!(first["attempts"][0]["status_code"], 500);
        assert_eq!(first["attempts"][0]["error"], "the receiver answered 500");
        let attempted: chrono::DateTime<chrono::Utc> = first["attempts"][0]["attempted_at"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let next: chrono::DateTime<chrono::Utc> =
            first["next_attempt_at"].as_str().unwrap().parse().unwrap();
        let wait = next - attempted;
        assert!(
            wait >= TimeDelta::seconds(4) && wait <= TimeDelta::seconds(10),
            "{wait}"
        );

        app.advance_clock(TimeDelta::seconds(10)).await;
        let done = delivery_until(&app, &hook, |d| d["status"] == "succeeded").await;
        assert_eq!(done["attempt_count"], 2);
        let got = receiver.received();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].header("webhook-id"), got[1].header("webhook-id"));
    }
);

db_test!(
    an_endpoint_failing_the_whole_schedule_is_disabled_and_says_so,
    |app| {
        let receiver = Receiver::start().await;
        receiver.always_answer(503);
        let hook = endpoint(&app, &receiver, json!({})).await;
        created(&app, "/v1/accounts", json!({"name": "Acme"})).await;
        for attempt in 1..=11 {
            delivery_until(&app, &hook, |d| d["attempt_count"] == attempt).await;
            app.advance_clock(TimeDelta::hours(30)).await;
        }
        let failed = delivery_until(&app, &hook, |d| d["status"] == "failed").await;
        assert_eq!(failed["next_attempt_at"], Value::Null);
        let read = json_of(
            app.get(&format!("/v1/webhook-endpoints/{}", id(&hook)))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(read["enabled"], false);
        assert!(
            read["disabled_reason"]
                .as_str()
                .unwrap()
                .contains("retry schedule"),
            "{read}"
        );
        let (events, _) =
            crate::events::read_feed(&app, &app.admin_token, "webhook_endpoint.disabled", 1).await;
        assert_eq!(events[0]["data"]["id"], id(&hook).as_str());
        assert_eq!(events[0]["actor"]["type"], "system");

        // Enabled again, a manual retry goes out.
        receiver.always_answer(200);
        let path = format!("/v1/webhook-endpoints/{}", id(&hook));
        let enabled = json_of(
            app.patch(&path, &json!({"enabled": true})).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(enabled["disabled_reason"], Value::Null);
        let retry = app
            .post(
                &format!("{path}/deliveries/{}/retry", id(&failed)),
                &json!({}),
            )
            .await;
        assert_eq!(retry.status(), StatusCode::ACCEPTED);
        // The endpoint may also get the event that it was disabled, now that
        // it is enabled again: follow this delivery.
        let one = format!("{path}/deliveries/{}", id(&failed));
        for _ in 0..300 {
            let delivery = json_of(app.get(&one).await, StatusCode::OK).await;
            if delivery["status"] == "succeeded" {
                assert_eq!(delivery["attempt_count"], 12);
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the retried delivery never succeeded");
    }
);

db_test!(
    a_rotated_secret_signs_next_to_the_old_one_for_the_overlap,
    |app| {
        let receiver = Receiver::start().await;
        let hook = endpoint(&app, &receiver, json!({})).await;
        let old = hook["secret"].as_str().unwrap().to_string();
        let path = format!("/v1/webhook-endpoints/{}/rotate-secret", id(&hook));
        let rotated = json_of(
            app.post(&path, &json!({"overlap_hours": 24})).await,
            StatusCode::OK,
        )
        .await;
        let new = rotated["secret"].as_str().unwrap().to_string();
        assert_ne!(old, new);
        created(&app, "/v1/accounts", json!({"name": "During"})).await;
        let got = receiver.wait_for(1).await;
        assert!(got[0].signed_by(&new) && got[0].signed_by(&old));

        app.advance_clock(TimeDelta::hours(25)).await;
        created(&app, "/v1/accounts", json!({"name": "After"})).await;
        let got = receiver.wait_for(2).await;
        assert!(got[1].signed_by(&new) && !got[1].signed_by(&old));
        // An empty body rotates with the default overlap.
        let again = app.request(Method::POST, &path).send().await.unwrap();
        let again = json_of(again, StatusCode::OK).await;
        assert!(again["previous_secret_expires_at"].is_string(), "{again}");
        let bad = app.post(&path, &json!({"overlap_hours": 1000})).await;
        problem(bad, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
);

db_test!(a_test_event_goes_to_its_endpoint_alone, |app| {
    let first = Receiver::start().await;
    let second = Receiver::start().await;
    let hook = endpoint(&app, &first, json!({})).await;
    endpoint(&app, &second, json!({})).await;
    let response = app
        .post(
            &format!("/v1/webhook-endpoints/{}/test", id(&hook)),
            &json!({}),
        )
        .await;
    let delivery = json_of(response, StatusCode::ACCEPTED).await;
    assert_eq!(delivery["event_type"], "webhook.test");
    let got = first.wait_for(1).await;
    assert_eq!(got[0].json()["type"], "webhook.test");
    assert!(got[0].signed_by(hook["secret"].as_str().unwrap()));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(second.received().is_empty());
});

db_test!(endpoints_are_for_admins_and_refuse_bad_input, |app| {
    let receiver = Receiver::start().await;
    for token in [
        app.token_for("manager").await,
        app.api_key(&["contacts:manage"]).await,
    ] {
        let response = app
            .request_as(&token, Method::GET, "/v1/webhook-endpoints")
            .send()
            .await
            .unwrap();
        problem(response, StatusCode::FORBIDDEN).await;
    }
    let bad = problem(
        app.post(
            "/v1/webhook-endpoints",
            &json!({"url": "ftp://x", "event_types": ["contact.exploded"]}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let fields: Vec<&str> = bad["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["event_types", "url"]);
    problem(
        app.post(
            "/v1/webhook-endpoints",
            &json!({"url": receiver.url, "secret": "x"}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    let hook = endpoint(&app, &receiver, json!({})).await;
    let path = format!("/v1/webhook-endpoints/{}", id(&hook));
    problem(
        app.patch(&path, &json!({"url": null})).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    let stale = app
        .request(Method::PATCH, &path)
        .header("If-Match", "\"99\"")
        .json(&json!({"enabled": false}))
        .send()
        .await
        .unwrap();
    problem(stale, StatusCode::PRECONDITION_FAILED).await;
    let listed = json_of(app.get("/v1/webhook-endpoints").await, StatusCode::OK).await;
    assert_eq!(listed["data"][0]["id"], id(&hook).as_str());
    assert!(header(&app.delete(&path).await, "content-length").is_none_or(|l| l == "0"));
    problem(app.get(&path).await, StatusCode::NOT_FOUND).await;
    problem(
        app.get(&format!("{path}/deliveries")).await,
        StatusCode::NOT_FOUND,
    )
    .await;
});

db_test!(
    a_delivery_claimed_by_a_node_that_died_is_made_by_another,
    |app| {
        let receiver = Receiver::start().await;
        receiver.answer(&[500]);
        let hook = endpoint(&app, &receiver, json!({})).await;
        created(&app, "/v1/accounts", json!({"name": "Acme"})).await;
        delivery_until(&app, &hook, |d| d["attempt_count"] == 1).await;
        // A node claims the retry (due now) and dies before making it: its
        // lease, a few seconds long, stays until it runs out.
        app.execute_sql("UPDATE webhook_deliveries SET locked_until = next_attempt_at, next_attempt_at = created_at")
        .await;
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(
            receiver.received().len(),
            1,
            "nobody touches a delivery under a live lease"
        );
        app.advance_clock(TimeDelta::hours(2)).await;
        let done = delivery_until(&app, &hook, |d| d["status"] == "succeeded").await;
        assert_eq!(done["attempt_count"], 2);
    }
);

db_test!(two_nodes_deliver_each_event_once, |app| {
    let receiver = Receiver::start().await;
    endpoint(&app, &receiver, json!({"event_types": ["account.created"]})).await;
    let node = app.another_node(|_| {}).await;
    for n in 0..20 {
        created(
            &app,
            "/v1/accounts",
            json!({"name": format!("Account {n}")}),
        )
        .await;
    }
    let got = receiver.wait_for(20).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let ids: std::collections::HashSet<String> = receiver
        .received()
        .iter()
        .map(|r| r.header("webhook-id").to_string())
        .collect();
    assert_eq!(ids.len(), 20);
    assert_eq!(
        receiver.received().len(),
        20,
        "each event once: {}",
        got.len()
    );
    node.stop().await;
});

db_test!(a_server_that_forbids_private_urls_refuses_them, |app| {
    let node = app
        .another_node(|s| s.webhook_allow_private_urls = false)
        .await;
    for url in [
        "http://127.0.0.1:9/x",
        "http://localhost/x",
        "http://169.254.169.254/latest",
        "http://[::1]/x",
    ] {
        let response = app
            .client
            .post(node.url("/v1/webhook-endpoints"))
            .bearer_auth(&app.admin_token)
            .json(&json!({"url": url}))
            .send()
            .await
            .unwrap();
        let body = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(body["errors"][0]["field"], "url", "{url}: {body}");
    }
    node.stop().await;
});
