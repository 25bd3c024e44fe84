//! The customer record's lifecycle: merge, erasure and the person export.

use crate::common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

db_test!(merging_folds_the_duplicate_into_the_survivor, |app| {
    let survivor = created(&app, "/v1/contacts", json!({"first_name": "Mei", "last_name": "Chen", "tags": ["vip"], "custom_fields": {"a": 1}})).await;
    let duplicate = created(&app, "/v1/contacts", json!({"first_name": "May", "email": "mei@acme.example", "title": "CTO", "tags": ["apac"], "custom_fields": {"a": 2, "b": 3}})).await;
    let merged = json_of(
        app.post(
            &format!("/v1/contacts/{}/merge", id(&survivor)),
            &json!({"duplicate_id": id(&duplicate)}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(merged["first_name"], "Mei");
    assert_eq!(merged["email"], "mei@acme.example");
    assert_eq!(merged["title"], "CTO");
    assert_eq!(merged["tags"], json!(["vip", "apac"]));
    assert_eq!(merged["custom_fields"], json!({"a": 1, "b": 3}));
    problem(
        app.get(&format!("/v1/contacts/{}", id(&duplicate))).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let events = json_of(
        app.get(&format!(
            "/v1/audit-events?entity_type=contact&entity_id={}",
            id(&duplicate)
        ))
        .await,
        StatusCode::OK,
    )
    .await;
    let last = events["data"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "merge");
    assert_eq!(last["changes"]["merged_into"], survivor["id"]);
    let events = json_of(
        app.get(&format!(
            "/v1/audit-events?entity_type=contact&entity_id={}",
            id(&survivor)
        ))
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        events["data"].as_array().unwrap().last().unwrap()["changes"]["merged_from"],
        duplicate["id"]
    );
    problem(
        app.post(
            &format!("/v1/contacts/{}/merge", id(&survivor)),
            &json!({"duplicate_id": id(&survivor)}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    problem(
        app.post(
            &format!("/v1/contacts/{}/merge", id(&survivor)),
            &json!({"duplicate_id": id(&duplicate)}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
});

db_test!(
    erasure_removes_personal_data_irreversibly_and_is_audited,
    |app| {
        let c = created(&app, "/v1/contacts", json!({"first_name": "Pat", "last_name": "Lee", "email": "pat@acme.example", "phone": "+14155550123",
        "lifecycle_stage": "customer", "tags": ["vip"], "custom_fields": {"note": "likes golf"}})).await;
        let path = format!("/v1/contacts/{}", id(&c));
        app.patch(&path, &json!({"title": "CTO"})).await;
        let erased = json_of(
            app.post(&format!("{path}/erase"), &json!({})).await,
            StatusCode::OK,
        )
        .await;
        for field in ["first_name", "last_name", "email", "phone", "title"] {
            assert_eq!(erased[field], Value::Null, "{field}");
        }
        assert_eq!(erased["tags"], json!([]));
        assert_eq!(erased["custom_fields"], json!({}));
        assert_eq!(erased["lifecycle_stage"], "customer");
        assert!(erased["erased_at"].is_string());
        let export = json_of(app.get(&format!("{path}/export")).await, StatusCode::OK).await;
        let text = export.to_string();
        assert!(
            !text.contains("pat@") && !text.contains("Pat") && !text.contains("golf"),
            "{text}"
        );
        assert_eq!(
            export["audit_events"].as_array().unwrap().last().unwrap()["action"],
            "erase"
        );
        problem(
            app.patch(&path, &json!({"first_name": "Back"})).await,
            StatusCode::CONFLICT,
        )
        .await;
        json_of(
            app.post(&format!("{path}/erase"), &json!({})).await,
            StatusCode::OK,
        )
        .await;
        created(
            &app,
            "/v1/contacts",
            json!({"first_name": "New Pat", "email": "pat@acme.example"}),
        )
        .await;
    }
);

db_test!(
    a_person_export_holds_the_contact_account_and_history,
    |app| {
        let account = json_of(
            app.post("/v1/accounts", &json!({"name": "Acme"})).await,
            StatusCode::CREATED,
        )
        .await;
        let c = created(
            &app,
            "/v1/contacts",
            json!({"first_name": "Pat", "email": "pat@acme.example", "account_id": id(&account)}),
        )
        .await;
        app.patch(
            &format!("/v1/contacts/{}", id(&c)),
            &json!({"title": "CTO"}),
        )
        .await;
        let export = json_of(
            app.get(&format!("/v1/contacts/{}/export", id(&c))).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(export["contact"]["email"], "pat@acme.example");
        assert_eq!(export["account"]["name"], "Acme");
        let actions: Vec<&str> = export["audit_events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert_eq!(actions, ["create", "update"]);
        assert_eq!(
            export["audit_events"][0]["changes"]["email"]["after"], "p***@acme.example",
            "personal values are masked in the log"
        );
    }
);
