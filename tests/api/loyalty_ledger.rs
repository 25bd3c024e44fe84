//! The ledger: earn, redeem, adjust, reverse; idempotency; history and `as_of`.

use crate::common::loyalty::*;
use crate::common::*;
use reqwest::StatusCode;
use serde_json::json;

db_test!(
    earning_points_appends_an_entry_with_a_lot_and_raises_the_balance,
    |app| {
        let member = new_member(&app).await;
        let response = write(
            &app,
            &path(&member, "earn"),
            "till-1-receipt-1",
            &json!({"points": 120, "reason": "Order 1"}),
        )
        .await;
        let location = response.headers()["location"].to_str().unwrap().to_string();
        let entry = json_of(response, StatusCode::CREATED).await;
        assert_eq!(
            location,
            format!("/v1/loyalty/members/{member}/ledger/{}", id(&entry))
        );
        assert_eq!(entry["kind"], "earn");
        assert_eq!(entry["points"], 120);
        assert_eq!(entry["qualifying_points"], 120);
        assert_eq!(entry["balance_after"], 120);
        assert_eq!(entry["reason"], "Order 1");
        assert_eq!(entry["idempotency_key"], "till-1-receipt-1");
        assert_eq!(entry["actor"]["type"], "user");
        assert_eq!(entry["lots"][0]["points"], 120);
        assert_eq!(
            entry["lots"][0]["expires_at"],
            serde_json::Value::Null,
            "the default programme never expires points"
        );
        let fetched = json_of(app.get(&location).await, StatusCode::OK).await;
        assert_eq!(fetched, entry);
        let m = get_member(&app, &member).await;
        assert_eq!(
            (m["balance"].as_i64(), m["lifetime_points"].as_i64()),
            (Some(120), Some(120))
        );
    }
);

db_test!(
    an_amount_earns_points_at_the_programme_rate_rounded_down,
    |app| {
        let member = new_member(&app).await;
        let body = json!({"amount_minor": 4599, "currency": "eur"});
        let entry = json_of(
            write(&app, &path(&member, "earn"), &key(), &body).await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(entry["points"], 45);
        assert_eq!(
            (entry["amount_minor"].as_i64(), entry["currency"].as_str()),
            (Some(4599), Some("EUR"))
        );
        let other = json!({"amount_minor": 4599, "currency": "USD"});
        let p = problem(
            write(&app, &path(&member, "earn"), &key(), &other).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(p["errors"][0]["field"], "currency");
        let both = json!({"points": 5, "amount_minor": 500, "currency": "EUR"});
        problem(
            write(&app, &path(&member, "earn"), &key(), &both).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        let tiny = json!({"amount_minor": 99, "currency": "EUR"});
        problem(
            write(&app, &path(&member, "earn"), &key(), &tiny).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(balance(&app, &member).await, 45);
    }
);

db_test!(
    ledger_writes_without_an_idempotency_key_are_refused_with_428,
    |app| {
        let member = new_member(&app).await;
        for (action, body) in [
            ("earn", json!({"points": 10})),
            ("redeem", json!({"points": 1})),
            ("adjust", json!({"points": 5, "reason": "goodwill"})),
        ] {
            let p = problem(
                app.post(&path(&member, action), &body).await,
                StatusCode::PRECONDITION_REQUIRED,
            )
            .await;
            assert!(p["detail"].as_str().unwrap().contains("Idempotency-Key"));
        }
        assert_eq!(entries(&ledger(&app, &member).await).len(), 0);
    }
);

db_test!(
    a_retry_with_the_same_key_and_body_returns_the_first_result_without_writing_again,
    |app| {
        let member = new_member(&app).await;
        let body = json!({"points": 100, "reason": "Order 7"});
        let first = write(&app, &path(&member, "earn"), "order-7", &body).await;
        let first = json_of(first, StatusCode::CREATED).await;
        let retry = write(&app, &path(&member, "earn"), "order-7", &body).await;
        assert_eq!(retry.headers()["idempotent-replayed"], "true");
        assert_eq!(json_of(retry, StatusCode::CREATED).await, first);
        let changed = write(
            &app,
            &path(&member, "earn"),
            "order-7",
            &json!({"points": 999}),
        )
        .await;
        problem(changed, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(balance(&app, &member).await, 100);
        assert_eq!(entries(&ledger(&app, &member).await).len(), 1);
    }
);

db_test!(
    the_database_refuses_a_key_reused_on_the_same_member_by_another_caller,
    |app| {
        // The middleware remembers keys per caller; the ledger's UNIQUE
        // (member, key) catches what it cannot see.
        let member = new_member(&app).await;
        let first = json_of(
            write(
                &app,
                &path(&member, "earn"),
                "shared-key",
                &json!({"points": 10}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let agent = app.token_for("agent").await;
        let again = write_as(
            &app,
            &agent,
            &path(&member, "earn"),
            "shared-key",
            &json!({"points": 10}),
        )
        .await;
        let p = problem(again, StatusCode::CONFLICT).await;
        assert_eq!(p["entry_id"], first["id"]);
        assert_eq!(balance(&app, &member).await, 10);
        // For the database, the same key on another member is another operation.
        let other = new_member(&app).await;
        let manager = app.token_for("manager").await;
        json_of(
            write_as(
                &app,
                &manager,
                &path(&other, "earn"),
                "shared-key",
                &json!({"points": 10}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
    }
);

db_test!(
    a_redemption_above_the_balance_is_409_with_the_balance_and_writes_nothing,
    |app| {
        let member = new_member(&app).await;
        earn(&app, &member, 30).await;
        let p = problem(redeem(&app, &member, 31).await, StatusCode::CONFLICT).await;
        assert_eq!(p["balance"], 30);
        assert_eq!(p["requested_points"], 31);
        let entry = json_of(redeem(&app, &member, 30).await, StatusCode::CREATED).await;
        assert_eq!(
            (entry["points"].as_i64(), entry["balance_after"].as_i64()),
            (Some(-30), Some(0))
        );
        assert_eq!(entry["qualifying_points"], 0);
        problem(redeem(&app, &member, 1).await, StatusCode::CONFLICT).await;
        let m = get_member(&app, &member).await;
        assert_eq!(
            (m["balance"].as_i64(), m["lifetime_points"].as_i64()),
            (Some(0), Some(30))
        );
        assert_eq!(kinds(&ledger(&app, &member).await), vec!["redeem", "earn"]);
    }
);

db_test!(
    adjustments_need_a_reason_may_be_negative_and_count_towards_lifetime_points,
    |app| {
        let member = new_member(&app).await;
        earn(&app, &member, 100).await;
        let up = json!({"points": 50, "reason": "Goodwill"});
        let entry = json_of(
            write(&app, &path(&member, "adjust"), &key(), &up).await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(
            (entry["kind"].as_str(), entry["balance_after"].as_i64()),
            (Some("adjust"), Some(150))
        );
        let down = json!({"points": -120, "reason": "Duplicate earning"});
        let entry = json_of(
            write(&app, &path(&member, "adjust"), &key(), &down).await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(entry["balance_after"], 30);
        let too_far = json!({"points": -31, "reason": "Too much"});
        problem(
            write(&app, &path(&member, "adjust"), &key(), &too_far).await,
            StatusCode::CONFLICT,
        )
        .await;
        for bad in [
            json!({"points": 0, "reason": "x"}),
            json!({"points": 5, "reason": "  "}),
        ] {
            problem(
                write(&app, &path(&member, "adjust"), &key(), &bad).await,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
        problem(
            write(
                &app,
                &path(&member, "adjust"),
                &key(),
                &json!({"points": 5}),
            )
            .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        let m = get_member(&app, &member).await;
        assert_eq!(
            (m["balance"].as_i64(), m["lifetime_points"].as_i64()),
            (Some(30), Some(30))
        );
    }
);

db_test!(
    the_ledger_pages_newest_first_and_as_of_gives_the_balance_at_a_past_moment,
    |app| {
        let member = new_member(&app).await;
        let e1 = earn(&app, &member, 100).await;
        let e2 = earn(&app, &member, 50).await;
        let e3 = json_of(redeem(&app, &member, 30).await, StatusCode::CREATED).await;
        let page = json_of(
            app.get(&format!("{}?limit=2", path(&member, "ledger")))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(page["balance"], 120);
        assert_eq!(
            entries(&page).iter().map(id).collect::<Vec<_>>(),
            vec![id(&e3), id(&e2)]
        );
        assert!(
            page["data"][0].get("lots").is_none(),
            "lists leave lots out"
        );
        let cursor = page["next_cursor"].as_str().unwrap();
        let rest = json_of(
            app.get(&format!(
                "{}?limit=2&cursor={cursor}",
                path(&member, "ledger")
            ))
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(
            entries(&rest).iter().map(id).collect::<Vec<_>>(),
            vec![id(&e1)]
        );
        assert!(rest["next_cursor"].is_null());
        for (entry, expected) in [(&e1, 100), (&e2, 150), (&e3, 120)] {
            let at = entry["created_at"].as_str().unwrap();
            let url = format!(
                "{}?as_of={}",
                path(&member, "ledger"),
                at.replace('+', "%2B")
            );
            let past = json_of(app.get(&url).await, StatusCode::OK).await;
            assert_eq!(past["balance"], expected, "as of {at}");
            assert_eq!(
                past["as_of"]
                    .as_str()
                    .map(|s| s.parse::<chrono::DateTime<chrono::Utc>>().unwrap()),
                Some(at.parse().unwrap())
            );
            assert_eq!(entries(&past)[0]["id"], entry["id"]);
        }
        let before = json_of(
            app.get(&format!(
                "{}?as_of=2000-01-01T00:00:00Z",
                path(&member, "ledger")
            ))
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(
            (before["balance"].as_i64(), entries(&before).len()),
            (Some(0), 0)
        );
        let redeems = json_of(
            app.get(&format!("{}?kind=redeem", path(&member, "ledger")))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(kinds(&redeems), vec!["redeem"]);
        problem(
            app.get(&format!("{}?as_of=yesterday", path(&member, "ledger")))
                .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
);

db_test!(
    every_balance_after_equals_the_running_sum_of_the_ledger,
    |app| {
        let member = new_member(&app).await;
        earn(&app, &member, 70).await;
        json_of(redeem(&app, &member, 20).await, StatusCode::CREATED).await;
        write(
            &app,
            &path(&member, "adjust"),
            &key(),
            &json!({"points": 5, "reason": "r"}),
        )
        .await;
        let e = earn(&app, &member, 10).await;
        write(
            &app,
            &format!("{}/{}/reverse", path(&member, "ledger"), id(&e)),
            &key(),
            &json!({}),
        )
        .await;
        let page = ledger(&app, &member).await;
        let mut running = 0;
        for entry in entries(&page).iter().rev() {
            running += entry["points"].as_i64().unwrap();
            assert_eq!(entry["balance_after"].as_i64().unwrap(), running);
        }
        assert_eq!(page["balance"].as_i64().unwrap(), running);
        assert_eq!(balance(&app, &member).await, running);
    }
);

db_test!(reversing_an_entry_writes_its_opposite_once, |app| {
    let member = new_member(&app).await;
    let earned = earn(&app, &member, 100).await;
    let spent = json_of(redeem(&app, &member, 40).await, StatusCode::CREATED).await;
    let reverse =
        |entry: &serde_json::Value| format!("{}/{}/reverse", path(&member, "ledger"), id(entry));
    let back = json_of(
        write(
            &app,
            &reverse(&spent),
            &key(),
            &json!({"reason": "Voucher unused"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        (back["kind"].as_str(), back["points"].as_i64()),
        (Some("reverse"), Some(40))
    );
    assert_eq!(back["reverses_entry_id"], spent["id"]);
    assert_eq!(back["balance_after"], 100);
    let p = problem(
        write(&app, &reverse(&spent), &key(), &json!({})).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(p["reversal_entry_id"], back["id"]);
    problem(
        write(&app, &reverse(&back), &key(), &json!({})).await,
        StatusCode::CONFLICT,
    )
    .await;
    let undone = json_of(
        write(&app, &reverse(&earned), &key(), &json!({})).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        (
            undone["points"].as_i64(),
            undone["qualifying_points"].as_i64()
        ),
        (Some(-100), Some(-100))
    );
    let m = get_member(&app, &member).await;
    assert_eq!(
        (m["balance"].as_i64(), m["lifetime_points"].as_i64()),
        (Some(0), Some(0))
    );
    let unknown = format!(
        "{}/{}/reverse",
        path(&member, "ledger"),
        uuid::Uuid::now_v7()
    );
    problem(
        write(&app, &unknown, &key(), &json!({})).await,
        StatusCode::NOT_FOUND,
    )
    .await;
});

db_test!(
    an_earning_whose_points_were_spent_cannot_be_reversed_into_a_negative_balance,
    |app| {
        let member = new_member(&app).await;
        let earned = earn(&app, &member, 100).await;
        json_of(redeem(&app, &member, 80).await, StatusCode::CREATED).await;
        let url = format!("{}/{}/reverse", path(&member, "ledger"), id(&earned));
        let p = problem(
            write(&app, &url, &key(), &json!({})).await,
            StatusCode::CONFLICT,
        )
        .await;
        assert_eq!(p["balance"], 20);
        assert_eq!(balance(&app, &member).await, 20);
    }
);

db_test!(ledger_writes_for_unknown_members_are_404, |app| {
    let stranger = contact(&app, None).await;
    problem(
        write(
            &app,
            &path(&stranger, "earn"),
            &key(),
            &json!({"points": 1}),
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        app.get(&path(&stranger, "ledger")).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        app.get(&format!("/v1/loyalty/members/{stranger}")).await,
        StatusCode::NOT_FOUND,
    )
    .await;
});

db_test!(unknown_fields_and_bad_points_are_refused, |app| {
    let member = new_member(&app).await;
    problem(
        write(&app, &path(&member, "earn"), &key(), &json!({"ponits": 5})).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    for bad in [json!({"points": 0}), json!({"points": -5})] {
        problem(
            write(&app, &path(&member, "earn"), &key(), &bad).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        problem(
            write(&app, &path(&member, "redeem"), &key(), &bad).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
});
