//! Interactions (`/v1/interactions`): fields, rules, lists, roles, audit, and
//! what contact merge, erasure and export do with them. Consent and the weekly
//! cap are in `consent.rs`.

use crate::common::records::*;
use crate::common::*;
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
