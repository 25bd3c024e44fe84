//! Concurrency proofs: points are never overdrawn and the last unit of a
//! reward is never sold twice, however many requests race.

use crate::common::loyalty::*;
use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::json;
use tokio::task::JoinSet;

/// Sends every request at once and returns the statuses.
async fn race(requests: Vec<reqwest::RequestBuilder>) -> Vec<StatusCode> {
    let mut set = JoinSet::new();
    for request in requests {
        set.spawn(async move { request.send().await.expect("request sent").status() });
    }
    let mut statuses = Vec::new();
    while let Some(status) = set.join_next().await {
        statuses.push(status.expect("the task ran"));
    }
    statuses
}

fn count(statuses: &[StatusCode], status: StatusCode) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

/// Requests with one key: each got the first one's answer (201) or was told
/// another holds the key (409), and at least one ran.
fn assert_one_won(statuses: &[StatusCode]) {
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::CREATED || *s == StatusCode::CONFLICT),
        "{statuses:?}"
    );
    assert!(count(statuses, StatusCode::CREATED) >= 1, "{statuses:?}");
}

db_test!(
    fifty_concurrent_redemptions_of_ten_at_a_balance_of_100_succeed_exactly_ten_times,
    |app| {
        let member = new_member(&app).await;
        earn(&app, &member, 100).await;
        let requests = (0..50)
            .map(|i| {
                app.request(Method::POST, &path(&member, "redeem"))
                    .header("idempotency-key", format!("race-{i}"))
                    .json(&json!({"points": 10}))
            })
            .collect();
        let statuses = race(requests).await;
        assert!(
            statuses.iter().all(|s| !s.is_server_error()),
            "{statuses:?}"
        );
        assert_eq!(count(&statuses, StatusCode::CREATED), 10, "{statuses:?}");
        assert_eq!(count(&statuses, StatusCode::CONFLICT), 40, "{statuses:?}");
        assert_eq!(balance(&app, &member).await, 0);
        let page = ledger(&app, &member).await;
        assert_eq!(kinds(&page).iter().filter(|k| *k == "redeem").count(), 10);
        assert_eq!(page["balance"], 0);
        let mut afters: Vec<i64> = entries(&page)
            .iter()
            .map(|e| e["balance_after"].as_i64().unwrap())
            .collect();
        afters.sort();
        assert_eq!(afters, vec![0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
    }
);

db_test!(concurrent_earnings_and_redemptions_always_add_up, |app| {
    let member = new_member(&app).await;
    earn(&app, &member, 50).await;
    let requests = (0..40)
        .map(|i| {
            let (action, body) = if i % 2 == 0 {
                ("earn", json!({"points": 5}))
            } else {
                ("redeem", json!({"points": 7}))
            };
            app.request(Method::POST, &path(&member, action))
                .header("idempotency-key", format!("mix-{i}"))
                .json(&body)
        })
        .collect();
    let statuses = race(requests).await;
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::CREATED || *s == StatusCode::CONFLICT),
        "{statuses:?}"
    );
    let page = ledger(&app, &member).await;
    let sum: i64 = entries(&page)
        .iter()
        .map(|e| e["points"].as_i64().unwrap())
        .sum();
    assert_eq!(balance(&app, &member).await, sum);
    assert!(sum >= 0);
    assert_eq!(kinds(&page).iter().filter(|k| *k == "earn").count(), 21);
});

db_test!(
    the_last_unit_of_a_reward_is_sold_once_to_ten_concurrent_members,
    |app| {
        let reward = reward(
            &app,
            json!({"name": "Last seat", "cost_points": 10, "stock": 1}),
        )
        .await;
        let mut members = Vec::new();
        for _ in 0..10 {
            let member = new_member(&app).await;
            earn(&app, &member, 10).await;
            members.push(member);
        }
        let requests = members
            .iter()
            .map(|m| {
                app.request(Method::POST, "/v1/loyalty/redemptions")
                    .header("idempotency-key", key())
                    .json(&json!({"contact_id": m, "reward_id": id(&reward)}))
            })
            .collect();
        let statuses = race(requests).await;
        assert!(
            statuses.iter().all(|s| !s.is_server_error()),
            "{statuses:?}"
        );
        assert_eq!(count(&statuses, StatusCode::CREATED), 1, "{statuses:?}");
        assert_eq!(count(&statuses, StatusCode::CONFLICT), 9, "{statuses:?}");
        let after = json_of(
            app.get(&format!("/v1/loyalty/rewards/{}", id(&reward)))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(after["stock"], 0);
        let mut balances = Vec::new();
        for m in &members {
            balances.push(balance(&app, m).await);
        }
        balances.sort();
        assert_eq!(
            balances,
            [vec![0], vec![10; 9]].concat(),
            "only the buyer paid"
        );
    }
);

db_test!(
    concurrent_redemptions_of_one_member_cannot_overspend_across_rewards,
    |app| {
        let member = new_member(&app).await;
        earn(&app, &member, 100).await;
        let reward = reward(&app, json!({"name": "Mug", "cost_points": 30})).await;
        let requests = (0..10)
            .map(|_| {
                app.request(Method::POST, "/v1/loyalty/redemptions")
                    .header("idempotency-key", key())
                    .json(&json!({"contact_id": member, "reward_id": id(&reward)}))
            })
            .collect();
        let statuses = race(requests).await;
        assert_eq!(count(&statuses, StatusCode::CREATED), 3, "{statuses:?}");
        assert_eq!(count(&statuses, StatusCode::CONFLICT), 7, "{statuses:?}");
        assert_eq!(balance(&app, &member).await, 10);
    }
);

db_test!(the_same_key_sent_concurrently_redeems_once, |app| {
    let member = new_member(&app).await;
    earn(&app, &member, 100).await;
    let requests = (0..10)
        .map(|_| {
            app.request(Method::POST, &path(&member, "redeem"))
                .header("idempotency-key", "one-tap")
                .json(&json!({"points": 10}))
        })
        .collect();
    let statuses = race(requests).await;
    assert_one_won(&statuses);
    assert_eq!(balance(&app, &member).await, 90);
    assert_eq!(kinds(&ledger(&app, &member).await), vec!["redeem", "earn"]);
});

/// Twelve earnings of 10 points with one key, half from the admin and half
/// from a till's API key, sent at once.
async fn race_one_key_from_two_callers(app: &TestApp, member: &str) -> Vec<StatusCode> {
    let till = app.api_key(&["loyalty:write"]).await;
    let requests = (0..12)
        .map(|i| {
            let request = if i % 2 == 0 {
                app.request(Method::POST, &path(member, "earn"))
            } else {
                app.request_as(&till, Method::POST, &path(member, "earn"))
            };
            request
                .header("idempotency-key", "receipt-1182")
                .json(&json!({"points": 10}))
        })
        .collect();
    race(requests).await
}

db_test!(
    one_key_sent_at_once_by_two_callers_earns_once_and_never_fails,
    |app| {
        // Each caller's own retries are answered by its stored response; the
        // two callers' requests meet at the member's ledger, where the key
        // is unique: whichever writes second gets 409, even when both
        // checked the key before either wrote.
        let member = new_member(&app).await;
        let statuses = race_one_key_from_two_callers(&app, &member).await;
        assert_one_won(&statuses);
        assert_eq!(balance(&app, &member).await, 10);
        assert_eq!(kinds(&ledger(&app, &member).await), vec!["earn"]);
    }
);

db_test!(
    one_key_sent_at_once_by_two_callers_across_a_tier_threshold_earns_once,
    |app| {
        // 985 points, Silver at 1,000: the first earning of 10 leaves the
        // member at 995; a second with the same key would reach 1,005 and
        // move the tier, so its entry meets the ledger's unique key while the
        // tier is recomputed, not at the commit.
        let member = new_member(&app).await;
        earn(&app, &member, 985).await;
        let statuses = race_one_key_from_two_callers(&app, &member).await;
        assert_one_won(&statuses);
        assert_eq!(balance(&app, &member).await, 995);
        let fetched = json_of(
            app.get(&format!("/v1/loyalty/members/{member}")).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(fetched["tier"], "Member");
        assert_eq!(kinds(&ledger(&app, &member).await), vec!["earn", "earn"]);
    }
);

db_test!(
    thirty_concurrent_earnings_of_one_member_each_start_from_the_balance_before_it,
    |app| {
        // Earnings of 1 to 30 points at once: ordered by balance_after, each
        // entry's balance_after is the one before it plus its own points,
        // from 0 to 465, whatever order they committed in.
        let member = new_member(&app).await;
        let requests = (1..=30)
            .map(|points| {
                app.request(Method::POST, &path(&member, "earn"))
                    .header("idempotency-key", key())
                    .json(&json!({"points": points}))
            })
            .collect();
        let statuses = race(requests).await;
        assert_eq!(count(&statuses, StatusCode::CREATED), 30, "{statuses:?}");
        let page = ledger(&app, &member).await;
        let mut chain: Vec<(i64, i64)> = entries(&page)
            .iter()
            .map(|e| {
                let after = e["balance_after"].as_i64().unwrap();
                (after, e["points"].as_i64().unwrap())
            })
            .collect();
        chain.sort();
        let mut before = 0;
        for (after, points) in chain {
            assert_eq!(
                after,
                before + points,
                "an entry computed from a stale balance"
            );
            before = after;
        }
        assert_eq!(before, 465);
        assert_eq!(balance(&app, &member).await, 465);
    }
);

db_test!(
    an_earning_after_a_reward_redemption_starts_from_the_balance_the_redemption_left,
    |app| {
        // The redemption moves the points outside the earnings' path, so an
        // earning that computed its entry from the balance its node's last
        // earning left (10) finds it changed, and posts from 6 instead.
        let member = new_member(&app).await;
        earn(&app, &member, 10).await;
        let pen = reward(&app, json!({"name": "Pen", "cost_points": 4})).await;
        json_of(
            redeem_reward(&app, &member, &pen).await,
            StatusCode::CREATED,
        )
        .await;
        let entry = earn(&app, &member, 5).await;
        assert_eq!(entry["balance_after"], 11);
        let again = earn(&app, &member, 1).await;
        assert_eq!(again["balance_after"], 12);
        assert_eq!(balance(&app, &member).await, 12);
        assert_eq!(
            kinds(&ledger(&app, &member).await),
            vec!["earn", "earn", "redeem", "earn"]
        );
    }
);

db_test!(
    concurrent_earnings_replayed_with_their_keys_get_their_first_answers,
    |app| {
        // Earnings of one member sent at once may be written together by
        // whichever got the member's turn; each request's key still commits
        // with its earning, and a retry gets the entry it first got.
        let member = new_member(&app).await;
        let keys: Vec<String> = (0..12).map(|_| key()).collect();
        let send = |k: &String| {
            app.request(Method::POST, &path(&member, "earn"))
                .header("idempotency-key", k.clone())
                .json(&json!({"points": 3}))
                .send()
        };
        let firsts = futures_util::future::join_all(keys.iter().map(send)).await;
        let mut first_ids = Vec::new();
        for response in firsts {
            let body = json_of(response.expect("request sent"), StatusCode::CREATED).await;
            first_ids.push(body["id"].clone());
        }
        let replays = futures_util::future::join_all(keys.iter().map(send)).await;
        for (response, first) in replays.into_iter().zip(first_ids) {
            let body = json_of(response.expect("request sent"), StatusCode::CREATED).await;
            assert_eq!(body["id"], first, "a retry got another entry");
        }
        assert_eq!(balance(&app, &member).await, 36);
        assert_eq!(entries(&ledger(&app, &member).await).len(), 12);
    }
);
