//! Who may write to the ledger (roles and API-key scopes), and its audit trail.

use crate::common::loyalty::*;
use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

db_test!(
    roles_viewers_read_agents_earn_and_redeem_managers_adjust_and_reverse,
    |app| {
        let member = new_member(&app).await;
        let e = earn(&app, &member, 100).await;
        let viewer = app.token_for("viewer").await;
        let agent = app.token_for("agent").await;
        let manager = app.token_for("manager").await;
        let get = |token: &str, url: String| app.request_as(token, Method::GET, &url).send();
        json_of(
            get(&viewer, format!("/v1/loyalty/members/{member}"))
                .await
                .unwrap(),
            StatusCode::OK,
        )
        .await;
        json_of(
            get(&viewer, path(&member, "ledger")).await.unwrap(),
            StatusCode::OK,
        )
        .await;
        problem(
            write_as(
                &app,
                &viewer,
                &path(&member, "earn"),
                &key(),
                &json!({"points": 1}),
            )
            .await,
            StatusCode::FORBIDDEN,
        )
        .await;
        json_of(
            write_as(
                &app,
                &agent,
                &path(&member, "earn"),
                &key(),
                &json!({"points": 1}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        json_of(
            write_as(
                &app,
                &agent,
                &path(&member, "redeem"),
                &key(),
                &json!({"points": 1}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let adjust = json!({"points": 1, "reason": "r"});
        problem(
            write_as(&app, &agent, &path(&member, "adjust"), &key(), &adjust).await,
            StatusCode::FORBIDDEN,
        )
        .await;
        let reverse = format!("{}/{}/reverse", path(&member, "ledger"), id(&e));
        problem(
            write_as(&app, &agent, &reverse, &key(), &json!({})).await,
            StatusCode::FORBIDDEN,
        )
        .await;
        json_of(
            write_as(&app, &manager, &path(&member, "adjust"), &key(), &adjust).await,
            StatusCode::CREATED,
        )
        .await;
        json_of(
            write_as(&app, &manager, &reverse, &key(), &json!({})).await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(balance(&app, &member).await, 1);
    }
);

db_test!(
    partner_keys_with_loyalty_write_earn_and_redeem_and_read_only_keys_cannot,
    |app| {
        let member = new_member(&app).await;
        let till = app.api_key(&["loyalty:write"]).await;
        let reader = app.api_key(&["loyalty:read"]).await;
        let entry = json_of(
            write_as(
                &app,
                &till,
                &path(&member, "earn"),
                "rcpt-1",
                &json!({"amount_minor": 1000, "currency": "EUR"}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(entry["actor"]["type"], "api_key");
        json_of(
            write_as(
                &app,
                &till,
                &path(&member, "redeem"),
                "rcpt-2",
                &json!({"points": 4}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        problem(
            write_as(
                &app,
                &reader,
                &path(&member, "earn"),
                &key(),
                &json!({"points": 1}),
            )
            .await,
            StatusCode::FORBIDDEN,
        )
        .await;
        let m = json_of(
            app.request_as(
                &reader,
                Method::GET,
                &format!("/v1/loyalty/members/{member}"),
            )
            .send()
            .await
            .unwrap(),
            StatusCode::OK,
        )
        .await;
        assert_eq!(m["balance"], 6);
        let unrelated = app.api_key(&["contacts:write"]).await;
        problem(
            write_as(
                &app,
                &unrelated,
                &path(&member, "earn"),
                &key(),
                &json!({"points": 1}),
            )
            .await,
            StatusCode::FORBIDDEN,
        )
        .await;
    }
);

db_test!(every_ledger_write_is_in_the_audit_log, |app| {
    let member = new_member(&app).await;
    let e = earn(&app, &member, 10).await;
    let events = json_of(
        app.get(&format!(
            "/v1/audit-events?entity_type=loyalty_member&entity_id={member}"
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
    assert!(
        actions.contains(&"enrol") && actions.contains(&"earn"),
        "{actions:?}"
    );
    let earned = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["action"] == "earn")
        .unwrap();
    assert_eq!(earned["changes"]["entry_id"], e["id"]);
});
