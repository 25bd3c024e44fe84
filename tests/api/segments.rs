//! Segments (`/v1/segments`): saved filters over contacts or accounts, their
//! checks, versions and access. Members and exports: `segments_members.rs`.

use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A contact at `account` (if any) with `extra` fields and a unique email.
pub async fn person(app: &TestApp, account: Option<&str>, extra: Value) -> String {
    let email = format!("ana.{}@acme.example", uuid::Uuid::now_v7().simple());
    let mut body = merged(
        json!({"first_name": "Ana", "last_name": "Lima", "email": email}),
        extra,
    );
    if let Some(a) = account {
        body["account_id"] = json!(a);
    }
    id(&created(app, "/v1/contacts", body).await)
}

pub async fn organisation(app: &TestApp, extra: Value) -> String {
    id(&created(app, "/v1/accounts", merged(json!({"name": "Acme"}), extra)).await)
}

pub fn german_customers() -> Value {
    json!({"name": "German customers", "entity": "contacts",
           "filter": {"lifecycle_stage": "customer", "country": "DE"}})
}

/// The fields named in a problem's `errors`, sorted.
pub fn fields_of(problem: &Value) -> Vec<String> {
    let mut fields: Vec<String> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_string())
        .collect();
    fields.sort();
    fields
}

async fn send(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut request = app.request_as(token, method, path);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

db_test!(
    a_segment_is_created_read_updated_and_deleted_with_versions,
    |app| {
        person(
            &app,
            None,
            json!({"lifecycle_stage": "customer", "country": "DE"}),
        )
        .await;
        person(
            &app,
            None,
            json!({"lifecycle_stage": "lead", "country": "DE"}),
        )
        .await;
        let response = app.post("/v1/segments", &german_customers()).await;
        let location = header(&response, "location").unwrap();
        assert_eq!(header(&response, "etag").unwrap(), "\"1\"");
        let segment = json_of(response, StatusCode::CREATED).await;
        assert_eq!(location, format!("/v1/segments/{}", id(&segment)));
        assert_eq!(segment["name"], "German customers");
        assert_eq!(segment["entity"], "contacts");
        assert_eq!(
            segment["filter"],
            json!({"lifecycle_stage": "customer", "country": "DE"})
        );
        assert_eq!(segment["member_count"], 1);
        assert!(segment["counted_at"].is_string());
        assert_eq!(segment["created_by"], app.admin().await["id"]);

        let read = app.get(&location).await;
        assert_eq!(header(&read, "etag").unwrap(), "\"1\"");
        let read = json_of(read, StatusCode::OK).await;
        assert_eq!(read["member_count"], 1);
        // A patch based on a stale read is refused.
        let stale = app
            .request(Method::PATCH, &location)
            .header("if-match", "\"7\"")
            .json(&json!({"name": "Renamed"}))
            .send()
            .await
            .unwrap();
        problem(stale, StatusCode::PRECONDITION_FAILED).await;
        let renamed = app
            .request(Method::PATCH, &location)
            .header("if-match", "\"1\"")
            .header("content-type", "application/merge-patch+json")
            .body(json!({"name": " Renamed ", "filter": {"lifecycle_stage": null}}).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(header(&renamed, "etag").unwrap(), "\"2\"");
        let renamed = json_of(renamed, StatusCode::OK).await;
        assert_eq!(renamed["name"], "Renamed");
        assert_eq!(
            renamed["filter"],
            json!({"country": "DE"}),
            "a null member removes that filter"
        );
        assert_eq!(renamed["member_count"], 2);

        let listed = json_of(app.get("/v1/segments").await, StatusCode::OK).await;
        assert_eq!(listed["data"].as_array().unwrap().len(), 1);
        assert_eq!(
            listed["data"][0]["member_count"],
            Value::Null,
            "lists do not count"
        );
        let accounts = json_of(
            app.get("/v1/segments?entity=accounts").await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(accounts["data"], json!([]));

        let stale = app
            .request(Method::DELETE, &location)
            .header("if-match", "\"1\"")
            .send()
            .await
            .unwrap();
        problem(stale, StatusCode::PRECONDITION_FAILED).await;
        let deleted = app
            .request(Method::DELETE, &location)
            .header("if-match", "\"2\"")
            .send()
            .await
            .unwrap();
        assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
        problem(app.get(&location).await, StatusCode::NOT_FOUND).await;

        // Audited and told to integrators.
        let audit = json_of(
            app.get(&format!(
                "/v1/audit-events?entity_type=segment&entity_id={}",
                id(&segment)
            ))
            .await,
            StatusCode::OK,
        )
        .await;
        let actions: Vec<&str> = audit["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert_eq!(actions, ["create", "update", "delete"]);
        let (events, _) = crate::events::read_feed(
            &app,
            &app.admin_token,
            "segment.created,segment.updated,segment.deleted",
            3,
        )
        .await;
        let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(
            types,
            ["segment.created", "segment.updated", "segment.deleted"]
        );
    }
);

db_test!(
    a_filter_naming_an_unknown_field_or_holding_a_bad_value_is_a_422_naming_it,
    |app| {
        let refused = |body: Value| {
            let app = &app;
            async move {
                problem(
                    app.post("/v1/segments", &body).await,
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
        };
        let p = refused(json!({"name": "X", "entity": "contacts", "filter": {"nope": "x"}})).await;
        assert_eq!(fields_of(&p), ["filter.nope"]);
        assert_eq!(p["errors"][0]["code"], "unknown_filter");
        assert!(
            p["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("lifecycle_stage"),
            "{p}"
        );
        let p = refused(
            json!({"name": "X", "entity": "contacts", "filter": {"lifecycle_stage": "vip"}}),
        )
        .await;
        assert_eq!(fields_of(&p), ["filter.lifecycle_stage"]);
        assert!(p["detail"].as_str().unwrap().contains("vip"), "{p}");
        // Every bad member at once, paging parameters included.
        let p = refused(json!({"name": " ", "entity": "contacts", "filter": {
        "limit": 5, "owner_id": "not-a-uuid", "key_account": "maybe", "updated_since": "yesterday",
        "tag": ["a", "b"], "account_id": 12
    }}))
    .await;
        assert_eq!(
            fields_of(&p),
            [
                "filter.account_id",
                "filter.key_account",
                "filter.limit",
                "filter.owner_id",
                "filter.tag",
                "filter.updated_since",
                "name"
            ]
        );
        // A filter of the other entity's list is unknown here.
        let p = refused(
            json!({"name": "X", "entity": "contacts", "filter": {"revenue_currency": "EUR"}}),
        )
        .await;
        assert_eq!(fields_of(&p), ["filter.revenue_currency"]);
        // The list's own checks beyond the types apply too.
        let p = refused(
            json!({"name": "X", "entity": "accounts", "filter": {"revenue_currency": "EURO"}}),
        )
        .await;
        assert_eq!(fields_of(&p), ["filter.revenue_currency"]);
        let p = refused(json!({"name": "X", "entity": "people", "filter": {}})).await;
        assert_eq!(fields_of(&p), ["entity"]);
        // Not an object at all: the body's shape is wrong (400).
        problem(
            app.post(
                "/v1/segments",
                &json!({"name": "X", "entity": "contacts", "filter": "country=DE"}),
            )
            .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        problem(
            app.post(
                "/v1/segments",
                &json!({"name": "X", "entity": "contacts", "filter": {}, "sort": "name"}),
            )
            .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        // Strings, as in a query string, or JSON booleans and numbers: both read.
        for filter in [
            json!({"key_account": "true", "country": "DE"}),
            json!({"key_account": true, "tag": 2027}),
        ] {
            let body = json!({"name": "Key accounts", "entity": "accounts", "filter": filter});
            created(&app, "/v1/segments", body).await;
        }
        // Nothing was stored by the refusals.
        let listed = json_of(app.get("/v1/segments").await, StatusCode::OK).await;
        assert_eq!(listed["data"].as_array().unwrap().len(), 2);
    }
);

db_test!(
    a_create_retried_with_its_idempotency_key_creates_one_segment,
    |app| {
        let post = |body: Value| {
            app.request(Method::POST, "/v1/segments")
                .header("Idempotency-Key", "segment-create-1")
                .json(&body)
                .send()
        };
        let first = json_of(post(german_customers()).await.unwrap(), StatusCode::CREATED).await;
        let again = post(german_customers()).await.unwrap();
        assert_eq!(
            header(&again, "idempotent-replayed").as_deref(),
            Some("true")
        );
        assert_eq!(id(&json_of(again, StatusCode::CREATED).await), id(&first));
        let other = merged(german_customers(), json!({"name": "Other"}));
        problem(post(other).await.unwrap(), StatusCode::UNPROCESSABLE_ENTITY).await;
        let listed = json_of(app.get("/v1/segments").await, StatusCode::OK).await;
        assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    }
);

db_test!(
    an_update_is_checked_like_a_create_and_the_entity_stays,
    |app| {
        let segment = created(&app, "/v1/segments", german_customers()).await;
        let path = format!("/v1/segments/{}", id(&segment));
        let p = problem(
            app.patch(
                &path,
                &json!({"filter": {"lifecycle_stage": "vip", "nope": true}}),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(fields_of(&p), ["filter.lifecycle_stage", "filter.nope"]);
        let p = problem(
            app.patch(&path, &json!({"entity": "accounts"})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(fields_of(&p), ["entity"]);
        assert_eq!(p["errors"][0]["code"], "immutable");
        json_of(
            app.patch(&path, &json!({"entity": "contacts"})).await,
            StatusCode::OK,
        )
        .await;
        problem(
            app.patch(&path, &json!({"filter": null})).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        problem(
            app.patch(&path, &json!({"name": null})).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        let unchanged = json_of(app.get(&path).await, StatusCode::OK).await;
        assert_eq!(unchanged["filter"], german_customers()["filter"]);
    }
);

db_test!(
    roles_and_scopes_reach_segments_as_other_areas_and_members_need_their_entity,
    |app| {
        let viewer = app.token_for("viewer").await;
        let agent = app.token_for("agent").await;
        let manager = app.token_for("manager").await;
        let body = german_customers();
        problem(
            send(
                &app,
                &viewer,
                Method::POST,
                "/v1/segments",
                Some(body.clone()),
            )
            .await,
            StatusCode::FORBIDDEN,
        )
        .await;
        let mine = json_of(
            send(
                &app,
                &agent,
                Method::POST,
                "/v1/segments",
                Some(body.clone()),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let path = format!("/v1/segments/{}", id(&mine));
        json_of(
            send(&app, &viewer, Method::GET, &path, None).await,
            StatusCode::OK,
        )
        .await;
        json_of(
            send(&app, &viewer, Method::GET, &format!("{path}/members"), None).await,
            StatusCode::OK,
        )
        .await;
        json_of(
            send(
                &app,
                &agent,
                Method::PATCH,
                &path,
                Some(json!({"name": "Mine"})),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        problem(
            send(&app, &agent, Method::DELETE, &path, None).await,
            StatusCode::FORBIDDEN,
        )
        .await;

        // An API key with segments:read alone sees the segment, uncounted, and not its members.
        let segments_only = app.api_key(&["segments:read"]).await;
        let seen = json_of(
            send(&app, &segments_only, Method::GET, &path, None).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(seen["member_count"], Value::Null);
        assert_eq!(seen["counted_at"], Value::Null);
        for tail in ["/members", "/export"] {
            let p = problem(
                send(
                    &app,
                    &segments_only,
                    Method::GET,
                    &format!("{path}{tail}"),
                    None,
                )
                .await,
                StatusCode::FORBIDDEN,
            )
            .await;
            assert!(
                p["detail"].as_str().unwrap().contains("contacts:read"),
                "{p}"
            );
        }
        // The wrong entity's scope is not enough.
        let accounts_too = app.api_key(&["segments:read", "accounts:read"]).await;
        problem(
            send(
                &app,
                &accounts_too,
                Method::GET,
                &format!("{path}/members"),
                None,
            )
            .await,
            StatusCode::FORBIDDEN,
        )
        .await;
        let both = app.api_key(&["segments:read", "contacts:read"]).await;
        let counted = json_of(
            send(&app, &both, Method::GET, &path, None).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(counted["member_count"], 0);
        json_of(
            send(&app, &both, Method::GET, &format!("{path}/members"), None).await,
            StatusCode::OK,
        )
        .await;
        let export = send(&app, &both, Method::GET, &format!("{path}/export"), None).await;
        assert_eq!(export.status(), StatusCode::OK);
        // contacts:read alone does not open segments; segments:write does not delete.
        let contacts_only = app.api_key(&["contacts:read"]).await;
        problem(
            send(&app, &contacts_only, Method::GET, &path, None).await,
            StatusCode::FORBIDDEN,
        )
        .await;
        let writer = app.api_key(&["segments:write"]).await;
        problem(
            send(&app, &writer, Method::DELETE, &path, None).await,
            StatusCode::FORBIDDEN,
        )
        .await;
        let deleted = send(&app, &manager, Method::DELETE, &path, None).await;
        assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    }
);
