//! One PATCH for every resource (JSON merge patch, RFC 7396): an absent
//! member keeps the field, `null` clears an optional one, `null` for a field
//! that cannot be cleared is a 400 naming it, and the result is checked as a
//! create would be.

use crate::common::records::*;
use crate::common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// PATCHes `path` with `body` and expects a 400 naming exactly `fields`.
async fn refused_nulls(app: &TestApp, path: &str, body: Value, fields: &[&str]) {
    let problem = problem(app.patch(path, &body).await, StatusCode::BAD_REQUEST).await;
    let named: Vec<&str> = problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(named, fields, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("cannot be null")
    );
}

db_test!(
    a_null_for_a_field_that_cannot_be_cleared_is_a_400_naming_it,
    |app| {
        let account = account(&app, "Acme").await;
        refused_nulls(
            &app,
            &format!("/v1/accounts/{account}"),
            json!({"name": null}),
            &["name"],
        )
        .await;
        let channel = channel(&app, "email", "Inbox").await;
        refused_nulls(
            &app,
            &format!("/v1/channels/{channel}"),
            json!({"kind": null, "name": null, "active": null}),
            &["active", "kind", "name"],
        )
        .await;
        let user = app.create_user("agent").await;
        refused_nulls(
            &app,
            &format!("/v1/users/{}", id(&user)),
            json!({"role": null, "email": null}),
            &["email", "role"],
        )
        .await;
        let reward = created(
            &app,
            "/v1/loyalty/rewards",
            json!({"name": "Mug", "cost_points": 10}),
        )
        .await;
        refused_nulls(
            &app,
            &format!("/v1/loyalty/rewards/{}", id(&reward)),
            json!({"cost_points": null}),
            &["cost_points"],
        )
        .await;
        let interaction = logged(&app, &channel, json!({"account_id": account})).await;
        refused_nulls(
            &app,
            &format!("/v1/interactions/{}", id(&interaction)),
            json!({"channel_id": null, "occurred_at": null}),
            &["channel_id", "occurred_at"],
        )
        .await;
        // Nothing was changed by the refused patches.
        let fetched = json_of(
            app.get(&format!("/v1/channels/{channel}")).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(fetched["name"], "Inbox");
        assert_eq!(fetched["version"], 1);
    }
);

db_test!(
    absent_keeps_null_clears_and_objects_merge_key_by_key,
    |app| {
        let contact = created(
            &app,
            "/v1/contacts",
            json!({"first_name": "Mei", "title": "Analyst", "phone": "+49 30 1234567",
               "custom_fields": {"erp_id": "C-1", "tier": "gold"}}),
        )
        .await;
        let path = format!("/v1/contacts/{}", id(&contact));
        let patched = json_of(
            app.patch(
                &path,
                &json!({"title": null, "custom_fields": {"tier": null, "region": "EMEA"}}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(patched["title"], Value::Null);
        assert_eq!(patched["phone"], contact["phone"]);
        assert_eq!(
            patched["custom_fields"],
            json!({"erp_id": "C-1", "region": "EMEA"})
        );
        let reward = created(
            &app,
            "/v1/loyalty/rewards",
            json!({"name": "Mug", "cost_points": 10, "stock": 3}),
        )
        .await;
        let unlimited = json_of(
            app.patch(
                &format!("/v1/loyalty/rewards/{}", id(&reward)),
                &json!({"stock": null}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(unlimited["stock"], Value::Null);
        assert_eq!(unlimited["cost_points"], 10);
    }
);

db_test!(a_patched_resource_is_checked_as_a_create, |app| {
    let contact = created(&app, "/v1/contacts", json!({"first_name": "Mei"})).await;
    let path = format!("/v1/contacts/{}", id(&contact));
    // Clearing the only name left breaks the create's rule.
    problem(
        app.patch(&path, &json!({"first_name": null})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let channel = channel(&app, "email", "Inbox").await;
    let problem = problem(
        app.patch(
            &format!("/v1/channels/{channel}"),
            &json!({"kind": "pigeon", "name": " "}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["kind", "name"]);
    let reward = created(
        &app,
        "/v1/loyalty/rewards",
        json!({"name": "Mug", "cost_points": 10}),
    )
    .await;
    blank_name_and_zero_cost_are_both_reported(&app, &id(&reward)).await;
});

async fn blank_name_and_zero_cost_are_both_reported(app: &TestApp, reward: &str) {
    let body = problem(
        app.patch(
            &format!("/v1/loyalty/rewards/{reward}"),
            &json!({"name": "  ", "cost_points": 0}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["errors"].as_array().unwrap().len(), 2, "{body}");
}
