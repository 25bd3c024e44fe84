//! Rate limits and sign-in throttling (issue 11, item 3).

use reqwest::StatusCode;
use serde_json::json;

use crate::common::*;
use rapport::config::RateLimits;

fn limits(per_credential: Option<u32>, per_address: Option<u32>) -> RateLimits {
    RateLimits {
        per_credential,
        per_address,
    }
}

db_test!(
    a_caller_over_its_quota_gets_429_and_every_answer_says_what_is_left,
    |app| {
        let node = app
            .another_node(|s| s.rate_limits = limits(Some(18), None))
            .await;
        let get = |token: String| {
            let request = app.client.get(node.url("/v1/contacts")).bearer_auth(token);
            async move { request.send().await.unwrap() }
        };
        for remaining in [2, 1, 0] {
            let response = get(app.admin_token.clone()).await;
            assert_eq!(response.status(), StatusCode::OK);
            assert_eq!(
                header(&response, "ratelimit-policy").as_deref(),
                Some("\"per-credential\";q=18;w=60")
            );
            let state = header(&response, "ratelimit").unwrap();
            assert!(
                state.starts_with(&format!("\"per-credential\";r={remaining};t=")),
                "{state}"
            );
        }
        let refused = get(app.admin_token.clone()).await;
        assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
        let retry_after: u64 = header(&refused, "retry-after").unwrap().parse().unwrap();
        assert!((1..=4).contains(&retry_after), "{retry_after}");
        assert!(
            header(&refused, "ratelimit")
                .unwrap()
                .starts_with("\"per-credential\";r=0;t=")
        );
        let p = problem(refused, StatusCode::TOO_MANY_REQUESTS).await;
        assert_eq!(p["type"], "urn:rapport:problem:rate-limited");
        assert!(
            p["detail"]
                .as_str()
                .unwrap()
                .contains("18 requests a minute"),
            "{p}"
        );
        // Another caller has a quota of its own.
        let other = app.token_for("agent").await;
        assert_eq!(get(other).await.status(), StatusCode::OK);
        node.stop().await;
    }
);

db_test!(
    calls_without_a_valid_credential_count_against_the_client_address,
    |app| {
        let node = app
            .another_node(|s| s.rate_limits = limits(None, Some(12)))
            .await;
        let wrong = json!({"email": ADMIN_EMAIL, "password": "not the password"});
        let sign_in = || {
            let request = app.client.post(node.url("/v1/auth/token")).json(&wrong);
            async move { request.send().await.unwrap() }
        };
        let first = sign_in().await;
        assert_eq!(first.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            header(&first, "ratelimit-policy").as_deref(),
            Some("\"per-address\";q=12;w=60")
        );
        // A forged token counts against the address too.
        let forged = app
            .client
            .get(node.url("/v1/contacts"))
            .bearer_auth("not-a-token")
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(sign_in().await.status(), StatusCode::TOO_MANY_REQUESTS);
        // Probes are never limited.
        for _ in 0..5 {
            let health = app.client.get(node.url("/healthz")).send().await.unwrap();
            assert_eq!(health.status(), StatusCode::OK);
            assert!(header(&health, "ratelimit").is_none());
        }
        node.stop().await;
    }
);

async fn sign_in_as(
    app: &TestApp,
    base_url: &str,
    email: &str,
    password: &str,
) -> reqwest::Response {
    app.client
        .post(format!("{base_url}/v1/auth/token"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
}

async fn sign_in_status(app: &TestApp, base_url: &str, password: &str) -> reqwest::Response {
    sign_in_as(app, base_url, ADMIN_EMAIL, password).await
}

db_test!(
    wrong_passwords_block_the_account_on_every_node_for_growing_times,
    |app| {
        let second = app.another_node(|_| {}).await;
        for _ in 0..rapport::auth::sign_in_throttle::ACCOUNT_FREE_FAILURES {
            let r = sign_in_status(&app, &app.base, "wrong password").await;
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        }
        // The sixth failure blocks the account for a second…
        let sixth = sign_in_status(&app, &app.base, "wrong password").await;
        assert_eq!(sixth.status(), StatusCode::UNAUTHORIZED);
        // …on this node and the other, even with the right password.
        for base in [app.base.as_str(), second.base.as_str()] {
            let blocked = sign_in_status(&app, base, ADMIN_PASSWORD).await;
            assert_eq!(blocked.status(), StatusCode::TOO_MANY_REQUESTS, "{base}");
            assert_eq!(header(&blocked, "retry-after").as_deref(), Some("1"));
        }
        app.clock.advance(chrono::TimeDelta::seconds(2));
        // The seventh failure blocks for two seconds.
        let seventh = sign_in_status(&app, &second.base, "wrong password").await;
        assert_eq!(seventh.status(), StatusCode::UNAUTHORIZED);
        let blocked = sign_in_status(&app, &app.base, ADMIN_PASSWORD).await;
        assert_eq!(header(&blocked, "retry-after").as_deref(), Some("2"));
        app.clock.advance(chrono::TimeDelta::seconds(3));
        // The right password works again and clears the count.
        let ok = sign_in_status(&app, &app.base, ADMIN_PASSWORD).await;
        assert_eq!(ok.status(), StatusCode::OK);
        let after = sign_in_status(&app, &app.base, "wrong password").await;
        assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
        let ok = sign_in_status(&app, &app.base, ADMIN_PASSWORD).await;
        assert_eq!(ok.status(), StatusCode::OK, "one new failure is free again");
        second.stop().await;
    }
);

db_test!(an_unknown_email_is_throttled_like_a_real_one, |app| {
    let guess = || sign_in_as(&app, &app.base, "nobody@rapport.test", "guess");
    for _ in 0..=rapport::auth::sign_in_throttle::ACCOUNT_FREE_FAILURES {
        assert_eq!(guess().await.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(guess().await.status(), StatusCode::TOO_MANY_REQUESTS);
});

db_test!(metrics_can_be_protected_by_a_token_of_their_own, |app| {
    let node = app
        .another_node(|s| s.metrics_token = Some("scrape-token-for-tests".into()))
        .await;
    let scrape = |token: Option<&str>| {
        let mut request = app.client.get(node.url("/metrics"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move { request.send().await.unwrap().status() }
    };
    assert_eq!(scrape(None).await, StatusCode::UNAUTHORIZED);
    assert_eq!(scrape(Some("wrong")).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        scrape(Some(&app.admin_token)).await,
        StatusCode::UNAUTHORIZED,
        "a user's token is not the metrics token"
    );
    assert_eq!(scrape(Some("scrape-token-for-tests")).await, StatusCode::OK);
    // Without the setting, metrics stay open.
    let open = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(open.status(), StatusCode::OK);
    node.stop().await;
});
