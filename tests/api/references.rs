//! One reference checker: every bad id a request points at is reported in one
//! 422, each naming its field, whatever the resource.

use crate::common::records::*;
use crate::common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn fields(problem: &Value) -> Vec<(String, String)> {
    problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().into(),
                e["code"].as_str().unwrap().into(),
            )
        })
        .collect()
}

fn pair(field: &str, code: &str) -> (String, String) {
    (field.into(), code.into())
}

db_test!(every_bad_reference_of_a_request_is_named_at_once, |app| {
    let nobody = uuid::Uuid::now_v7();
    let contact = problem(
        app.post(
            "/v1/contacts",
            &json!({"first_name": "Mei", "account_id": nobody, "owner_id": nobody}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        fields(&contact),
        [
            pair("account_id", "not_found"),
            pair("owner_id", "not_found")
        ]
    );
    let feedback = problem(
        app.post(
            "/v1/feedback",
            &json!({"kind": "complaint", "text": "Late", "contact_id": nobody, "account_id": nobody,
                    "channel_id": nobody, "assignee_id": nobody}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        fields(&feedback),
        [
            pair("account_id", "not_found"),
            pair("assignee_id", "not_found"),
            pair("channel_id", "not_found"),
            pair("contact_id", "not_found"),
        ]
    );
    let interaction = problem(
        app.post(
            "/v1/interactions",
            &json!({"channel_id": nobody, "contact_id": nobody, "handled_by": nobody,
                    "direction": "inbound", "type": "call", "purpose": "service"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        fields(&interaction),
        [
            pair("channel_id", "not_found"),
            pair("contact_id", "not_found"),
            pair("handled_by", "not_found"),
        ]
    );
});

db_test!(
    a_deactivated_channel_or_user_is_refused_where_it_must_be_active,
    |app| {
        let channel = channel(&app, "email", "Old inbox").await;
        let user = app.create_user("agent").await;
        json_of(
            app.patch(
                &format!("/v1/channels/{channel}"),
                &json!({"active": false}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        json_of(
            app.patch(
                &format!("/v1/users/{}", id(&user)),
                &json!({"active": false}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        let account = account(&app, "Acme").await;
        let refused = problem(
            app.post(
                "/v1/feedback",
                &json!({"kind": "complaint", "text": "Late", "account_id": account,
                    "channel_id": channel, "assignee_id": id(&user)}),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(
            fields(&refused),
            [
                pair("assignee_id", "not_found"),
                pair("channel_id", "inactive")
            ]
        );
        // An owner need not be active: a deactivated user still owns their accounts.
        created(
            &app,
            "/v1/accounts",
            json!({"name": "Beta", "owner_id": id(&user)}),
        )
        .await;
    }
);
