//! Lots and expiry: FIFO redemption, `expire` entries, expiry runs that are
//! safe to repeat, `expiring_soon`, the CLI command.

use crate::common::loyalty::*;
use crate::common::*;
use chrono::{DateTime, Duration, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn lot_ids(entry: &Value) -> Vec<String> {
    entry["lots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["lot_id"].as_str().unwrap().to_string())
        .collect()
}

fn lot_points(entry: &Value) -> Vec<i64> {
    entry["lots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["points"].as_i64().unwrap())
        .collect()
}

async fn expire_run(app: &TestApp) -> Value {
    json_of(
        app.post("/v1/loyalty/expire-run", &json!({})).await,
        StatusCode::OK,
    )
    .await
}

db_test!(earnings_expire_after_the_programmes_months, |app| {
    set_program(&app, json!({"expiry_months": 6})).await;
    let member = new_member(&app).await;
    let entry = earn(&app, &member, 10).await;
    let created: DateTime<Utc> = entry["created_at"].as_str().unwrap().parse().unwrap();
    let expires: DateTime<Utc> = entry["lots"][0]["expires_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        expires,
        created.checked_add_months(chrono::Months::new(6)).unwrap()
    );
});

db_test!(
    redemptions_take_the_soonest_expiring_lots_first_and_never_expiring_ones_last,
    |app| {
        let member = new_member(&app).await;
        let forever = earn(&app, &member, 100).await;
        set_program(&app, json!({"expiry_months": 24})).await;
        let late = earn(&app, &member, 100).await;
        set_program(&app, json!({"expiry_months": 1})).await;
        let soon = earn(&app, &member, 100).await;
        let spent = json_of(redeem(&app, &member, 150).await, StatusCode::CREATED).await;
        assert_eq!(lot_ids(&spent), [lot_ids(&soon), lot_ids(&late)].concat());
        assert_eq!(lot_points(&spent), vec![100, 50]);
        let spent = json_of(redeem(&app, &member, 100).await, StatusCode::CREATED).await;
        assert_eq!(
            lot_ids(&spent),
            [lot_ids(&late), lot_ids(&forever)].concat()
        );
        assert_eq!(lot_points(&spent), vec![50, 50]);
        let fetched = json_of(
            app.get(&format!("{}/{}", path(&member, "ledger"), id(&spent)))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(fetched["lots"], spent["lots"]);
    }
);

db_test!(
    an_expiry_run_writes_one_expire_entry_per_lot_and_a_second_run_expires_nothing,
    |app| {
        set_program(&app, json!({"expiry_months": 12})).await;
        let member = new_member(&app).await;
        let old = earn(&app, &member, 100).await;
        earn(&app, &member, 40).await;
        json_of(redeem(&app, &member, 30).await, StatusCode::CREATED).await;
        set_lot_expiry(&app, &id(&old), app.now() - Duration::days(1)).await;
        let first = expire_run(&app).await;
        assert_eq!(first, json!({"members": 1, "lots": 1, "points": 70}));
        assert_eq!(
            expire_run(&app).await,
            json!({"members": 0, "lots": 0, "points": 0})
        );
        let page = ledger(&app, &member).await;
        assert_eq!(kinds(&page), vec!["expire", "redeem", "earn", "earn"]);
        let expired = &entries(&page)[0];
        assert_eq!(
            (
                expired["points"].as_i64(),
                expired["balance_after"].as_i64()
            ),
            (Some(-70), Some(40))
        );
        assert_eq!(expired["actor"], json!({"type": "system", "id": null}));
        assert_eq!(balance(&app, &member).await, 40);
        let lifetime = get_member(&app, &member).await["lifetime_points"].as_i64();
        assert_eq!(
            lifetime,
            Some(140),
            "expiry does not reduce lifetime points"
        );
        let agent = app.token_for("agent").await;
        let refused = app
            .request_as(&agent, reqwest::Method::POST, "/v1/loyalty/expire-run")
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        problem(refused, StatusCode::FORBIDDEN).await;
    }
);

db_test!(
    a_write_expires_due_points_first_so_they_cannot_be_spent,
    |app| {
        set_program(&app, json!({"expiry_months": 12})).await;
        let member = new_member(&app).await;
        let old = earn(&app, &member, 100).await;
        earn(&app, &member, 20).await;
        set_lot_expiry(&app, &id(&old), app.now() - Duration::hours(1)).await;
        let p = problem(redeem(&app, &member, 50).await, StatusCode::CONFLICT).await;
        assert_eq!(p["balance"], 20);
        let spent = json_of(redeem(&app, &member, 20).await, StatusCode::CREATED).await;
        assert_eq!(spent["balance_after"], 0);
        assert_eq!(
            kinds(&ledger(&app, &member).await),
            vec!["redeem", "expire", "earn", "earn"]
        );
        assert_eq!(expire_run(&app).await["lots"], 0);
    }
);

db_test!(
    reading_a_member_expires_what_is_due_and_lists_what_expires_within_30_days,
    |app| {
        set_program(&app, json!({"expiry_months": 12})).await;
        let member = new_member(&app).await;
        let due = earn(&app, &member, 10).await;
        let soon = earn(&app, &member, 20).await;
        let also_soon = earn(&app, &member, 5).await;
        earn(&app, &member, 40).await;
        let in_ten_days = app.now() + Duration::days(10);
        set_lot_expiry(&app, &id(&due), app.now() - Duration::minutes(1)).await;
        set_lot_expiry(&app, &id(&soon), in_ten_days).await;
        set_lot_expiry(&app, &id(&also_soon), in_ten_days).await;
        let m = get_member(&app, &member).await;
        assert_eq!(m["balance"], 65);
        assert_eq!(m["expiring_soon"].as_array().unwrap().len(), 1);
        assert_eq!(m["expiring_soon"][0]["points"], 25);
        let at: DateTime<Utc> = m["expiring_soon"][0]["expires_at"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((at - in_ten_days).num_seconds().abs() < 1);
        assert_eq!(kinds(&ledger(&app, &member).await)[0], "expire");
    }
);

db_test!(
    reversing_a_redemption_gives_the_points_back_with_their_expiry_dates,
    |app| {
        set_program(&app, json!({"expiry_months": 12})).await;
        let member = new_member(&app).await;
        let a = earn(&app, &member, 50).await;
        let b = earn(&app, &member, 50).await;
        let spent = json_of(redeem(&app, &member, 80).await, StatusCode::CREATED).await;
        let url = format!("{}/{}/reverse", path(&member, "ledger"), id(&spent));
        let back = json_of(
            write(&app, &url, &key(), &json!({})).await,
            StatusCode::CREATED,
        )
        .await;
        let expiries: Vec<&Value> = back["lots"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| &l["expires_at"])
            .collect();
        assert_eq!(
            expiries,
            vec![&a["lots"][0]["expires_at"], &b["lots"][0]["expires_at"]]
        );
        assert_eq!(lot_points(&back), vec![50, 30]);
        assert_eq!(balance(&app, &member).await, 100);
    }
);

db_test!(
    points_given_back_after_their_expiry_date_expire_at_once,
    |app| {
        set_program(&app, json!({"expiry_months": 12})).await;
        let member = new_member(&app).await;
        let a = earn(&app, &member, 50).await;
        let spent = json_of(redeem(&app, &member, 50).await, StatusCode::CREATED).await;
        set_lot_expiry(&app, &id(&a), app.now() - Duration::days(2)).await;
        let url = format!("{}/{}/reverse", path(&member, "ledger"), id(&spent));
        json_of(
            write(&app, &url, &key(), &json!({})).await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(balance(&app, &member).await, 0);
        assert_eq!(
            kinds(&ledger(&app, &member).await),
            vec!["expire", "reverse", "redeem", "earn"]
        );
    }
);

db_test!(expired_points_cannot_be_reversed, |app| {
    set_program(&app, json!({"expiry_months": 12})).await;
    let member = new_member(&app).await;
    let a = earn(&app, &member, 50).await;
    set_lot_expiry(&app, &id(&a), app.now() - Duration::days(2)).await;
    expire_run(&app).await;
    let expired = entries(&ledger(&app, &member).await)[0].clone();
    assert_eq!(expired["kind"], "expire");
    let url = format!("{}/{}/reverse", path(&member, "ledger"), id(&expired));
    problem(
        write(&app, &url, &key(), &json!({})).await,
        StatusCode::CONFLICT,
    )
    .await;
});

db_test!(the_cli_command_expires_due_points_once, |app| {
    set_program(&app, json!({"expiry_months": 12})).await;
    let member = new_member(&app).await;
    let a = earn(&app, &member, 25).await;
    set_lot_expiry(&app, &id(&a), app.now() - Duration::days(1)).await;
    let run = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_rapport"))
            .args(["loyalty", "expire"])
            .env("RAPPORT_DATABASE_URL", &app.database_url)
            .env("RAPPORT_LOG", "error")
            .output()
            .expect("the command runs")
    };
    let first = run();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&first.stdout).trim(),
        "expired 25 points in 1 lots of 1 members"
    );
    let second = run();
    assert_eq!(
        String::from_utf8_lossy(&second.stdout).trim(),
        "expired 0 points in 0 lots of 0 members"
    );
    assert_eq!(balance(&app, &member).await, 0);
    assert_eq!(kinds(&ledger(&app, &member).await), vec!["expire", "earn"]);
});

db_test!(expired_points_leave_the_balance_but_not_the_tier, |app| {
    // Expiry is not a qualifying event: a member keeps its tier when points expire.
    set_program(&app, json!({"expiry_months": 12})).await;
    let member = new_member(&app).await;
    let a = earn(&app, &member, 1200).await;
    set_lot_expiry(&app, &id(&a), app.now() - Duration::days(1)).await;
    expire_run(&app).await;
    let m = get_member(&app, &member).await;
    assert_eq!(
        (m["balance"].as_i64(), m["tier"].as_str()),
        (Some(0), Some("Silver"))
    );
});
