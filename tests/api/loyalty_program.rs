//! The programme settings, enrolment, members and tiers.

use crate::common::loyalty::*;
use crate::common::*;
use chrono::Duration;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn put(app: &TestApp, token: Option<&str>, body: &Value) -> reqwest::RequestBuilder {
    match token {
        Some(t) => app.request_as(t, Method::PUT, "/v1/loyalty/program"),
        None => app.request(Method::PUT, "/v1/loyalty/program"),
    }
    .json(body)
}

fn settings(tiers: Value) -> Value {
    json!({"name": "Club", "earn_rate": {"currency": "USD", "points": 2, "per_amount_minor": 100},
           "tiers": tiers, "tier_basis": "lifetime", "expiry_months": 12})
}

db_test!(a_fresh_install_has_a_default_programme, |app| {
    let response = app.get("/v1/loyalty/program").await;
    assert_eq!(response.headers()["etag"], "\"1\"");
    let p = json_of(response, StatusCode::OK).await;
    assert_eq!(p["name"], "Rewards");
    assert_eq!(
        p["earn_rate"],
        json!({"currency": "EUR", "points": 1, "per_amount_minor": 100})
    );
    assert_eq!(
        p["tiers"],
        json!([{"name": "Member", "min_points": 0}, {"name": "Silver", "min_points": 1000}, {"name": "Gold", "min_points": 5000}])
    );
    assert_eq!(
        (p["tier_basis"].as_str(), p["expiry_months"].clone()),
        (Some("lifetime"), Value::Null)
    );
});

db_test!(
    only_admins_replace_the_programme_and_everyone_reads_it,
    |app| {
        let body = settings(
            json!([{"name": "Base", "min_points": 0}, {"name": "Top", "min_points": 100}]),
        );
        let manager = app.token_for("manager").await;
        problem(
            put(&app, Some(&manager), &body).send().await.unwrap(),
            StatusCode::FORBIDDEN,
        )
        .await;
        let key = app.api_key(&["loyalty:write"]).await;
        problem(
            put(&app, Some(&key), &body).send().await.unwrap(),
            StatusCode::FORBIDDEN,
        )
        .await;
        let response = put(&app, None, &body).send().await.unwrap();
        assert_eq!(response.headers()["etag"], "\"2\"");
        let p = json_of(response, StatusCode::OK).await;
        assert_eq!(
            (
                p["name"].as_str(),
                p["expiry_months"].as_i64(),
                p["version"].as_i64()
            ),
            (Some("Club"), Some(12), Some(2))
        );
        let viewer = app.token_for("viewer").await;
        let read = json_of(
            app.request_as(&viewer, Method::GET, "/v1/loyalty/program")
                .send()
                .await
                .unwrap(),
            StatusCode::OK,
        )
        .await;
        assert_eq!(read, p);
        let stale = put(&app, None, &body)
            .header("if-match", "\"1\"")
            .send()
            .await
            .unwrap();
        problem(stale, StatusCode::PRECONDITION_FAILED).await;
        json_of(
            put(&app, None, &body)
                .header("if-match", "\"2\"")
                .send()
                .await
                .unwrap(),
            StatusCode::OK,
        )
        .await;
    }
);

db_test!(invalid_programmes_are_refused_with_field_errors, |app| {
    let bad_tiers =
        settings(json!([{"name": "A", "min_points": 10}, {"name": "a", "min_points": 5}]));
    let p = problem(
        put(&app, None, &bad_tiers).send().await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"tiers[0].min_points") && fields.contains(&"tiers[1].name"),
        "{fields:?}"
    );
    let mut rolling = settings(json!([{"name": "A", "min_points": 0}]));
    rolling["tier_basis"] = json!("rolling");
    let p = problem(
        put(&app, None, &rolling).send().await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "tier_window_months");
    let mut currency = settings(json!([{"name": "A", "min_points": 0}]));
    currency["earn_rate"]["currency"] = json!("EURO");
    problem(
        put(&app, None, &currency).send().await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let mut expiry = settings(json!([{"name": "A", "min_points": 0}]));
    expiry["expiry_months"] = json!(0);
    problem(
        put(&app, None, &expiry).send().await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let empty = settings(json!([]));
    problem(
        put(&app, None, &empty).send().await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let mut extra = settings(json!([{"name": "A", "min_points": 0}]));
    extra["colour"] = json!("gold");
    problem(
        put(&app, None, &extra).send().await.unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(
        json_of(app.get("/v1/loyalty/program").await, StatusCode::OK).await["version"],
        1
    );
});

db_test!(
    enrolling_a_contact_makes_a_member_in_the_lowest_tier_once,
    |app| {
        let person = contact(&app, None).await;
        let response = app
            .post("/v1/loyalty/members", &json!({"contact_id": person}))
            .await;
        assert_eq!(
            response.headers()["location"].to_str().unwrap(),
            format!("/v1/loyalty/members/{person}")
        );
        let m = json_of(response, StatusCode::CREATED).await;
        assert_eq!(
            (
                m["balance"].as_i64(),
                m["lifetime_points"].as_i64(),
                m["tier"].as_str()
            ),
            (Some(0), Some(0), Some("Member"))
        );
        assert_eq!(
            (m["next_tier"].as_str(), m["points_to_next_tier"].as_i64()),
            (Some("Silver"), Some(1000))
        );
        assert_eq!(m["expiring_soon"], json!([]));
        let p = problem(
            app.post("/v1/loyalty/members", &json!({"contact_id": person}))
                .await,
            StatusCode::CONFLICT,
        )
        .await;
        assert_eq!(p["contact_id"].as_str(), Some(person.as_str()));
        let missing = json!({"contact_id": uuid::Uuid::now_v7()});
        let p = problem(
            app.post("/v1/loyalty/members", &missing).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(p["errors"][0]["field"], "contact_id");
        let viewer = app.token_for("viewer").await;
        let other = contact(&app, None).await;
        let refused = app
            .request_as(&viewer, Method::POST, "/v1/loyalty/members")
            .json(&json!({"contact_id": other}))
            .send()
            .await
            .unwrap();
        problem(refused, StatusCode::FORBIDDEN).await;
    }
);

db_test!(a_deleted_contact_is_no_longer_a_member, |app| {
    let member = new_member(&app).await;
    earn(&app, &member, 10).await;
    assert_eq!(
        app.delete(&format!("/v1/contacts/{member}")).await.status(),
        StatusCode::NO_CONTENT
    );
    problem(
        app.get(&format!("/v1/loyalty/members/{member}")).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        write(&app, &path(&member, "earn"), &key(), &json!({"points": 1})).await,
        StatusCode::NOT_FOUND,
    )
    .await;
});

db_test!(
    tiers_follow_lifetime_points_on_every_write_and_are_recorded,
    |app| {
        let member = new_member(&app).await;
        let first = earn(&app, &member, 900).await;
        assert_eq!(get_member(&app, &member).await["points_to_next_tier"], 100);
        let second = earn(&app, &member, 200).await;
        let m = get_member(&app, &member).await;
        assert_eq!(
            (
                m["tier"].as_str(),
                m["next_tier"].as_str(),
                m["points_to_next_tier"].as_i64()
            ),
            (Some("Silver"), Some("Gold"), Some(3900))
        );
        assert_eq!(m["tier_since"], second["created_at"]);
        json_of(redeem(&app, &member, 1100).await, StatusCode::CREATED).await;
        assert_eq!(
            get_member(&app, &member).await["tier"],
            "Silver",
            "spending does not lower lifetime tiers"
        );
        let url = format!("{}/{}/reverse", path(&member, "ledger"), id(&first));
        write(
            &app,
            &path(&member, "adjust"),
            &key(),
            &json!({"points": 900, "reason": "refund prep"}),
        )
        .await;
        json_of(
            write(&app, &url, &key(), &json!({"reason": "Order refunded"})).await,
            StatusCode::CREATED,
        )
        .await;
        let m = get_member(&app, &member).await;
        assert_eq!(
            (m["tier"].as_str(), m["lifetime_points"].as_i64()),
            (Some("Silver"), Some(1100))
        );
        let history = json_of(
            app.get(&format!("/v1/loyalty/members/{member}/tier-changes"))
                .await,
            StatusCode::OK,
        )
        .await;
        let changes: Vec<(Value, Value)> = history["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["from_tier"].clone(), c["to_tier"].clone()))
            .collect();
        assert_eq!(
            changes,
            vec![
                (json!("Member"), json!("Silver")),
                (Value::Null, json!("Member"))
            ]
        );
        assert_eq!(history["data"][0]["entry_id"], second["id"]);
        assert_eq!(history["data"][0]["tier_points"], 1100);
    }
);

db_test!(
    a_reversal_that_drops_lifetime_points_below_a_threshold_lowers_the_tier,
    |app| {
        let member = new_member(&app).await;
        earn(&app, &member, 500).await;
        let big = earn(&app, &member, 600).await;
        assert_eq!(get_member(&app, &member).await["tier"], "Silver");
        let url = format!("{}/{}/reverse", path(&member, "ledger"), id(&big));
        json_of(
            write(&app, &url, &key(), &json!({})).await,
            StatusCode::CREATED,
        )
        .await;
        let m = get_member(&app, &member).await;
        assert_eq!(
            (m["tier"].as_str(), m["lifetime_points"].as_i64()),
            (Some("Member"), Some(500))
        );
    }
);

db_test!(new_thresholds_apply_to_members_at_their_next_read, |app| {
    let member = new_member(&app).await;
    earn(&app, &member, 300).await;
    set_program(&app, json!({"tiers": [{"name": "Member", "min_points": 0}, {"name": "Bronze", "min_points": 200}]})).await;
    let m = get_member(&app, &member).await;
    assert_eq!(
        (m["tier"].as_str(), m["next_tier"].clone()),
        (Some("Bronze"), Value::Null)
    );
    let history = json_of(
        app.get(&format!("/v1/loyalty/members/{member}/tier-changes"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(history["data"][0]["to_tier"], "Bronze");
    assert!(history["data"][0]["entry_id"].is_null());
});

db_test!(
    a_rolling_window_counts_only_recent_qualifying_points,
    |app| {
        set_program(
            &app,
            json!({"tier_basis": "rolling", "tier_window_months": 12}),
        )
        .await;
        let member = new_member(&app).await;
        let old = earn(&app, &member, 800).await;
        earn(&app, &member, 300).await;
        let m = get_member(&app, &member).await;
        assert_eq!(
            (m["tier"].as_str(), m["tier_points"].as_i64()),
            (Some("Silver"), Some(1100))
        );
        backdate_entry(&app, &id(&old), app.now() - Duration::days(400)).await;
        let m = get_member(&app, &member).await;
        assert_eq!(
            (
                m["tier"].as_str(),
                m["tier_points"].as_i64(),
                m["lifetime_points"].as_i64()
            ),
            (Some("Member"), Some(300), Some(1100))
        );
        assert_eq!(m["points_to_next_tier"], 700);
    }
);

db_test!(members_are_listed_and_filtered_by_tier, |app| {
    let a = new_member(&app).await;
    let b = new_member(&app).await;
    earn(&app, &b, 1000).await;
    let all = json_of(app.get("/v1/loyalty/members?limit=1").await, StatusCode::OK).await;
    assert_eq!(all["data"][0]["contact_id"].as_str(), Some(a.as_str()));
    let rest = json_of(
        app.get(&format!(
            "/v1/loyalty/members?cursor={}",
            all["next_cursor"].as_str().unwrap()
        ))
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(rest["data"][0]["contact_id"].as_str(), Some(b.as_str()));
    let silver = json_of(
        app.get("/v1/loyalty/members?tier=Silver").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(silver["data"].as_array().unwrap().len(), 1);
    assert_eq!(silver["data"][0]["balance"], 1000);
    problem(
        app.get("/v1/loyalty/members?limit=0").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
});
