//! Who may log, change, delete and list interactions, and what the audit log
//! keeps of them.

use crate::common::records::*;
use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

db_test!(interactions_are_deleted_by_managers_not_agents, |app| {
    let ch = channel(&app, "phone", "Hotline").await;
    let acme = account(&app, "Acme").await;
    let path = format!(
        "/v1/interactions/{}",
        id(&logged(&app, &ch, json!({"account_id": acme})).await)
    );
    let agent = app.token_for("agent").await;
    problem(
        app.request_as(&agent, Method::DELETE, &path)
            .send()
            .await
            .unwrap(),
        StatusCode::FORBIDDEN,
    )
    .await;
    let manager = app.token_for("manager").await;
    let deleted = app
        .request_as(&manager, Method::DELETE, &path)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    problem(app.get(&path).await, StatusCode::NOT_FOUND).await;
    // The channel is free again.
    assert_eq!(
        app.delete(&format!("/v1/channels/{ch}")).await.status(),
        StatusCode::NO_CONTENT
    );
});

db_test!(
    viewers_read_interactions_but_cannot_log_or_change_them,
    |app| {
        let ch = channel(&app, "phone", "Hotline").await;
        let acme = account(&app, "Acme").await;
        let path = format!(
            "/v1/interactions/{}",
            id(&logged(&app, &ch, json!({"account_id": acme})).await)
        );
        let viewer = app.token_for("viewer").await;
        json_of(
            app.request_as(&viewer, Method::GET, &path)
                .send()
                .await
                .unwrap(),
            StatusCode::OK,
        )
        .await;
        json_of(
            app.request_as(&viewer, Method::GET, "/v1/interactions")
                .send()
                .await
                .unwrap(),
            StatusCode::OK,
        )
        .await;
        let body = json!({"account_id": acme, "channel_id": ch, "direction": "inbound", "type": "call", "purpose": "service"});
        problem(
            app.request_as(&viewer, Method::POST, "/v1/interactions")
                .json(&body)
                .send()
                .await
                .unwrap(),
            StatusCode::FORBIDDEN,
        )
        .await;
        problem(
            app.request_as(&viewer, Method::PATCH, &path)
                .json(&json!({"outcome": "x"}))
                .send()
                .await
                .unwrap(),
            StatusCode::FORBIDDEN,
        )
        .await;
        problem(
            app.request_as(&viewer, Method::DELETE, &path)
                .send()
                .await
                .unwrap(),
            StatusCode::FORBIDDEN,
        )
        .await;
        let agent = app.token_for("agent").await;
        json_of(
            app.request_as(&agent, Method::POST, "/v1/interactions")
                .json(&body)
                .send()
                .await
                .unwrap(),
            StatusCode::CREATED,
        )
        .await;
        // A partner system needs interactions:write; it is recorded as handled by nobody.
        let reader = app.api_key(&["interactions:read"]).await;
        problem(
            app.request_as(&reader, Method::POST, "/v1/interactions")
                .json(&body)
                .send()
                .await
                .unwrap(),
            StatusCode::FORBIDDEN,
        )
        .await;
        let writer = app.api_key(&["interactions:write"]).await;
        let by_key = json_of(
            app.request_as(&writer, Method::POST, "/v1/interactions")
                .json(&body)
                .send()
                .await
                .unwrap(),
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(by_key["handled_by"], Value::Null);
    }
);

db_test!(
    interactions_are_listed_newest_first_with_every_filter,
    |app| {
        let (acme, globex) = (account(&app, "Acme").await, account(&app, "Globex").await);
        let (pat, sam) = (
            contact(&app, Some(&acme)).await,
            contact(&app, Some(&globex)).await,
        );
        let (phone, mail) = (
            channel(&app, "phone", "Hotline").await,
            channel(&app, "email", "Mail").await,
        );
        let agent_token = app.token_for("agent").await;
        let agent = id(&json_of(
            app.request_as(&agent_token, Method::GET, "/v1/me")
                .send()
                .await
                .unwrap(),
            StatusCode::OK,
        )
        .await);
        // Consent is dated at most 30 days back: entered on the day.
        app.clock.set("2025-12-01T09:00:00Z".parse().unwrap());
        consent_since(&app, &sam, "email", true, "2025-12-01T00:00:00Z").await;
        app.clock.set(test_epoch());
        let specs = [
            (
                &phone,
                json!({"contact_id": pat, "occurred_at": "2026-01-01T10:00:00Z"}),
            ),
            (
                &mail,
                json!({"contact_id": sam, "direction": "outbound", "type": "email", "purpose": "marketing", "occurred_at": "2026-01-03T10:00:00Z"}),
            ),
            (
                &phone,
                json!({"account_id": globex, "type": "meeting", "purpose": "sales", "occurred_at": "2026-01-02T10:00:00Z", "handled_by": agent}),
            ),
            (
                &mail,
                json!({"contact_id": pat, "direction": "outbound", "type": "email", "occurred_at": "2026-01-05T10:00:00Z"}),
            ),
            (
                &phone,
                json!({"contact_id": sam, "occurred_at": "2026-01-05T10:00:00Z"}),
            ),
        ];
        let mut made = Vec::new();
        for (ch, extra) in specs {
            made.push(logged(&app, ch, extra).await);
        }
        let mut expected = made.clone();
        expected.sort_by(|a, b| {
            (b["occurred_at"].as_str(), b["id"].as_str())
                .cmp(&(a["occurred_at"].as_str(), a["id"].as_str()))
        });
        assert_eq!(
            ids(&all_pages(&app, "/v1/interactions?limit=2").await),
            ids(&expected)
        );
        let mut oldest_first = ids(&expected);
        oldest_first.reverse();
        assert_eq!(
            ids(&all_pages(&app, "/v1/interactions?sort=occurred_at&limit=3").await),
            oldest_first
        );

        let count = |query: String| {
            let app = &app;
            async move {
                all_pages(app, &format!("/v1/interactions?limit=200&{query}"))
                    .await
                    .len()
            }
        };
        assert_eq!(count(format!("contact_id={pat}")).await, 2);
        assert_eq!(count(format!("account_id={globex}")).await, 3);
        assert_eq!(count(format!("channel_id={mail}")).await, 2);
        assert_eq!(count("direction=outbound".into()).await, 2);
        assert_eq!(count("type=email".into()).await, 2);
        assert_eq!(count("purpose=sales".into()).await, 1);
        assert_eq!(count(format!("handled_by={agent}")).await, 1);
        assert_eq!(
            count("from=2026-01-02T10:00:00Z&to=2026-01-05T10:00:00Z".into()).await,
            2
        );
        assert_eq!(
            count(format!(
                "contact_id={pat}&direction=outbound&channel_id={mail}"
            ))
            .await,
            1
        );

        problem(
            app.get("/v1/interactions?direction=up").await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        problem(
            app.get("/v1/interactions?type=fax").await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        problem(
            app.get("/v1/interactions?sort=subject").await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        problem(
            app.get("/v1/interactions?cursor=nonsense").await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        problem(
            app.get("/v1/interactions?contact=1").await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        let first = json_of(app.get("/v1/interactions?limit=1").await, StatusCode::OK).await;
        let cursor = first["next_cursor"].as_str().unwrap();
        problem(
            app.get(&format!(
                "/v1/interactions?sort=occurred_at&cursor={cursor}"
            ))
            .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
);

db_test!(interaction_changes_are_audited_without_their_text, |app| {
    let ch = channel(&app, "phone", "Hotline").await;
    let pat = contact(&app, None).await;
    let it = logged(
        &app,
        &ch,
        json!({"contact_id": pat, "subject": "Pat's divorce", "summary": "Private."}),
    )
    .await;
    let path = format!("/v1/interactions/{}", id(&it));
    app.patch(
        &path,
        &json!({"subject": "Pat's wedding", "outcome": "done"}),
    )
    .await;
    app.delete(&path).await;
    let events = json_of(
        app.get(&format!(
            "/v1/audit-events?entity_type=interaction&entity_id={}",
            id(&it)
        ))
        .await,
        StatusCode::OK,
    )
    .await;
    let events = events["data"].as_array().unwrap();
    let actions: Vec<&str> = events
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["create", "update", "delete"]);
    let text = serde_json::to_string(events).unwrap();
    assert!(
        !text.contains("divorce") && !text.contains("wedding") && !text.contains("Private"),
        "{text}"
    );
    assert_eq!(events[0]["changes"]["subject"]["after"], "(13 characters)");
    assert_eq!(
        events[1]["changes"]["subject"],
        json!({"before": "(13 characters)", "after": "(13 characters) (edited)"})
    );
    assert_eq!(events[1]["changes"]["outcome"]["after"], "(4 characters)");
});
