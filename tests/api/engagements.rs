//! Engagements (`/v1/engagements`): the work for a client, its statuses,
//! the people on it and its timeline.

use crate::common::records::*;
use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A new engagement for `account`, with `extra` fields.
pub async fn engagement(app: &TestApp, account: &str, extra: Value) -> Value {
    let body = merged(
        json!({"account_id": account, "name": "Brand tracker"}),
        extra,
    );
    created(app, "/v1/engagements", body).await
}

pub async fn patch_status(app: &TestApp, item: &Value, status: &str) -> reqwest::Response {
    app.patch(
        &format!("/v1/engagements/{}", id(item)),
        &json!({"status": status}),
    )
    .await
}

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

db_test!(
    an_engagement_is_created_with_location_etag_and_defaults,
    |app| {
        let acme = account(&app, "Acme").await;
        let response = app
        .post(
            "/v1/engagements",
            &json!({"account_id": acme, "name": " 2027 brand tracker ", "service_line": "market research",
                    "started_on": "2027-01-15", "value": 4800000, "currency": "eur", "external_id": "PSA-1",
                    "tags": ["Tracker"]}),
        )
        .await;
        let location = header(&response, "location").unwrap();
        assert_eq!(header(&response, "etag").unwrap(), "\"1\"");
        let created = json_of(response, StatusCode::CREATED).await;
        assert_eq!(location, format!("/v1/engagements/{}", id(&created)));
        assert_eq!(created["name"], "2027 brand tracker");
        assert_eq!(created["status"], "proposed");
        assert_eq!(created["currency"], "EUR");
        assert_eq!(created["started_on"], "2027-01-15");
        assert_eq!(created["ended_on"], Value::Null);
        assert_eq!(created["tags"], json!(["tracker"]));
        assert_eq!(
            json_of(app.get(&location).await, StatusCode::OK).await,
            created
        );
    }
);

db_test!(every_invalid_engagement_field_is_reported_at_once, |app| {
    let acme = account(&app, "Acme").await;
    let body = problem(
        app.post(
            "/v1/engagements",
            &json!({"account_id": acme, "name": "  ", "status": "won", "value": -1, "started_on": "2027-02-01",
                    "ended_on": "2027-01-01", "currency": "EURO"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        fields_of(&body),
        ["currency", "ended_on", "name", "status", "value"]
    );
    let body = problem(
        app.post(
            "/v1/engagements",
            &json!({"account_id": uuid::Uuid::now_v7(), "name": "X", "owner_id": uuid::Uuid::now_v7()}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(fields_of(&body), ["account_id", "owner_id"]);
    let body = problem(
        app.post(
            "/v1/engagements",
            &json!({"account_id": acme, "name": "X", "value": 5}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(fields_of(&body), ["currency"]);
});

db_test!(
    status_moves_follow_the_lifecycle_and_an_illegal_one_lists_the_allowed,
    |app| {
        let acme = account(&app, "Acme").await;
        let item = engagement(&app, &acme, json!({})).await;
        let active = json_of(patch_status(&app, &item, "active").await, StatusCode::OK).await;
        assert_eq!(active["status"], "active");
        assert_eq!(active["version"], 2);
        let refused = problem(
            patch_status(&app, &item, "closed").await,
            StatusCode::CONFLICT,
        )
        .await;
        assert_eq!(refused["current_status"], "active");
        assert_eq!(refused["allowed"], json!(["on_hold", "delivered", "lost"]));
        for status in ["on_hold", "active", "delivered", "closed"] {
            json_of(patch_status(&app, &item, status).await, StatusCode::OK).await;
        }
        let final_ = problem(
            patch_status(&app, &item, "active").await,
            StatusCode::CONFLICT,
        )
        .await;
        assert_eq!(final_["allowed"], json!([]));
        // Any status to start with: an engagement imported from a PSA system may be long closed.
        let imported = engagement(&app, &acme, json!({"status": "closed"})).await;
        assert_eq!(imported["status"], "closed");
    }
);

db_test!(
    status_changes_appear_in_the_account_and_engagement_timelines,
    |app| {
        let acme = account(&app, "Acme").await;
        let item = engagement(&app, &acme, json!({"name": "Pricing study"})).await;
        json_of(patch_status(&app, &item, "active").await, StatusCode::OK).await;
        let timeline = json_of(
            app.get(&format!("/v1/accounts/{acme}/timeline?kind=engagement"))
                .await,
            StatusCode::OK,
        )
        .await;
        let items = timeline["data"].as_array().unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0]["type"], "active");
        assert_eq!(items[0]["summary"], "Pricing study: proposed → active");
        assert_eq!(items[1]["summary"], "Pricing study: created as proposed");
        assert_eq!(items[0]["engagement_id"], item["id"]);
        assert_eq!(items[0]["link"], format!("/v1/engagements/{}", id(&item)));
        let own = json_of(
            app.get(&format!("/v1/engagements/{}/timeline", id(&item)))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(own["data"].as_array().unwrap().len(), 2);
        // A contact's timeline shows the engagements they are on, and only those.
        let person = contact(&app, Some(&acme)).await;
        let bystander = contact(&app, Some(&acme)).await;
        let response = app
            .request(
                Method::PUT,
                &format!("/v1/engagements/{}/contacts", id(&item)),
            )
            .json(&json!({"contacts": [{"contact_id": person, "role": "sponsor"}]}))
            .send()
            .await
            .unwrap();
        json_of(response, StatusCode::OK).await;
        let theirs = json_of(
            app.get(&format!("/v1/contacts/{person}/timeline")).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(theirs["data"].as_array().unwrap().len(), 2);
        assert_eq!(
            theirs["data"][0]["summary"],
            "Pricing study: proposed → active"
        );
        let not_theirs = json_of(
            app.get(&format!("/v1/contacts/{bystander}/timeline")).await,
            StatusCode::OK,
        )
        .await;
        assert!(not_theirs["data"].as_array().unwrap().is_empty());
        // The account's timeline holds each change once, however many people are on it.
        let timeline = json_of(
            app.get(&format!("/v1/accounts/{acme}/timeline?kind=engagement"))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(timeline["data"].as_array().unwrap().len(), 2);
        problem(
            app.get(&format!(
                "/v1/engagements/{}/timeline",
                uuid::Uuid::now_v7()
            ))
            .await,
            StatusCode::NOT_FOUND,
        )
        .await;
    }
);

db_test!(external_ids_are_unique_among_engagements, |app| {
    let acme = account(&app, "Acme").await;
    let first = engagement(&app, &acme, json!({"external_id": "PSA-7"})).await;
    let body = problem(
        app.post(
            "/v1/engagements",
            &json!({"account_id": acme, "name": "Other", "external_id": "PSA-7"}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(body["engagement_id"], first["id"]);
    let second = engagement(&app, &acme, json!({"external_id": "PSA-8"})).await;
    problem(
        app.patch(
            &format!("/v1/engagements/{}", id(&second)),
            &json!({"external_id": "PSA-7"}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    // Keeping its own id is no conflict.
    json_of(
        app.patch(
            &format!("/v1/engagements/{}", id(&first)),
            &json!({"external_id": "PSA-7", "name": "Renamed"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
});

db_test!(
    a_patch_merges_honours_if_match_and_cannot_move_the_account,
    |app| {
        let acme = account(&app, "Acme").await;
        let item = engagement(
            &app,
            &acme,
            json!({"custom_fields": {"a": 1, "b": 2}, "value": 10, "currency": "EUR"}),
        )
        .await;
        let path = format!("/v1/engagements/{}", id(&item));
        let changed = json_of(
            app.patch(
                &path,
                &json!({"custom_fields": {"b": null, "c": 3}, "value": null, "currency": null}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(changed["custom_fields"], json!({"a": 1, "c": 3}));
        assert_eq!(changed["value"], Value::Null);
        let stale = app
            .request(Method::PATCH, &path)
            .header("if-match", "\"1\"")
            .json(&json!({"name": "Late"}))
            .send()
            .await
            .unwrap();
        problem(stale, StatusCode::PRECONDITION_FAILED).await;
        let other = account(&app, "Other").await;
        problem(
            app.patch(&path, &json!({"account_id": other})).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        problem(
            app.patch(&path, &json!({"name": null})).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
);

db_test!(lists_filter_and_sort_with_missing_values_last, |app| {
    let acme = account(&app, "Acme").await;
    let other = account(&app, "Other").await;
    let early = engagement(&app, &acme, json!({"started_on": "2027-01-01", "service_line": "Strategy", "value": 5, "currency": "EUR"})).await;
    let late = engagement(
        &app,
        &acme,
        json!({"started_on": "2027-06-01", "status": "active", "value": 9, "currency": "EUR"}),
    )
    .await;
    let undated = engagement(&app, &acme, json!({})).await;
    let elsewhere = engagement(&app, &other, json!({"started_on": "2027-03-01"})).await;
    let ids =
        |page: &Value| -> Vec<String> { page["data"].as_array().unwrap().iter().map(id).collect() };
    let page = json_of(
        app.get(&format!(
            "/v1/engagements?account_id={acme}&sort=started_on"
        ))
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ids(&page), [id(&early), id(&late), id(&undated)]);
    let page = json_of(app.get("/v1/engagements?sort=-value").await, StatusCode::OK).await;
    assert_eq!(ids(&page)[..2], [id(&late), id(&early)]);
    let page = json_of(
        app.get("/v1/engagements?service_line=strategy").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ids(&page), [id(&early)]);
    let page = json_of(
        app.get("/v1/engagements?status=active&include_total=true")
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ids(&page), [id(&late)]);
    assert_eq!(page["total"], 1);
    let page = json_of(
        app.get("/v1/engagements?started_from=2027-02-01&started_to=2027-05-31")
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ids(&page), [id(&elsewhere)]);
    // Paging one at a time crosses from dated to undated rows without losing any.
    let mut seen = Vec::new();
    let mut path = format!("/v1/engagements?account_id={acme}&sort=-started_on&limit=1");
    loop {
        let page = json_of(app.get(&path).await, StatusCode::OK).await;
        seen.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(c) => {
                path =
                    format!("/v1/engagements?account_id={acme}&sort=-started_on&limit=1&cursor={c}")
            }
            None => break,
        }
    }
    assert_eq!(seen, [id(&late), id(&early), id(&undated)]);
    problem(
        app.get("/v1/engagements?status=won").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    problem(
        app.get("/v1/engagements?sort=name").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
});
