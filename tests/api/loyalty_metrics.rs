//! Loyalty programme figures (`/v1/metrics/loyalty`): members, participation of active accounts' contacts,
//! points issued, redeemed, expired and adjusted, the redemption rate, active members and members per tier.

use crate::common::loyalty::*;
use crate::common::records::account;
use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn loyalty(app: &TestApp, query: &str) -> Value {
    json_of(
        app.get(&format!("/v1/metrics/loyalty?{query}")).await,
        StatusCode::OK,
    )
    .await
}

async fn purchase(app: &TestApp, account: &str, kind: &str, at: &str) {
    created(
        app,
        "/v1/transactions",
        json!({"kind": kind, "account_id": account, "amount": 10000, "currency": "EUR", "occurred_at": at}),
    )
    .await;
}

async fn enrol(app: &TestApp, contact_id: &str) {
    created(
        app,
        "/v1/loyalty/members",
        json!({"contact_id": contact_id}),
    )
    .await;
}

async fn member_at(app: &TestApp, account: &str) -> String {
    let c = contact(app, Some(account)).await;
    enrol(app, &c).await;
    c
}

async fn ok(response: reqwest::Response) -> Value {
    json_of(response, StatusCode::CREATED).await
}

/// `[{tier, members}]` as `(tier, members)` pairs.
fn tiers(m: &Value) -> Vec<(String, i64)> {
    m["members_by_tier"]
        .as_array()
        .unwrap_or_else(|| panic!("{m}"))
        .iter()
        .map(|t| {
            (
                t["tier"].as_str().unwrap().to_string(),
                t["members"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn pairs(expected: &[(&str, i64)]) -> Vec<(String, i64)> {
    expected.iter().map(|(t, n)| (t.to_string(), *n)).collect()
}

/// Q1: the period [31 May 09:00, 1 June 10:00); participation at 1 June 10:00 (the clock starts at 09:00).
const Q1: &str = "from=2026-05-31T09:00:00Z&to=2026-06-01T10:00:00Z";

db_test!(loyalty_figures_over_a_period_and_at_its_end, |app| {
    set_program(&app, json!({"tiers": [
        {"name": "Member", "min_points": 0}, {"name": "Silver", "min_points": 100}, {"name": "Gold", "min_points": 1000}
    ]}))
    .await;
    // Accounts, active at 1 June 10:00 when they have a purchase in (2025-06-01T10:00:00Z, 2026-06-01T10:00:00Z]:
    let active = account(&app, "Active Co").await; // 100 days before: active
    purchase(&app, &active, "purchase", "2026-02-21T10:00:00Z").await;
    let just = account(&app, "Just Co").await; // one second inside the window: active
    purchase(&app, &just, "purchase", "2025-06-01T10:00:01Z").await;
    let now_co = account(&app, "Now Co").await; // exactly at `to`: active
    purchase(&app, &now_co, "purchase", "2026-06-01T10:00:00Z").await;
    let edge = account(&app, "Edge Co").await; // exactly 365 days before `to`: not active
    purchase(&app, &edge, "purchase", "2025-06-01T10:00:00Z").await;
    let lapsed = account(&app, "Lapsed Co").await; // 400 days before: not active
    purchase(&app, &lapsed, "purchase", "2025-04-27T10:00:00Z").await;
    let refunded = account(&app, "Refund Co").await; // a refund is no purchase: not active
    purchase(&app, &refunded, "refund", "2026-05-22T10:00:00Z").await;
    // Contacts of active accounts: a1, a2, a3 (Active), j1, j2 (Just), n1 (Now); a4 is deleted.
    // Members: a1, a2, j1 of those, and e1 (Edge) and x1 (no account) → 5 members, participation 3 / 6 = 50%.
    let a1 = member_at(&app, &active).await;
    let a2 = member_at(&app, &active).await;
    contact(&app, Some(&active)).await;
    let a4 = contact(&app, Some(&active)).await;
    assert_eq!(
        app.delete(&format!("/v1/contacts/{a4}")).await.status(),
        StatusCode::NO_CONTENT
    );
    let j1 = member_at(&app, &just).await;
    contact(&app, Some(&just)).await;
    contact(&app, Some(&now_co)).await;
    let e1 = member_at(&app, &edge).await;
    contact(&app, Some(&lapsed)).await;
    let x1 = new_member(&app).await;
    // Ledger, all written now (1 June ~09:00) except a2's, moved to 40 days ago (outside every period here):
    //   a1: earn 300 (→ Silver), redeem 100
    //   a2: earn 50, 40 days ago
    //   j1: earn 40, reversed (issued +40 − 40)
    //   x1: earn 1000 (→ Gold), redeem 200, the redemption reversed (redeemed +200 − 200)
    //   e1: earn 20, which expires (expired 20); adjust +30
    earn(&app, &a1, 300).await;
    ok(redeem(&app, &a1, 100).await).await;
    let old = earn(&app, &a2, 50).await;
    backdate_entry(&app, &id(&old), app.now() - chrono::Duration::days(40)).await;
    let reverse =
        |member: &str, entry: &Value| format!("{}/{}/reverse", path(member, "ledger"), id(entry));
    let e = earn(&app, &j1, 40).await;
    ok(write(&app, &reverse(&j1, &e), &key(), &json!({})).await).await;
    earn(&app, &x1, 1000).await;
    let spent = ok(redeem(&app, &x1, 200).await).await;
    ok(write(&app, &reverse(&x1, &spent), &key(), &json!({})).await).await;
    let lot = earn(&app, &e1, 20).await;
    set_lot_expiry(&app, &id(&lot), app.now() - chrono::Duration::minutes(1)).await;
    json_of(
        app.post("/v1/loyalty/expire-run", &json!({})).await,
        StatusCode::OK,
    )
    .await;
    ok(write(
        &app,
        &path(&e1, "adjust"),
        &key(),
        &json!({"points": 30, "reason": "goodwill"}),
    )
    .await)
    .await;

    let m = loyalty(&app, Q1).await;
    assert_eq!(m["activity_window_days"], 365);
    assert_eq!(m["members"], 5, "{m}");
    assert_eq!(
        (
            m["active_account_contacts"].as_i64(),
            m["active_account_members"].as_i64()
        ),
        (Some(6), Some(3))
    );
    assert_eq!(m["participation"], 50.0);
    // Issued 300 + 40 − 40 + 1000 + 20 = 1320; redeemed 100 + 200 − 200 = 100; expired 20; adjusted 30.
    assert_eq!(
        [
            &m["points_issued"],
            &m["points_redeemed"],
            &m["points_expired"],
            &m["points_adjusted"]
        ],
        [&json!(1320), &json!(100), &json!(20), &json!(30)]
    );
    // 100 / 1320 = 7.5757…%.
    assert_eq!(m["redemption_rate"], 7.58);
    // a1, j1, x1 and e1 wrote entries in the period; a2 did not.
    assert_eq!(m["active_members"], 4);
    // Lifetime points: a1 300 (Silver), x1 1000 (Gold), a2 50, j1 0, e1 50 (Member).
    assert_eq!(
        tiers(&m),
        pairs(&[("Member", 3), ("Silver", 1), ("Gold", 1)])
    );

    // Before anyone enrolled: nothing, and no rates.
    let before = loyalty(&app, "to=2026-06-01T08:59:59Z").await;
    assert_eq!(
        (
            before["members"].as_i64(),
            before["active_members"].as_i64()
        ),
        (Some(0), Some(0))
    );
    assert_eq!(
        (
            before["participation"].clone(),
            before["redemption_rate"].clone()
        ),
        (Value::Null, Value::Null)
    );
    assert_eq!(before["active_account_contacts"], 0);
    assert_eq!(
        tiers(&before),
        pairs(&[("Member", 0), ("Silver", 0), ("Gold", 0)])
    );

    // A day later a1 earns 700 more (lifetime 1000 → Gold).
    app.advance_clock(chrono::Duration::days(1)).await;
    earn(&app, &a1, 700).await;
    let m = loyalty(&app, "from=2026-06-02T00:00:00Z&to=2026-06-02T12:00:00Z").await;
    assert_eq!(
        (
            m["points_issued"].as_i64(),
            m["points_redeemed"].as_i64(),
            m["active_members"].as_i64()
        ),
        (Some(700), Some(0), Some(1))
    );
    assert_eq!(m["redemption_rate"], 0.0);
    assert_eq!(
        tiers(&m),
        pairs(&[("Member", 3), ("Silver", 0), ("Gold", 2)])
    );
    // At 2 June 12:00 Just Co's purchase (1 June 2025) is out of the window: Active Co and Now Co remain,
    // with a1, a2, a3 and n1, of whom a1 and a2 are members.
    assert_eq!(
        (
            m["active_account_contacts"].as_i64(),
            m["active_account_members"].as_i64()
        ),
        (Some(4), Some(2))
    );
    assert_eq!(m["participation"], 50.0);
    // The first period is unchanged, and a1 was still Silver at its end.
    let again = loyalty(&app, Q1).await;
    assert_eq!(again["points_issued"], 1320);
    assert_eq!(
        tiers(&again),
        pairs(&[("Member", 3), ("Silver", 1), ("Gold", 1)])
    );
});

db_test!(tiers_left_out_of_the_programme_are_still_listed, |app| {
    let member = new_member(&app).await;
    // The default programme's first tier is "Member"; renaming it leaves this member in the former tier.
    set_program(
        &app,
        json!({"tiers": [{"name": "Basic", "min_points": 0}, {"name": "Plus", "min_points": 500}]}),
    )
    .await;
    let m = loyalty(&app, "").await;
    assert_eq!(
        tiers(&m),
        pairs(&[("Basic", 0), ("Plus", 0), ("Member", 1)]),
        "{m}"
    );
    assert_eq!(m["members"], 1);
    assert_eq!(m["points_issued"], 0);
    assert_eq!(m["redemption_rate"], Value::Null);
    assert_eq!(m["participation"], Value::Null);
    earn(&app, &member, 10).await;
    assert_eq!(loyalty(&app, "").await["active_members"], 1);
});

db_test!(bad_loyalty_parameters_are_400s, |app| {
    for query in [
        "from=soon",
        "group_by=tier",
        "from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z",
    ] {
        problem(
            app.get(&format!("/v1/metrics/loyalty?{query}")).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
});

db_test!(
    the_new_metrics_are_readable_by_viewers_and_metrics_keys_only,
    |app| {
        let viewer = app.token_for("viewer").await;
        let metrics_key = app.api_key(&["metrics:read"]).await;
        let loyalty_key = app.api_key(&["loyalty:read", "feedback:read"]).await;
        for url in [
            "/v1/metrics/complaints",
            "/v1/metrics/loyalty",
            "/v1/metrics/satisfaction?group_by=owner",
        ] {
            for (token, status) in [(&viewer, StatusCode::OK), (&metrics_key, StatusCode::OK)] {
                let response = app
                    .request_as(token, Method::GET, url)
                    .send()
                    .await
                    .unwrap();
                json_of(response, status).await;
            }
            let response = app
                .request_as(&loyalty_key, Method::GET, url)
                .send()
                .await
                .unwrap();
            problem(response, StatusCode::FORBIDDEN).await;
            let anonymous = app.client.get(app.url(url)).send().await.unwrap();
            problem(anonymous, StatusCode::UNAUTHORIZED).await;
        }
    }
);
