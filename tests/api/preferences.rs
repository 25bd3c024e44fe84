//! Communication preferences and consent: `/v1/contacts/{id}/preferences`
//! and `/v1/contacts/{id}/consents`. How consent is enforced on interactions
//! is tested in `interactions.rs`.

use crate::common::records::*;
use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn put(app: &TestApp, contact: &str) -> reqwest::RequestBuilder {
    app.request(Method::PUT, &format!("/v1/contacts/{contact}/preferences"))
}

db_test!(preferences_start_empty_and_a_put_replaces_them, |app| {
    let body =
        json!({"first_name": "Ana", "email": "ana@example.com", "time_zone": "Europe/Berlin"});
    let ana = id(&json_of(app.post("/v1/contacts", &body).await, StatusCode::CREATED).await);
    let path = format!("/v1/contacts/{ana}/preferences");
    let response = app.get(&path).await;
    assert_eq!(response.headers()["etag"], "\"0\"");
    let empty = json_of(response, StatusCode::OK).await;
    assert_eq!(empty["version"], 0);
    assert_eq!(empty["consents"], json!([]));
    assert_eq!(empty["time_zone"], "Europe/Berlin");
    assert_eq!(empty["weekly_marketing_cap"], Value::Null);

    // The form was filled in on 1 February: consent can be dated at most 30
    // days back, so the statement is entered then.
    app.clock.set("2026-02-01T10:05:00Z".parse().unwrap());
    let response = put(&app, &ana).header("if-match", "\"0\"").json(&json!({
        "preferred_channel_kind": "email", "language": "pt-br", "quiet_hours": {"start": "21:30", "end": "07:00"},
        "weekly_marketing_cap": 2,
        "consents": [{"channel_kind": "email", "purpose": "marketing", "granted": true, "source": "web_form",
                      "legal_basis": "consent", "recorded_at": "2026-02-01T10:00:00Z"}]
    })).send().await.unwrap();
    assert_eq!(response.headers()["etag"], "\"1\"");
    let saved = json_of(response, StatusCode::OK).await;
    app.clock.set(test_epoch());
    assert_eq!(saved["language"], "pt-BR");
    assert_eq!(
        saved["quiet_hours"],
        json!({"start": "21:30", "end": "07:00"})
    );
    assert_eq!(saved["preferred_channel_kind"], "email");
    let c = &saved["consents"][0];
    assert_eq!(
        (
            c["channel_kind"].as_str(),
            c["purpose"].as_str(),
            c["granted"].as_bool()
        ),
        (Some("email"), Some("marketing"), Some(true))
    );
    assert_eq!(
        (
            c["source"].as_str(),
            c["legal_basis"].as_str(),
            c["recorded_at"].as_str()
        ),
        (
            Some("web_form"),
            Some("consent"),
            Some("2026-02-01T10:00:00Z")
        )
    );
    assert_eq!(c["actor_type"], "user");
    assert_eq!(json_of(app.get(&path).await, StatusCode::OK).await, saved);

    // PUT replaces: what is left out is cleared, but consent stays.
    let replaced = put_preferences(&app, &ana, json!({"weekly_marketing_cap": 5})).await;
    assert_eq!(replaced["language"], Value::Null);
    assert_eq!(replaced["quiet_hours"], Value::Null);
    assert_eq!(replaced["weekly_marketing_cap"], 5);
    assert_eq!(replaced["consents"], saved["consents"]);
    assert_eq!(replaced["version"], 2);

    let stale = put(&app, &ana)
        .header("if-match", "\"1\"")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let body = problem(stale, StatusCode::PRECONDITION_FAILED).await;
    assert_eq!(body["current_etag"], "\"2\"");
});

db_test!(consent_is_kept_as_history_never_overwritten, |app| {
    let pat = contact(&app, None).await;
    // Statements may be dated up to 30 days back: these are entered in February.
    app.clock.set("2026-01-20T09:00:00Z".parse().unwrap());
    consent_since(&app, &pat, "email", true, "2026-01-01T00:00:00Z").await;
    app.clock.set("2026-02-10T09:00:00Z".parse().unwrap());
    consent_since(&app, &pat, "email", false, "2026-02-01T00:00:00Z").await;
    let now = consent(&app, &pat, "sms", true).await;
    // A statement recorded later but dated earlier does not override the one in force.
    let prefs = consent_since(&app, &pat, "email", true, "2026-01-15T00:00:00Z").await;
    app.clock.set(test_epoch());
    let email = prefs["consents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["channel_kind"] == "email")
        .unwrap()
        .clone();
    assert_eq!(email["granted"], false);
    assert_eq!(prefs["consents"].as_array().unwrap().len(), 2);
    let history = all_pages(&app, &format!("/v1/contacts/{pat}/consents?limit=1")).await;
    let dates: Vec<&str> = history
        .iter()
        .map(|c| c["recorded_at"].as_str().unwrap())
        .collect();
    assert_eq!(dates.len(), 4);
    assert_eq!(
        &dates[1..],
        [
            "2026-02-01T00:00:00Z",
            "2026-01-15T00:00:00Z",
            "2026-01-01T00:00:00Z"
        ]
    );
    assert_eq!(history[0]["channel_kind"], "sms");
    assert!(
        now["consents"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["channel_kind"] == "sms")
    );

    // Repeating the consent in force, or sending back what GET gave, records nothing.
    consent(&app, &pat, "sms", true).await;
    let current = json_of(
        app.get(&format!("/v1/contacts/{pat}/preferences")).await,
        StatusCode::OK,
    )
    .await;
    let round_trip: Vec<Value> = current["consents"].as_array().unwrap().iter().map(|c| json!({
        "channel_kind": c["channel_kind"], "purpose": c["purpose"], "granted": c["granted"], "source": c["source"],
        "legal_basis": c["legal_basis"], "recorded_at": c["recorded_at"]
    })).collect();
    put_preferences(&app, &pat, json!({"consents": round_trip})).await;
    assert_eq!(
        all_pages(&app, &format!("/v1/contacts/{pat}/consents?limit=50"))
            .await
            .len(),
        4
    );
});

db_test!(every_invalid_preference_is_reported_at_once, |app| {
    let pat = contact(&app, None).await;
    let response = put(&app, &pat).json(&json!({
        "preferred_channel_kind": "pigeon", "language": "not a language", "weekly_marketing_cap": -1,
        "quiet_hours": {"start": "25:00", "end": "7am"},
        "consents": [
            {"channel_kind": "fax", "purpose": "spam", "granted": true, "source": "", "legal_basis": "because"},
            {"channel_kind": "email", "purpose": "marketing", "granted": true, "source": "form"},
            {"channel_kind": "email", "purpose": "marketing", "granted": false, "source": "form"}
        ]
    })).send().await.unwrap();
    let body = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "consents[0].channel_kind",
            "consents[0].legal_basis",
            "consents[0].purpose",
            "consents[0].source",
            "preferred_channel_kind",
            "quiet_hours.end",
            "quiet_hours.start",
            "weekly_marketing_cap"
        ]
    );
    // Checks that need the parsed values come once the shape is right.
    let response = put(&app, &pat).json(&json!({
        "language": "not a language", "quiet_hours": {"start": "08:00", "end": "08:00"},
        "consents": [
            {"channel_kind": "email", "purpose": "marketing", "granted": true, "source": "form", "recorded_at": app.days_from_now(2.0)},
            {"channel_kind": "email", "purpose": "marketing", "granted": false, "source": "form"}
        ]
    })).send().await.unwrap();
    let body = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "consents[0].recorded_at",
            "consents[1]",
            "language",
            "quiet_hours.end"
        ]
    );
    let typo = put(&app, &pat)
        .json(&json!({"weekly_cap": 3}))
        .send()
        .await
        .unwrap();
    problem(typo, StatusCode::BAD_REQUEST).await;
    assert_eq!(
        json_of(
            app.get(&format!("/v1/contacts/{pat}/preferences")).await,
            StatusCode::OK
        )
        .await["version"],
        0
    );
});

db_test!(preferences_of_unknown_or_deleted_contacts_are_404, |app| {
    let nobody = uuid::Uuid::now_v7();
    problem(
        app.get(&format!("/v1/contacts/{nobody}/preferences")).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        put(&app, &nobody.to_string())
            .json(&json!({}))
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        app.get(&format!("/v1/contacts/{nobody}/consents")).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let gone = contact(&app, None).await;
    app.delete(&format!("/v1/contacts/{gone}")).await;
    problem(
        app.get(&format!("/v1/contacts/{gone}/preferences")).await,
        StatusCode::NOT_FOUND,
    )
    .await;
});

db_test!(
    preference_and_consent_changes_are_audited_on_the_contact,
    |app| {
        let pat = contact(&app, None).await;
        consent(&app, &pat, "email", true).await;
        consent(&app, &pat, "email", false).await;
        let events = json_of(
            app.get(&format!(
                "/v1/audit-events?entity_type=contact&entity_id={pat}"
            ))
            .await,
            StatusCode::OK,
        )
        .await;
        let changes: Vec<&Value> = events["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == "update_preferences")
            .map(|e| &e["changes"])
            .collect();
        assert_eq!(changes.len(), 2);
        assert_eq!(changes[1]["consents"]["before"][0]["granted"], true);
        assert_eq!(changes[1]["consents"]["after"][0]["granted"], false);
    }
);

db_test!(
    viewers_read_preferences_and_partners_with_contacts_write_record_consent,
    |app| {
        let pat = contact(&app, None).await;
        let viewer = app.token_for("viewer").await;
        json_of(
            app.request_as(
                &viewer,
                Method::GET,
                &format!("/v1/contacts/{pat}/preferences"),
            )
            .send()
            .await
            .unwrap(),
            StatusCode::OK,
        )
        .await;
        json_of(
            app.request_as(
                &viewer,
                Method::GET,
                &format!("/v1/contacts/{pat}/consents"),
            )
            .send()
            .await
            .unwrap(),
            StatusCode::OK,
        )
        .await;
        let denied = app
            .request_as(
                &viewer,
                Method::PUT,
                &format!("/v1/contacts/{pat}/preferences"),
            )
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        problem(denied, StatusCode::FORBIDDEN).await;
        let form = app.api_key(&["contacts:write"]).await;
        let body = json!({"consents": [{"channel_kind": "email", "purpose": "marketing", "granted": true, "source": "web_form"}]});
        let saved = json_of(
            app.request_as(
                &form,
                Method::PUT,
                &format!("/v1/contacts/{pat}/preferences"),
            )
            .json(&body)
            .send()
            .await
            .unwrap(),
            StatusCode::OK,
        )
        .await;
        assert_eq!(saved["consents"][0]["actor_type"], "api_key");
    }
);
