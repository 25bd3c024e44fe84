//! Transactions (`/v1/transactions`): money in and out, idempotent by
//! external id, the purchase history it keeps, and points for purchases.

use crate::common::loyalty::{balance, key, new_member, redeem};
use crate::common::records::{account, contact};
use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn post(app: &TestApp, body: Value) -> reqwest::Response {
    app.post("/v1/transactions", &body).await
}

async fn purchase(app: &TestApp, extra: Value) -> Value {
    let body = merged(
        json!({"kind": "purchase", "amount": 10000, "currency": "EUR"}),
        extra,
    );
    json_of(post(app, body).await, StatusCode::CREATED).await
}

async fn get(app: &TestApp, path: &str) -> Value {
    json_of(app.get(path).await, StatusCode::OK).await
}

db_test!(
    a_purchase_for_a_contact_is_booked_on_their_account_and_builds_the_history,
    |app| {
        let acme = account(&app, "Acme").await;
        let person = contact(&app, Some(&acme)).await;
        let at = app.hours_ago(48.0);
        let response = post(
        &app,
        json!({"kind": "purchase", "contact_id": person, "amount": 120000, "currency": "eur", "occurred_at": at,
               "description": " Wave 1 ", "external_id": "INV-1"}),
    )
    .await;
        let location = header(&response, "location").unwrap();
        let first = json_of(response, StatusCode::CREATED).await;
        assert_eq!(location, format!("/v1/transactions/{}", id(&first)));
        assert_eq!(first["account_id"], acme.as_str());
        assert_eq!(first["currency"], "EUR");
        assert_eq!(first["description"], "Wave 1");
        assert_eq!(first["award_points"], false);
        assert_eq!(first["points"], Value::Null);
        assert_eq!(get(&app, &location).await, first);
        purchase(
            &app,
            json!({"account_id": acme, "amount": 5000, "currency": "USD"}),
        )
        .await;
        created(
            &app,
            "/v1/transactions",
            json!({"kind": "refund", "contact_id": person, "amount": 20000, "currency": "EUR"}),
        )
        .await;
        let record = get(&app, &format!("/v1/accounts/{acme}")).await;
        assert_eq!(record["purchase_count"], 2);
        assert_eq!(
            record["lifetime_revenue"],
            json!({"EUR": 100000, "USD": 5000})
        );
        assert_eq!(record["first_purchase_at"], first["occurred_at"]);
        assert_ne!(record["last_purchase_at"], first["occurred_at"]);
        assert_eq!(
            record["version"], 1,
            "derived fields do not change the version"
        );
        let theirs = get(&app, &format!("/v1/contacts/{person}")).await;
        assert_eq!(theirs["purchase_count"], 1);
        assert_eq!(theirs["lifetime_revenue"], json!({"EUR": 100000}));
        assert_eq!(theirs["last_purchase_at"], first["occurred_at"]);
    }
);

db_test!(
    the_same_external_id_returns_the_first_transaction_and_a_different_body_is_refused,
    |app| {
        let acme = account(&app, "Acme").await;
        let body = json!({"kind": "purchase", "account_id": acme, "amount": 700, "currency": "EUR", "external_id": "INV-9"});
        let first = json_of(post(&app, body.clone()).await, StatusCode::CREATED).await;
        let again = post(&app, body.clone()).await;
        assert_eq!(
            header(&again, "location").unwrap(),
            format!("/v1/transactions/{}", id(&first))
        );
        assert_eq!(json_of(again, StatusCode::OK).await, first);
        let refused = problem(
            post(&app, merged(body.clone(), json!({"amount": 701}))).await,
            StatusCode::CONFLICT,
        )
        .await;
        assert_eq!(refused["transaction_id"], first["id"]);
        // Unique per account: another client's billing system may reuse the number.
        let other = account(&app, "Other").await;
        purchase(&app, json!({"account_id": other, "external_id": "INV-9"})).await;
        let record = get(&app, &format!("/v1/accounts/{acme}")).await;
        assert_eq!(record["purchase_count"], 1);
        assert_eq!(record["lifetime_revenue"], json!({"EUR": 700}));
    }
);

db_test!(
    every_broken_rule_of_a_transaction_is_reported_at_once,
    |app| {
        let body = problem(
            post(
                &app,
                json!({"kind": "gift", "amount": 0, "currency": "EURO", "award_points": true}),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        let fields: Vec<&str> = body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        for field in ["kind", "amount", "currency", "contact_id", "award_points"] {
            assert!(fields.contains(&field), "{field} in {body}");
        }
        let acme = account(&app, "Acme").await;
        let other = account(&app, "Other").await;
        let stranger = contact(&app, Some(&other)).await;
        let theirs = created(
            &app,
            "/v1/engagements",
            json!({"account_id": other, "name": "Theirs"}),
        )
        .await;
        let body = problem(
        post(&app, json!({"kind": "purchase", "account_id": acme, "contact_id": stranger, "engagement_id": id(&theirs),
                          "amount": 5, "currency": "EUR"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
        let codes: Vec<(&str, &str)> = body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
            .collect();
        assert_eq!(
            codes,
            [
                ("contact_id", "other_account"),
                ("engagement_id", "other_account")
            ]
        );
        let future = app.days_from_now(2.0);
        let body = problem(
        post(&app, json!({"kind": "purchase", "account_id": acme, "amount": 5, "currency": "EUR", "occurred_at": future})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
        assert_eq!(body["errors"][0]["code"], "too_far_in_future");
        let history = get(&app, &format!("/v1/accounts/{acme}")).await;
        assert_eq!(history["purchase_count"], 0);
    }
);

db_test!(transactions_are_append_only, |app| {
    let acme = account(&app, "Acme").await;
    let item = purchase(&app, json!({"account_id": acme})).await;
    let path = format!("/v1/transactions/{}", id(&item));
    problem(
        app.patch(&path, &json!({"amount": 1})).await,
        StatusCode::METHOD_NOT_ALLOWED,
    )
    .await;
    problem(app.delete(&path).await, StatusCode::METHOD_NOT_ALLOWED).await;
    let refused = problem(
        app.delete(&format!("/v1/accounts/{acme}")).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(refused["transaction_count"], 1);
});

db_test!(
    a_purchase_with_award_points_earns_once_and_a_refund_takes_back_what_is_left,
    |app| {
        let member = new_member(&app).await;
        // 1 point per EUR 1.00 (the default programme).
        let body = json!({"kind": "purchase", "contact_id": member, "amount": 12345, "currency": "EUR",
                      "external_id": "INV-P", "award_points": true});
        let bought = json_of(post(&app, body.clone()).await, StatusCode::CREATED).await;
        assert_eq!(bought["points"], 123);
        json_of(post(&app, body).await, StatusCode::OK).await;
        let replayed = app
        .request(Method::POST, "/v1/transactions")
        .header("idempotency-key", key())
        .json(&json!({"kind": "purchase", "contact_id": member, "amount": 1000, "currency": "EUR", "award_points": true}))
        .send()
        .await
        .unwrap();
        json_of(replayed, StatusCode::CREATED).await;
        assert_eq!(balance(&app, &member).await, 133);
        assert_eq!(
            redeem(&app, &member, 100).await.status(),
            StatusCode::CREATED
        );
        let refund = json_of(
        post(&app, json!({"kind": "refund", "contact_id": member, "amount": 12345, "currency": "EUR", "award_points": true})).await,
        StatusCode::CREATED,
    )
    .await;
        assert_eq!(
            refund["points"], 33,
            "only the 33 points left can be taken back"
        );
        assert_eq!(balance(&app, &member).await, 0);
        let empty = json_of(
        post(&app, json!({"kind": "refund", "contact_id": member, "amount": 100, "currency": "EUR", "award_points": true})).await,
        StatusCode::CREATED,
    )
    .await;
        assert_eq!(empty["points"], 0);
    }
);

db_test!(
    award_points_needs_a_member_and_the_programme_currency,
    |app| {
        let stranger = contact(&app, None).await;
        let body = problem(
        post(&app, json!({"kind": "purchase", "contact_id": stranger, "amount": 500, "currency": "EUR", "award_points": true})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
        assert_eq!(body["errors"][0]["code"], "not_a_member");
        let member = new_member(&app).await;
        let body = problem(
        post(&app, json!({"kind": "purchase", "contact_id": member, "amount": 500, "currency": "USD", "award_points": true})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
        assert_eq!(body["errors"][0]["code"], "unsupported_currency");
        // Nothing was written: no transaction and no history.
        let listed = get(&app, &format!("/v1/transactions?contact_id={member}")).await;
        assert!(listed["data"].as_array().unwrap().is_empty());
        assert_eq!(
            get(&app, &format!("/v1/contacts/{member}")).await["purchase_count"],
            0
        );
    }
);

db_test!(
    lists_filter_by_customer_kind_currency_engagement_and_period,
    |app| {
        let acme = account(&app, "Acme").await;
        let work = created(
            &app,
            "/v1/engagements",
            json!({"account_id": acme, "name": "Study"}),
        )
        .await;
        let old = purchase(
            &app,
            json!({"account_id": acme, "occurred_at": app.hours_ago(100.0)}),
        )
        .await;
        let recent = purchase(&app, json!({"account_id": acme, "engagement_id": id(&work), "occurred_at": app.hours_ago(2.0)})).await;
        let refund = json_of(
            post(
                &app,
                json!({"kind": "refund", "account_id": acme, "amount": 5, "currency": "USD"}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let ids = |page: Value| -> Vec<String> {
            page["data"].as_array().unwrap().iter().map(id).collect()
        };
        assert_eq!(
            ids(get(&app, &format!("/v1/transactions?account_id={acme}")).await),
            [id(&refund), id(&recent), id(&old)]
        );
        assert_eq!(
            ids(get(&app, "/v1/transactions?sort=occurred_at&kind=purchase").await),
            [id(&old), id(&recent)]
        );
        assert_eq!(
            ids(get(&app, "/v1/transactions?currency=usd").await),
            [id(&refund)]
        );
        assert_eq!(
            ids(get(
                &app,
                &format!("/v1/transactions?engagement_id={}", id(&work))
            )
            .await),
            [id(&recent)]
        );
        let from = app.hours_ago(50.0);
        let to = app.hours_ago(1.0);
        let page = get(
            &app,
            &format!(
                "/v1/transactions?from={}&to={}&include_total=true",
                enc(&from),
                enc(&to)
            ),
        )
        .await;
        assert_eq!(page["total"], 1);
        assert_eq!(ids(page), [id(&recent)]);
        let engagement_timeline = get(
            &app,
            &format!("/v1/engagements/{}/timeline?kind=transaction", id(&work)),
        )
        .await;
        assert_eq!(ids(engagement_timeline), [id(&recent)]);
        problem(
            app.get("/v1/transactions?kind=gift").await,
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
);

fn enc(text: &str) -> String {
    text.replace('+', "%2B")
}

db_test!(
    transactions_appear_in_contact_and_account_timelines,
    |app| {
        let acme = account(&app, "Acme").await;
        let person = contact(&app, Some(&acme)).await;
        let loner = contact(&app, None).await;
        let theirs = purchase(
            &app,
            json!({"contact_id": person, "description": "Workshop"}),
        )
        .await;
        let unbooked = purchase(&app, json!({"contact_id": loner})).await;
        let timeline = get(
            &app,
            &format!("/v1/contacts/{person}/timeline?kind=transaction"),
        )
        .await;
        assert_eq!(timeline["data"][0]["id"], theirs["id"]);
        assert_eq!(timeline["data"][0]["type"], "purchase");
        assert_eq!(timeline["data"][0]["summary"], "Workshop");
        assert_eq!(
            timeline["data"][0]["link"],
            format!("/v1/transactions/{}", id(&theirs))
        );
        let timeline = get(
            &app,
            &format!("/v1/accounts/{acme}/timeline?kind=transaction"),
        )
        .await;
        assert_eq!(timeline["data"].as_array().unwrap().len(), 1);
        let timeline = get(&app, &format!("/v1/contacts/{loner}/timeline")).await;
        assert_eq!(
            timeline["data"][0]["summary"],
            "purchase of 10000 EUR minor units"
        );
        assert_eq!(timeline["data"][0]["id"], unbooked["id"]);
    }
);

db_test!(accounts_filter_and_sort_by_their_last_purchase, |app| {
    let never = account(&app, "Never").await;
    let long_ago = account(&app, "Long ago").await;
    let lately = account(&app, "Lately").await;
    purchase(
        &app,
        json!({"account_id": long_ago, "occurred_at": app.hours_ago(24.0 * 400.0)}),
    )
    .await;
    purchase(
        &app,
        json!({"account_id": lately, "occurred_at": app.hours_ago(24.0)}),
    )
    .await;
    let names = |page: Value| -> Vec<String> {
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        names(get(&app, "/v1/accounts?sort=-last_purchase_at").await),
        ["Lately", "Long ago", "Never"]
    );
    assert_eq!(
        names(get(&app, "/v1/accounts?sort=last_purchase_at").await),
        ["Long ago", "Lately", "Never"]
    );
    let cutoff = enc(&app.hours_ago(24.0 * 365.0));
    assert_eq!(
        names(get(&app, &format!("/v1/accounts?last_purchase_before={cutoff}")).await),
        ["Long ago"]
    );
    assert_eq!(
        names(get(&app, &format!("/v1/accounts?last_purchase_after={cutoff}")).await),
        ["Lately"]
    );
    let mut seen = Vec::new();
    let mut path = "/v1/accounts?sort=-last_purchase_at&limit=1".to_string();
    loop {
        let page = get(&app, &path).await;
        seen.extend(names(page.clone()));
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/v1/accounts?sort=-last_purchase_at&limit=1&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, ["Lately", "Long ago", "Never"]);
    // Lifetime revenue is kept per currency: sorting by it names the currency.
    purchase(&app, json!({"account_id": long_ago, "amount": 90000})).await;
    purchase(
        &app,
        json!({"account_id": never, "amount": 5, "currency": "USD"}),
    )
    .await;
    assert_eq!(
        names(
            get(
                &app,
                "/v1/accounts?sort=-lifetime_revenue&revenue_currency=eur"
            )
            .await
        ),
        ["Long ago", "Lately"]
    );
    let page = get(
        &app,
        "/v1/accounts?sort=lifetime_revenue&revenue_currency=EUR&limit=1",
    )
    .await;
    let cursor = page["next_cursor"].as_str().unwrap().to_string();
    assert_eq!(names(page), ["Lately"]);
    assert_eq!(
        names(get(&app, &format!("/v1/accounts?sort=lifetime_revenue&revenue_currency=EUR&limit=1&cursor={cursor}")).await),
        ["Long ago"]
    );
    assert_eq!(
        get(&app, "/v1/accounts?revenue_currency=USD&include_total=true").await["total"],
        1
    );
    problem(
        app.get("/v1/accounts?sort=lifetime_revenue").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    problem(
        app.get("/v1/accounts?revenue_currency=EURO").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
});

db_test!(
    merge_moves_transactions_and_erasure_keeps_amounts_but_drops_text,
    |app| {
        let acme = account(&app, "Acme").await;
        let survivor = contact(&app, Some(&acme)).await;
        let duplicate = contact(&app, Some(&acme)).await;
        purchase(&app, json!({"contact_id": survivor, "amount": 100})).await;
        let moved = purchase(
            &app,
            json!({"contact_id": duplicate, "amount": 250, "description": "Private note"}),
        )
        .await;
        json_of(
            app.post(
                &format!("/v1/contacts/{survivor}/merge"),
                &json!({"duplicate_id": duplicate}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        let record = get(&app, &format!("/v1/contacts/{survivor}")).await;
        assert_eq!(record["purchase_count"], 2);
        assert_eq!(record["lifetime_revenue"], json!({"EUR": 350}));
        assert_eq!(
            get(&app, &format!("/v1/transactions/{}", id(&moved))).await["contact_id"],
            survivor.as_str()
        );
        let export = get(&app, &format!("/v1/contacts/{survivor}/export")).await;
        assert_eq!(export["transactions"].as_array().unwrap().len(), 2);
        json_of(
            app.post(&format!("/v1/contacts/{survivor}/erase"), &json!({}))
                .await,
            StatusCode::OK,
        )
        .await;
        let after = get(&app, &format!("/v1/transactions/{}", id(&moved))).await;
        assert_eq!(after["description"], Value::Null);
        assert_eq!(after["amount"], 250);
        assert_eq!(
            get(&app, &format!("/v1/accounts/{acme}")).await["lifetime_revenue"],
            json!({"EUR": 350})
        );
    }
);

db_test!(
    roles_and_scopes_decide_who_reads_and_records_transactions,
    |app| {
        let acme = account(&app, "Acme").await;
        let body = json!({"kind": "purchase", "account_id": acme, "amount": 5, "currency": "EUR"});
        let viewer = app.token_for("viewer").await;
        problem(
            app.request_as(&viewer, Method::POST, "/v1/transactions")
                .json(&body)
                .send()
                .await
                .unwrap(),
            StatusCode::FORBIDDEN,
        )
        .await;
        json_of(
            app.request_as(&viewer, Method::GET, "/v1/transactions")
                .send()
                .await
                .unwrap(),
            StatusCode::OK,
        )
        .await;
        let billing = app.api_key(&["transactions:write"]).await;
        json_of(
            app.request_as(&billing, Method::POST, "/v1/transactions")
                .json(&body)
                .send()
                .await
                .unwrap(),
            StatusCode::CREATED,
        )
        .await;
        let reader = app.api_key(&["accounts:read"]).await;
        problem(
            app.request_as(&reader, Method::GET, "/v1/transactions")
                .send()
                .await
                .unwrap(),
            StatusCode::FORBIDDEN,
        )
        .await;
        let key = app.api_key(&["transactions:read"]).await;
        let (events, _) = crate::events::read_feed(&app, &key, "transaction.created", 1).await;
        assert_eq!(events[0]["data"]["amount"], 5);
    }
);
