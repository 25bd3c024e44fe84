//! Consent and the weekly cap on outbound marketing interactions: what is
//! refused (409, nothing written) and what is always allowed.

use crate::common::records::*;
use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

db_test!(
    outbound_marketing_without_consent_is_refused_and_nothing_is_written,
    |app| {
        let pat = contact(&app, None).await;
        let mail = channel(&app, "email", "Newsletter").await;
        let body = problem(
        log(&app, &mail, json!({"contact_id": pat, "direction": "outbound", "purpose": "marketing", "type": "email"})).await,
        StatusCode::CONFLICT,
    )
    .await;
        assert_eq!(body["rule"], "marketing_consent");
        assert_eq!(body["channel_kind"], "email");
        assert!(body["detail"].as_str().unwrap().contains("consent"));
        let listed = json_of(
            app.get(&format!("/v1/interactions?contact_id={pat}")).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(listed["data"], json!([]));
    }
);

db_test!(
    granted_consent_allows_outbound_marketing_and_a_withdrawal_refuses_it_again,
    |app| {
        let pat = contact(&app, None).await;
        let mail = channel(&app, "email", "Newsletter").await;
        let marketing = json!({"contact_id": pat, "direction": "outbound", "purpose": "marketing", "type": "email"});
        consent(&app, &pat, "email", true).await;
        logged(&app, &mail, marketing.clone()).await;
        consent(&app, &pat, "email", false).await;
        let body = problem(
            log(&app, &mail, marketing.clone()).await,
            StatusCode::CONFLICT,
        )
        .await;
        assert_eq!(body["rule"], "marketing_consent");
        assert!(body["detail"].as_str().unwrap().contains("withdrew"));
        let listed = json_of(
            app.get(&format!("/v1/interactions?contact_id={pat}")).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    }
);

db_test!(consent_is_per_channel_kind_and_only_for_marketing, |app| {
    let pat = contact(&app, None).await;
    let (mail, sms) = (
        channel(&app, "email", "Newsletter").await,
        channel(&app, "sms", "Texts").await,
    );
    consent(&app, &pat, "email", true).await;
    let out = |purpose: &str| json!({"contact_id": pat, "direction": "outbound", "purpose": purpose, "type": "message"});
    logged(&app, &mail, out("marketing")).await;
    let body = problem(
        log(&app, &sms, out("marketing")).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(body["channel_kind"], "sms");
    // Service, sales and research touches, and anything inbound, need no consent.
    for purpose in ["service", "sales", "research"] {
        logged(&app, &sms, out(purpose)).await;
    }
    logged(
        &app,
        &sms,
        json!({"contact_id": pat, "direction": "inbound", "purpose": "marketing"}),
    )
    .await;
    // Consent to sales does not cover marketing.
    put_preferences(&app, &pat, json!({"consents": [{"channel_kind": "sms", "purpose": "sales", "granted": true, "source": "call"}]})).await;
    problem(
        log(&app, &sms, out("marketing")).await,
        StatusCode::CONFLICT,
    )
    .await;
});

db_test!(
    account_only_marketing_touches_need_no_personal_consent,
    |app| {
        let acme = account(&app, "Acme").await;
        let mail = channel(&app, "email", "Newsletter").await;
        logged(
            &app,
            &mail,
            json!({"account_id": acme, "direction": "outbound", "purpose": "marketing"}),
        )
        .await;
    }
);

db_test!(
    the_consent_in_force_when_the_touch_occurred_decides,
    |app| {
        let pat = contact(&app, None).await;
        let mail = channel(&app, "email", "Newsletter").await;
        // Consent is entered within 30 days of its date: on 10 January.
        app.clock.set("2026-01-10T08:00:00Z".parse().unwrap());
        put_preferences(
            &app,
            &pat,
            json!({"consents": [{"channel_kind": "email", "purpose": "marketing", "granted": true,
        "source": "web_form", "recorded_at": "2026-01-10T00:00:00Z"}]}),
        )
        .await;
        app.clock.set(test_epoch());
        let at = |t: &str| json!({"contact_id": pat, "direction": "outbound", "purpose": "marketing", "occurred_at": t});
        problem(
            log(&app, &mail, at("2026-01-09T12:00:00Z")).await,
            StatusCode::CONFLICT,
        )
        .await;
        logged(&app, &mail, at("2026-01-10T00:00:00Z")).await;
        logged(&app, &mail, at("2026-02-01T00:00:00Z")).await;
    }
);

db_test!(
    the_weekly_cap_limits_outbound_marketing_in_any_7_days,
    |app| {
        let pat = contact(&app, None).await;
        let mail = channel(&app, "email", "Newsletter").await;
        app.clock.set("2026-01-01T08:00:00Z".parse().unwrap());
        put_preferences(&app, &pat, json!({"weekly_marketing_cap": 2, "consents": [
        {"channel_kind": "email", "purpose": "marketing", "granted": true, "source": "web_form", "recorded_at": "2026-01-01T00:00:00Z"}
    ]})).await;
        app.clock.set(test_epoch());
        let at = |t: &str| json!({"contact_id": pat, "direction": "outbound", "purpose": "marketing", "occurred_at": t});
        logged(&app, &mail, at("2026-03-01T09:00:00Z")).await;
        logged(&app, &mail, at("2026-03-05T09:00:00Z")).await;
        let body = problem(
            log(&app, &mail, at("2026-03-07T09:00:00Z")).await,
            StatusCode::CONFLICT,
        )
        .await;
        assert_eq!(body["rule"], "weekly_marketing_cap");
        assert_eq!(body["weekly_marketing_cap"], 2);
        assert_eq!(body["nearby_marketing_touches"], 2);
        // Service touches neither need room under the cap nor use it.
        logged(&app, &mail, json!({"contact_id": pat, "direction": "outbound", "purpose": "service", "occurred_at": "2026-03-07T10:00:00Z"})).await;
        // The window rolls: a backdated touch is refused when it would crowd a later week.
        problem(
            log(&app, &mail, at("2026-02-27T09:00:00Z")).await,
            StatusCode::CONFLICT,
        )
        .await;
        // Seven days after the first, it has left the window.
        logged(&app, &mail, at("2026-03-08T09:00:00Z")).await;
        logged(&app, &mail, at("2026-02-20T09:00:00Z")).await;
        let listed = json_of(
            app.get(&format!(
                "/v1/interactions?contact_id={pat}&purpose=marketing"
            ))
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(listed["data"].as_array().unwrap().len(), 4);
        // A cap of 0 stops marketing altogether.
        put_preferences(&app, &pat, json!({"weekly_marketing_cap": 0})).await;
        problem(
            log(&app, &mail, at("2026-06-01T09:00:00Z")).await,
            StatusCode::CONFLICT,
        )
        .await;
    }
);

db_test!(
    concurrent_marketing_touches_cannot_overrun_the_weekly_cap,
    |app| {
        let pat = contact(&app, None).await;
        let mail = channel(&app, "email", "Newsletter").await;
        put_preferences(&app, &pat, json!({"weekly_marketing_cap": 2, "consents": [
        {"channel_kind": "email", "purpose": "marketing", "granted": true, "source": "web_form"}
    ]})).await;
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..6 {
            let request = app
                .request(Method::POST, "/v1/interactions")
                .json(&json!({"contact_id": pat, "channel_id": mail,
            "direction": "outbound", "purpose": "marketing", "type": "email"}));
            tasks.spawn(async move { request.send().await.unwrap().status() });
        }
        let statuses: Vec<StatusCode> = tasks.join_all().await;
        assert_eq!(
            statuses
                .iter()
                .filter(|s| **s == StatusCode::CREATED)
                .count(),
            2,
            "{statuses:?}"
        );
        assert_eq!(
            statuses
                .iter()
                .filter(|s| **s == StatusCode::CONFLICT)
                .count(),
            4,
            "{statuses:?}"
        );
    }
);

db_test!(
    editing_an_interaction_into_outbound_marketing_is_checked_too,
    |app| {
        let pat = contact(&app, None).await;
        let mail = channel(&app, "email", "Newsletter").await;
        let it = logged(&app, &mail, json!({"contact_id": pat, "direction": "outbound", "occurred_at": "2026-05-20T10:00:00Z"})).await;
        let path = format!("/v1/interactions/{}", id(&it));
        let body = problem(
            app.patch(&path, &json!({"purpose": "marketing"})).await,
            StatusCode::CONFLICT,
        )
        .await;
        assert_eq!(body["rule"], "marketing_consent");
        assert_eq!(
            json_of(app.get(&path).await, StatusCode::OK).await["purpose"],
            "service"
        );
        // Consent given after the touch does not cover it.
        consent(&app, &pat, "email", true).await;
        problem(
            app.patch(&path, &json!({"purpose": "marketing"})).await,
            StatusCode::CONFLICT,
        )
        .await;
        consent_since(&app, &pat, "email", true, "2026-05-15T00:00:00Z").await;
        let patched = json_of(
            app.patch(&path, &json!({"purpose": "marketing"})).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(patched["purpose"], "marketing");
        // Editing its text later is not a new touch: no check, even after a withdrawal.
        consent(&app, &pat, "email", false).await;
        json_of(
            app.patch(&path, &json!({"summary": "Sent the spring newsletter."}))
                .await,
            StatusCode::OK,
        )
        .await;
    }
);

db_test!(
    a_retried_create_with_the_same_idempotency_key_logs_once_and_uses_the_cap_once,
    |app| {
        let pat = contact(&app, None).await;
        let mail = channel(&app, "email", "Newsletter").await;
        put_preferences(
            &app,
            &pat,
            json!({"weekly_marketing_cap": 1, "consents": [
                {"channel_kind": "email", "purpose": "marketing", "granted": true, "source": "web_form"}
            ]}),
        )
        .await;
        let body = json!({"contact_id": pat, "channel_id": mail, "direction": "outbound",
            "purpose": "marketing", "type": "email"});
        let send = || {
            app.request(Method::POST, "/v1/interactions")
                .header("idempotency-key", "campaign-42-pat")
                .json(&body)
                .send()
        };
        let first = json_of(send().await.unwrap(), StatusCode::CREATED).await;
        let replay = send().await.unwrap();
        assert_eq!(replay.headers()["idempotent-replayed"], "true");
        assert_eq!(json_of(replay, StatusCode::CREATED).await, first);
        let listed = json_of(
            app.get(&format!("/v1/interactions?contact_id={pat}")).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    }
);
