//! Rewards catalogue and redemptions.

use crate::common::loyalty::*;
use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn get_reward(app: &TestApp, reward: &Value) -> Value {
    json_of(
        app.get(&format!("/v1/loyalty/rewards/{}", id(reward)))
            .await,
        StatusCode::OK,
    )
    .await
}

db_test!(rewards_are_created_read_listed_patched_and_deleted, |app| {
    let response = app.post("/v1/loyalty/rewards", &json!({"name": " Coffee ", "description": "Any drink", "cost_points": 150, "stock": 40})).await;
    assert_eq!(response.headers()["etag"], "\"1\"");
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let coffee = json_of(response, StatusCode::CREATED).await;
    assert_eq!(
        (
            coffee["name"].as_str(),
            coffee["active"].as_bool(),
            coffee["stock"].as_i64()
        ),
        (Some("Coffee"), Some(true), Some(40))
    );
    assert_eq!(
        json_of(app.get(&location).await, StatusCode::OK).await,
        coffee
    );
    let mug = reward(
        &app,
        json!({"name": "Mug", "cost_points": 500, "active": false}),
    )
    .await;
    assert!(mug["stock"].is_null(), "no stock means unlimited");
    let active = json_of(
        app.get("/v1/loyalty/rewards?active=true").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        active["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(id)
            .collect::<Vec<_>>(),
        vec![id(&coffee)]
    );
    let all = json_of(app.get("/v1/loyalty/rewards?limit=1").await, StatusCode::OK).await;
    assert!(all["next_cursor"].is_string());
    let patched = app
        .request(Method::PATCH, &location)
        .header("if-match", "\"1\"")
        .json(&json!({"description": null, "stock": null, "cost_points": 120}))
        .send()
        .await
        .unwrap();
    let patched = json_of(patched, StatusCode::OK).await;
    assert_eq!(
        (
            patched["description"].clone(),
            patched["stock"].clone(),
            patched["cost_points"].as_i64()
        ),
        (Value::Null, Value::Null, Some(120))
    );
    assert_eq!(patched["version"], 2);
    let stale = app
        .request(Method::PATCH, &location)
        .header("if-match", "\"1\"")
        .json(&json!({"name": "Tea"}))
        .send()
        .await
        .unwrap();
    problem(stale, StatusCode::PRECONDITION_FAILED).await;
    problem(
        app.patch(&location, &json!({"cost_points": 0})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    problem(
        app.patch(&location, &json!({"colour": "red"})).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    problem(
        app.post(
            "/v1/loyalty/rewards",
            &json!({"name": "Free", "cost_points": 0}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    problem(
        app.post(
            "/v1/loyalty/rewards",
            &json!({"name": "Neg", "cost_points": 5, "stock": -1}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let deleted = app.delete(&location).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    problem(app.get(&location).await, StatusCode::NOT_FOUND).await;
});

db_test!(
    only_managers_edit_the_catalogue_and_everyone_reads_it,
    |app| {
        let coffee = reward(&app, json!({"name": "Coffee", "cost_points": 150})).await;
        let agent = app.token_for("agent").await;
        let viewer = app.token_for("viewer").await;
        let manager = app.token_for("manager").await;
        let create = |token: &str| {
            app.request_as(token, Method::POST, "/v1/loyalty/rewards")
                .json(&json!({"name": "X", "cost_points": 1}))
                .send()
        };
        problem(create(&agent).await.unwrap(), StatusCode::FORBIDDEN).await;
        json_of(create(&manager).await.unwrap(), StatusCode::CREATED).await;
        let read = app
            .request_as(
                &viewer,
                Method::GET,
                &format!("/v1/loyalty/rewards/{}", id(&coffee)),
            )
            .send()
            .await
            .unwrap();
        json_of(read, StatusCode::OK).await;
    }
);

db_test!(
    a_redemption_takes_points_and_one_unit_of_stock_together,
    |app| {
        let member = new_member(&app).await;
        earn(&app, &member, 400).await;
        let coffee = reward(
            &app,
            json!({"name": "Coffee", "cost_points": 150, "stock": 2}),
        )
        .await;
        let response = redeem_reward(&app, &member, &coffee).await;
        let location = response.headers()["location"].to_str().unwrap().to_string();
        let r = json_of(response, StatusCode::CREATED).await;
        assert_eq!(location, format!("/v1/loyalty/redemptions/{}", id(&r)));
        assert_eq!(
            (
                r["status"].as_str(),
                r["points"].as_i64(),
                r["balance_after"].as_i64()
            ),
            (Some("completed"), Some(150), Some(250))
        );
        assert_eq!(r["contact_id"].as_str(), Some(member.as_str()));
        let after = get_reward(&app, &coffee).await;
        assert_eq!(
            (after["stock"].as_i64(), after["version"].as_i64()),
            (Some(1), Some(2))
        );
        let entry = json_of(
            app.get(&format!(
                "{}/{}",
                path(&member, "ledger"),
                r["entry_id"].as_str().unwrap()
            ))
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(
            (
                entry["kind"].as_str(),
                entry["points"].as_i64(),
                entry["reason"].as_str()
            ),
            (Some("redeem"), Some(-150), Some("Coffee"))
        );
        assert_eq!(entry["redemption_id"], r["id"]);
        assert_eq!(json_of(app.get(&location).await, StatusCode::OK).await, r);
        let mine = json_of(
            app.get(&format!("/v1/loyalty/redemptions?contact_id={member}"))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(mine["data"][0]["id"], r["id"]);
    }
);

db_test!(
    out_of_stock_short_balance_and_inactive_rewards_are_409_and_change_nothing,
    |app| {
        let member = new_member(&app).await;
        earn(&app, &member, 100).await;
        let gone = reward(&app, json!({"name": "Gone", "cost_points": 10, "stock": 0})).await;
        let p = problem(
            redeem_reward(&app, &member, &gone).await,
            StatusCode::CONFLICT,
        )
        .await;
        assert_eq!(p["stock"], 0);
        let dear = reward(
            &app,
            json!({"name": "Dear", "cost_points": 101, "stock": 5}),
        )
        .await;
        let p = problem(
            redeem_reward(&app, &member, &dear).await,
            StatusCode::CONFLICT,
        )
        .await;
        assert_eq!(p["balance"], 100);
        assert_eq!(
            get_reward(&app, &dear).await["stock"],
            5,
            "the unit went back with the refused points"
        );
        let off = reward(
            &app,
            json!({"name": "Off", "cost_points": 1, "active": false}),
        )
        .await;
        problem(
            redeem_reward(&app, &member, &off).await,
            StatusCode::CONFLICT,
        )
        .await;
        assert_eq!(balance(&app, &member).await, 100);
        let unknown = json!({"contact_id": member, "reward_id": uuid::Uuid::now_v7()});
        let p = problem(
            write(&app, "/v1/loyalty/redemptions", &key(), &unknown).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(p["errors"][0]["field"], "reward_id");
        let stranger = contact(&app, None).await;
        let not_member = json!({"contact_id": stranger, "reward_id": id(&off)});
        let p = problem(
            write(&app, "/v1/loyalty/redemptions", &key(), &not_member).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(p["errors"][0]["field"], "contact_id");
        let body = json!({"contact_id": member, "reward_id": id(&dear)});
        problem(
            app.post("/v1/loyalty/redemptions", &body).await,
            StatusCode::PRECONDITION_REQUIRED,
        )
        .await;
    }
);

db_test!(
    cancelling_a_redemption_gives_back_the_points_and_the_stock_once,
    |app| {
        let member = new_member(&app).await;
        earn(&app, &member, 300).await;
        let coffee = reward(
            &app,
            json!({"name": "Coffee", "cost_points": 150, "stock": 1}),
        )
        .await;
        let r = json_of(
            redeem_reward(&app, &member, &coffee).await,
            StatusCode::CREATED,
        )
        .await;
        let cancel = format!("/v1/loyalty/redemptions/{}/cancel", id(&r));
        let agent = app.token_for("agent").await;
        problem(
            write_as(&app, &agent, &cancel, &key(), &json!({})).await,
            StatusCode::FORBIDDEN,
        )
        .await;
        problem(
            app.post(&cancel, &json!({})).await,
            StatusCode::PRECONDITION_REQUIRED,
        )
        .await;
        let done = json_of(
            write(&app, &cancel, &key(), &json!({"reason": "Returned"})).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(
            (done["status"].as_str(), done["balance_after"].as_i64()),
            (Some("cancelled"), Some(300))
        );
        assert!(done["cancelled_at"].is_string());
        let back = json_of(
            app.get(&format!(
                "{}/{}",
                path(&member, "ledger"),
                done["cancel_entry_id"].as_str().unwrap()
            ))
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(
            (back["kind"].as_str(), back["points"].as_i64()),
            (Some("reverse"), Some(150))
        );
        assert_eq!(back["reverses_entry_id"], r["entry_id"]);
        assert_eq!(get_reward(&app, &coffee).await["stock"], 1);
        problem(
            write(&app, &cancel, &key(), &json!({})).await,
            StatusCode::CONFLICT,
        )
        .await;
        assert_eq!(balance(&app, &member).await, 300);
        let cancelled = json_of(
            app.get("/v1/loyalty/redemptions?status=cancelled").await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(cancelled["data"].as_array().unwrap().len(), 1);
    }
);

db_test!(
    a_redemptions_ledger_entry_is_undone_by_cancelling_not_by_reversing,
    |app| {
        let member = new_member(&app).await;
        earn(&app, &member, 300).await;
        let coffee = reward(&app, json!({"name": "Coffee", "cost_points": 150})).await;
        let r = json_of(
            redeem_reward(&app, &member, &coffee).await,
            StatusCode::CREATED,
        )
        .await;
        let url = format!(
            "{}/{}/reverse",
            path(&member, "ledger"),
            r["entry_id"].as_str().unwrap()
        );
        let p = problem(
            write(&app, &url, &key(), &json!({})).await,
            StatusCode::CONFLICT,
        )
        .await;
        assert_eq!(p["redemption_id"], r["id"]);
        assert_eq!(balance(&app, &member).await, 150);
    }
);

db_test!(
    unlimited_rewards_keep_no_stock_and_keep_their_version,
    |app| {
        let member = new_member(&app).await;
        earn(&app, &member, 100).await;
        let pen = reward(&app, json!({"name": "Pen", "cost_points": 10})).await;
        for _ in 0..3 {
            json_of(
                redeem_reward(&app, &member, &pen).await,
                StatusCode::CREATED,
            )
            .await;
        }
        let after = get_reward(&app, &pen).await;
        assert_eq!(
            (after["stock"].clone(), after["version"].as_i64()),
            (Value::Null, Some(1))
        );
        assert_eq!(balance(&app, &member).await, 70);
    }
);

db_test!(a_partner_key_with_loyalty_write_redeems_rewards, |app| {
    let member = new_member(&app).await;
    earn(&app, &member, 100).await;
    let pen = reward(&app, json!({"name": "Pen", "cost_points": 10})).await;
    let till = app.api_key(&["loyalty:write"]).await;
    let body = json!({"contact_id": member, "reward_id": id(&pen)});
    json_of(
        write_as(&app, &till, "/v1/loyalty/redemptions", "till-9", &body).await,
        StatusCode::CREATED,
    )
    .await;
    let viewer = app.token_for("viewer").await;
    problem(
        write_as(&app, &viewer, "/v1/loyalty/redemptions", &key(), &body).await,
        StatusCode::FORBIDDEN,
    )
    .await;
});
