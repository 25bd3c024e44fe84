//! Interactions (`/v1/interactions`): fields, rules, lists, roles, audit, and
//! what contact merge, erasure and export do with them. Consent and the weekly
//! cap are in `consent.rs`.

mod common;
mod crm;

use common::*;
use crm::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn fields(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_string())
        .collect()
}

db_test!(
    an_interaction_with_a_contact_gets_the_contacts_account_and_the_caller_as_handler,
    |app| {
        let acme = account(&app, "Acme").await;
        let pat = contact(&app, Some(&acme)).await;
        let ch = channel(&app, "phone", "Hotline").await;
        let response = log(
            &app,
            &ch,
            json!({"contact_id": pat, "subject": "  Renewal  ", "summary": "Asked about prices.",
        "outcome": "resolved", "duration_seconds": 540}),
        )
        .await;
        let location = response.headers()["location"].to_str().unwrap().to_string();
        assert_eq!(response.headers()["etag"], "\"1\"");
        let it = json_of(response, StatusCode::CREATED).await;
        assert_eq!(location, format!("/v1/interactions/{}", id(&it)));
        assert_eq!(it["account_id"], acme.as_str());
        assert_eq!(it["contact_id"], pat.as_str());
        assert_eq!(it["handled_by"], admin_id(&app).await.as_str());
        assert_eq!(it["subject"], "Renewal");
        assert_eq!(
            (
                it["direction"].as_str(),
                it["type"].as_str(),
                it["purpose"].as_str()
            ),
            (Some("inbound"), Some("call"), Some("service"))
        );
        assert_eq!(it["duration_seconds"], 540);
        let occurred: chrono::DateTime<chrono::Utc> =
            it["occurred_at"].as_str().unwrap().parse().unwrap();
        assert!(
            (app.now() - occurred).num_seconds().abs() < 60,
            "occurred_at defaults to now"
        );
        assert_eq!(json_of(app.get(&location).await, StatusCode::OK).await, it);
    }
);

db_test!(
    an_interaction_may_be_with_an_account_alone_or_name_both,
    |app| {
        let (acme, globex) = (account(&app, "Acme").await, account(&app, "Globex").await);
        let pat = contact(&app, Some(&acme)).await;
        let ch = channel(&app, "in_person", "Visits").await;
        let account_only = logged(&app, &ch, json!({"account_id": globex, "type": "visit"})).await;
        assert_eq!(account_only["contact_id"], Value::Null);
        let both = logged(
            &app,
            &ch,
            json!({"contact_id": pat, "account_id": globex, "type": "meeting"}),
        )
        .await;
        assert_eq!(both["account_id"], globex.as_str());
        let lone = contact(&app, None).await;
        let no_account = logged(&app, &ch, json!({"contact_id": lone})).await;
        assert_eq!(no_account["account_id"], Value::Null);
    }
);

db_test!(an_interaction_needs_a_contact_or_an_account, |app| {
    let ch = channel(&app, "phone", "Hotline").await;
    let body = problem(
        log(&app, &ch, json!({})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(fields(&body), ["contact_id"]);
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("account_id")
    );
});

db_test!(
    missing_or_deleted_references_are_422_naming_each_field,
    |app| {
        let ch = channel(&app, "phone", "Hotline").await;
        let nobody = uuid::Uuid::now_v7().to_string();
        let body = problem(
            log(
                &app,
                &nobody,
                json!({"contact_id": nobody, "account_id": nobody, "handled_by": nobody}),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(
            fields(&body),
            ["account_id", "channel_id", "contact_id", "handled_by"]
        );

        let gone = contact(&app, None).await;
        assert_eq!(
            app.delete(&format!("/v1/contacts/{gone}")).await.status(),
            StatusCode::NO_CONTENT
        );
        let body = problem(
            log(&app, &ch, json!({"contact_id": gone})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(fields(&body), ["contact_id"]);
        let closed = account(&app, "Closed").await;
        assert_eq!(
            app.delete(&format!("/v1/accounts/{closed}")).await.status(),
            StatusCode::NO_CONTENT
        );
        let body = problem(
            log(&app, &ch, json!({"account_id": closed})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(fields(&body), ["account_id"]);
    }
);

db_test!(invalid_values_are_422_naming_the_allowed_ones, |app| {
    let ch = channel(&app, "phone", "Hotline").await;
    let acme = account(&app, "Acme").await;
    let body = problem(
        log(
            &app,
            &ch,
            json!({"account_id": acme, "direction": "sideways", "type": "fax", "purpose": "spam",
            "duration_seconds": -1, "subject": "x".repeat(501)}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        fields(&body),
        [
            "direction",
            "duration_seconds",
            "purpose",
            "subject",
            "type"
        ]
    );
    let message = |field: &str| {
        body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["field"] == field)
            .unwrap()["message"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(message("type").contains("webinar") && message("type").contains("note"));
    assert!(message("purpose").contains("marketing"));
    assert!(message("direction").contains("outbound"));
});

db_test!(occurred_at_may_be_at_most_a_day_ahead, |app| {
    let ch = channel(&app, "phone", "Hotline").await;
    let acme = account(&app, "Acme").await;
    logged(
        &app,
        &ch,
        json!({"account_id": acme, "occurred_at": app.days_from_now(0.9)}),
    )
    .await;
    logged(
        &app,
        &ch,
        json!({"account_id": acme, "occurred_at": "2019-05-01T08:00:00Z"}),
    )
    .await;
    let body = problem(
        log(
            &app,
            &ch,
            json!({"account_id": acme, "occurred_at": app.days_from_now(1.1)}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["errors"][0]["code"], "too_far_in_future");
});

db_test!(unknown_fields_and_missing_required_fields_are_400, |app| {
    let ch = channel(&app, "phone", "Hotline").await;
    let acme = account(&app, "Acme").await;
    let body = problem(
        log(&app, &ch, json!({"account_id": acme, "sumary": "typo"})).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(body["detail"].as_str().unwrap().contains("sumary"));
    let no_purpose = app
        .post(
            "/v1/interactions",
            &json!({"account_id": acme, "channel_id": ch, "direction": "inbound", "type": "call"}),
        )
        .await;
    problem(no_purpose, StatusCode::BAD_REQUEST).await;
});

db_test!(an_inactive_channel_takes_no_new_interactions, |app| {
    let ch = channel(&app, "phone", "Old line").await;
    let acme = account(&app, "Acme").await;
    let earlier = logged(&app, &ch, json!({"account_id": acme})).await;
    app.patch(&format!("/v1/channels/{ch}"), &json!({"active": false}))
        .await;
    let body = problem(
        log(&app, &ch, json!({"account_id": acme})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["errors"][0]["code"], "inactive");
    // Its history stays editable.
    json_of(
        app.patch(
            &format!("/v1/interactions/{}", id(&earlier)),
            &json!({"outcome": "closed"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
});

db_test!(
    an_interaction_is_changed_with_merge_patch_and_if_match,
    |app| {
        let (acme, globex) = (account(&app, "Acme").await, account(&app, "Globex").await);
        let (pat, sam) = (
            contact(&app, Some(&acme)).await,
            contact(&app, Some(&globex)).await,
        );
        let ch = channel(&app, "phone", "Hotline").await;
        let it = logged(
            &app,
            &ch,
            json!({"contact_id": pat, "subject": "Call", "duration_seconds": 60}),
        )
        .await;
        let path = format!("/v1/interactions/{}", id(&it));
        let response = app
            .request(Method::PATCH, &path)
            .header("if-match", "\"1\"")
            .header("content-type", "application/merge-patch+json")
            .body(json!({"subject": null, "outcome": "follow_up", "contact_id": sam}).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["etag"], "\"2\"");
        let patched = json_of(response, StatusCode::OK).await;
        assert_eq!(patched["subject"], Value::Null);
        assert_eq!(patched["outcome"], "follow_up");
        assert_eq!(patched["duration_seconds"], 60);
        assert_eq!(patched["contact_id"], sam.as_str());
        assert_eq!(
            patched["account_id"],
            globex.as_str(),
            "a new contact brings its account"
        );
        let stale = app
            .request(Method::PATCH, &path)
            .header("if-match", "\"1\"")
            .json(&json!({"outcome": "x"}))
            .send()
            .await
            .unwrap();
        problem(stale, StatusCode::PRECONDITION_FAILED).await;
        let body = problem(
            app.patch(&path, &json!({"contact_id": null, "account_id": null}))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(fields(&body), ["contact_id"]);
        let body = problem(
            app.patch(
                &path,
                &json!({"occurred_at": app.days_from_now(3.0), "type": "fax", "duration_seconds": -5}),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(fields(&body), ["duration_seconds", "occurred_at", "type"]);
        problem(
            app.patch(&path, &json!({"handled_by": uuid::Uuid::now_v7()}))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        problem(
            app.patch(
                &format!("/v1/interactions/{}", uuid::Uuid::now_v7()),
                &json!({}),
            )
            .await,
            StatusCode::NOT_FOUND,
        )
        .await;
    }
);

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

db_test!(
    merging_contacts_moves_interactions_and_consent_to_the_survivor,
    |app| {
        let ch = channel(&app, "email", "Mail").await;
        let (survivor, duplicate) = (contact(&app, None).await, contact(&app, None).await);
        let it = logged(
            &app,
            &ch,
            json!({"contact_id": duplicate, "subject": "Hello"}),
        )
        .await;
        consent(&app, &duplicate, "email", true).await;
        put_preferences(
            &app,
            &duplicate,
            json!({"language": "de", "weekly_marketing_cap": 3}),
        )
        .await;
        let merged = app
            .post(
                &format!("/v1/contacts/{survivor}/merge"),
                &json!({"duplicate_id": duplicate}),
            )
            .await;
        assert_eq!(
            merged.status(),
            StatusCode::OK,
            "{}",
            merged.text().await.unwrap()
        );
        let moved = json_of(
            app.get(&format!("/v1/interactions/{}", id(&it))).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(moved["contact_id"], survivor.as_str());
        let prefs = json_of(
            app.get(&format!("/v1/contacts/{survivor}/preferences"))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(prefs["language"], "de");
        assert_eq!(prefs["consents"][0]["granted"], true);
        // The survivor may now be marketed to on email.
        logged(
            &app,
            &ch,
            json!({"contact_id": survivor, "direction": "outbound", "purpose": "marketing"}),
        )
        .await;
    }
);

db_test!(
    erasing_a_contact_anonymises_their_interactions_and_keeps_consent_evidence,
    |app| {
        let ch = channel(&app, "phone", "Hotline").await;
        let acme = account(&app, "Acme").await;
        let pat = contact(&app, Some(&acme)).await;
        let it = logged(&app, &ch, json!({"contact_id": pat, "subject": "Health question", "summary": "Asked about ...", "duration_seconds": 90})).await;
        let bare = logged(&app, &ch, json!({"contact_id": pat})).await;
        consent(&app, &pat, "phone", true).await;
        put_preferences(
            &app,
            &pat,
            json!({"language": "fr", "quiet_hours": {"start": "21:00", "end": "07:00"}}),
        )
        .await;
        json_of(
            app.post(&format!("/v1/contacts/{pat}/erase"), &json!({}))
                .await,
            StatusCode::OK,
        )
        .await;

        let erased = json_of(
            app.get(&format!("/v1/interactions/{}", id(&it))).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(
            (erased["subject"].as_str(), erased["summary"].as_str()),
            (Some("[erased]"), Some("[erased]"))
        );
        assert_eq!(erased["duration_seconds"], 90);
        assert_eq!(erased["account_id"], acme.as_str());
        let untouched = json_of(
            app.get(&format!("/v1/interactions/{}", id(&bare))).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(untouched["subject"], Value::Null);
        let prefs = json_of(
            app.get(&format!("/v1/contacts/{pat}/preferences")).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(
            (prefs["language"].clone(), prefs["version"].as_i64()),
            (Value::Null, Some(0))
        );
        assert_eq!(prefs["consents"][0]["channel_kind"], "phone");
        let history = json_of(
            app.get(&format!("/v1/contacts/{pat}/consents")).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(history["data"].as_array().unwrap().len(), 1);
        let body = problem(
            log(&app, &ch, json!({"contact_id": pat})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(body["errors"][0]["code"], "erased");
        let again = app
            .request(Method::PUT, &format!("/v1/contacts/{pat}/preferences"))
            .json(&json!({"language": "fr"}))
            .send()
            .await
            .unwrap();
        problem(again, StatusCode::CONFLICT).await;
    }
);

db_test!(
    the_person_export_holds_interactions_preferences_and_consent_history,
    |app| {
        let ch = channel(&app, "email", "Mail").await;
        let pat = contact(&app, None).await;
        let it = logged(&app, &ch, json!({"contact_id": pat, "subject": "Hi"})).await;
        consent(&app, &pat, "email", true).await;
        consent(&app, &pat, "email", false).await;
        let export = json_of(
            app.get(&format!("/v1/contacts/{pat}/export")).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(ids(export["interactions"].as_array().unwrap()), [id(&it)]);
        assert_eq!(export["consent_history"].as_array().unwrap().len(), 2);
        assert_eq!(export["preferences"]["consents"][0]["granted"], false);
    }
);
