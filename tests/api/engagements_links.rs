//! Engagements: the people on them, what belongs to them (interactions,
//! feedback, transactions), who may see them, and their events.

use crate::common::records::*;
use crate::common::*;
use crate::engagements::{engagement, fields_of, patch_status};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

db_test!(
    the_people_on_an_engagement_are_contacts_of_its_account,
    |app| {
        let acme = account(&app, "Acme").await;
        let other = account(&app, "Other").await;
        let sponsor = contact(&app, Some(&acme)).await;
        let user = contact(&app, Some(&acme)).await;
        let stranger = contact(&app, Some(&other)).await;
        let item = engagement(&app, &acme, json!({})).await;
        let path = format!("/v1/engagements/{}/contacts", id(&item));
        let put = |body: Value| {
            let app = &app;
            let path = path.clone();
            async move {
                app.request(Method::PUT, &path)
                    .json(&body)
                    .send()
                    .await
                    .unwrap()
            }
        };
        let response = put(json!({"contacts": [{"contact_id": sponsor, "role": "sponsor"}, {"contact_id": user, "role": "end_user"}]})).await;
        assert_eq!(header(&response, "etag").unwrap(), "\"2\"");
        let people = json_of(response, StatusCode::OK).await;
        assert_eq!(people["contacts"].as_array().unwrap().len(), 2);
        let first_added = people["contacts"][0]["added_at"].clone();
        let body = problem(
        put(json!({"contacts": [{"contact_id": stranger, "role": "sponsor"}, {"contact_id": sponsor, "role": "boss"},
                                {"contact_id": user, "role": "end_user"}, {"contact_id": user, "role": "sponsor"}]})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
        assert_eq!(
            fields_of(&body),
            ["contacts[1].role", "contacts[3].contact_id"]
        );
        let body = problem(
            put(json!({"contacts": [{"contact_id": stranger, "role": "sponsor"}]})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(body["errors"][0]["code"], "other_account");
        let kept = json_of(
            put(json!({"contacts": [{"contact_id": sponsor, "role": "sponsor"}]})).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(kept["contacts"][0]["added_at"], first_added);
        let read = json_of(app.get(&path).await, StatusCode::OK).await;
        assert_eq!(read, kept);
        assert_eq!(
            json_of(
                app.get(&format!("/v1/engagements/{}", id(&item))).await,
                StatusCode::OK
            )
            .await["version"],
            3
        );
    }
);

db_test!(
    merging_and_exporting_a_contact_carry_their_engagement_roles,
    |app| {
        let acme = account(&app, "Acme").await;
        let survivor = contact(&app, Some(&acme)).await;
        let duplicate = contact(&app, Some(&acme)).await;
        let both = engagement(&app, &acme, json!({"name": "Both"})).await;
        let only_duplicate = engagement(&app, &acme, json!({"name": "Duplicate's"})).await;
        for (item, people) in [
            (
                &both,
                json!([{"contact_id": survivor, "role": "sponsor"}, {"contact_id": duplicate, "role": "end_user"}]),
            ),
            (
                &only_duplicate,
                json!([{"contact_id": duplicate, "role": "decision_maker"}]),
            ),
        ] {
            let response = app
                .request(
                    Method::PUT,
                    &format!("/v1/engagements/{}/contacts", id(item)),
                )
                .json(&json!({"contacts": people}))
                .send()
                .await
                .unwrap();
            json_of(response, StatusCode::OK).await;
        }
        json_of(
            app.post(
                &format!("/v1/contacts/{survivor}/merge"),
                &json!({"duplicate_id": duplicate}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        let people = |item: &Value| {
            let app = &app;
            let path = format!("/v1/engagements/{}/contacts", id(item));
            async move { json_of(app.get(&path).await, StatusCode::OK).await["contacts"].clone() }
        };
        let on_both = people(&both).await;
        assert_eq!(on_both.as_array().unwrap().len(), 1);
        assert_eq!(on_both[0]["role"], "sponsor");
        assert_eq!(
            people(&only_duplicate).await[0]["contact_id"],
            survivor.as_str()
        );
        let export = json_of(
            app.get(&format!("/v1/contacts/{survivor}/export")).await,
            StatusCode::OK,
        )
        .await;
        let roles = export["engagement_roles"].as_array().unwrap();
        assert_eq!(roles.len(), 2);
    }
);

db_test!(only_an_engagement_nothing_refers_to_can_be_deleted, |app| {
    let acme = account(&app, "Acme").await;
    let item = engagement(&app, &acme, json!({})).await;
    let path = format!("/v1/engagements/{}", id(&item));
    let agent = app.token_for("agent").await;
    problem(
        app.request_as(&agent, Method::DELETE, &path)
            .send()
            .await
            .unwrap(),
        StatusCode::FORBIDDEN,
    )
    .await;
    created(&app, "/v1/transactions", json!({"kind": "purchase", "account_id": acme, "engagement_id": id(&item), "amount": 100, "currency": "EUR"})).await;
    let refused = problem(app.delete(&path).await, StatusCode::CONFLICT).await;
    assert!(
        refused["detail"]
            .as_str()
            .unwrap()
            .contains("1 transaction"),
        "{refused}"
    );
    let spare = engagement(&app, &acme, json!({})).await;
    let spare_path = format!("/v1/engagements/{}", id(&spare));
    assert_eq!(
        app.delete(&spare_path).await.status(),
        StatusCode::NO_CONTENT
    );
    problem(app.get(&spare_path).await, StatusCode::NOT_FOUND).await;
    // The acme keeps its history: it cannot be deleted while it has engagements.
    let refused = problem(
        app.delete(&format!("/v1/accounts/{acme}")).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(refused["engagement_count"], 1);
});

db_test!(
    roles_and_scopes_decide_who_reads_and_writes_engagements,
    |app| {
        let acme = account(&app, "Acme").await;
        let item = engagement(&app, &acme, json!({})).await;
        let viewer = app.token_for("viewer").await;
        json_of(
            app.request_as(&viewer, Method::GET, "/v1/engagements")
                .send()
                .await
                .unwrap(),
            StatusCode::OK,
        )
        .await;
        let body = json!({"account_id": acme, "name": "X"});
        problem(
            app.request_as(&viewer, Method::POST, "/v1/engagements")
                .json(&body)
                .send()
                .await
                .unwrap(),
            StatusCode::FORBIDDEN,
        )
        .await;
        let reader = app.api_key(&["engagements:read"]).await;
        json_of(
            app.request_as(
                &reader,
                Method::GET,
                &format!("/v1/engagements/{}", id(&item)),
            )
            .send()
            .await
            .unwrap(),
            StatusCode::OK,
        )
        .await;
        problem(
            app.request_as(&reader, Method::POST, "/v1/engagements")
                .json(&body)
                .send()
                .await
                .unwrap(),
            StatusCode::FORBIDDEN,
        )
        .await;
        let other_area = app.api_key(&["accounts:manage"]).await;
        problem(
            app.request_as(&other_area, Method::GET, "/v1/engagements")
                .send()
                .await
                .unwrap(),
            StatusCode::FORBIDDEN,
        )
        .await;
        // An acme reader sees no engagement entries in the account's timeline.
        let accounts_only = app.api_key(&["accounts:read"]).await;
        let timeline = json_of(
            app.request_as(
                &accounts_only,
                Method::GET,
                &format!("/v1/accounts/{acme}/timeline"),
            )
            .send()
            .await
            .unwrap(),
            StatusCode::OK,
        )
        .await;
        assert!(timeline["data"].as_array().unwrap().is_empty());
        let writer = app.api_key(&["engagements:write"]).await;
        json_of(
            app.request_as(&writer, Method::POST, "/v1/engagements")
                .json(&body)
                .send()
                .await
                .unwrap(),
            StatusCode::CREATED,
        )
        .await;
    }
);

db_test!(engagement_changes_are_events, |app| {
    let acme = account(&app, "Acme").await;
    let item = engagement(&app, &acme, json!({})).await;
    json_of(patch_status(&app, &item, "active").await, StatusCode::OK).await;
    let key = app.api_key(&["engagements:read"]).await;
    let (events, _) = crate::events::read_feed(
        &app,
        &key,
        "engagement.created,engagement.status_changed",
        2,
    )
    .await;
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["engagement.created", "engagement.status_changed"]);
    assert_eq!(events[1]["data"]["status"], "active");
    assert_eq!(events[1]["data"]["previous_status"], "proposed");
});

db_test!(
    interactions_and_feedback_can_belong_to_an_engagement_of_their_account,
    |app| {
        let acme = account(&app, "Acme").await;
        let other = account(&app, "Other").await;
        let person = contact(&app, Some(&acme)).await;
        let phone = channel(&app, "phone", "Hotline").await;
        let study = engagement(&app, &acme, json!({"name": "Study"})).await;
        let theirs = engagement(&app, &other, json!({"name": "Theirs"})).await;
        let call = logged(
            &app,
            &phone,
            json!({"contact_id": person, "engagement_id": id(&study)}),
        )
        .await;
        assert_eq!(call["engagement_id"], study["id"]);
        let body = problem(
            log(
                &app,
                &phone,
                json!({"contact_id": person, "engagement_id": id(&theirs)}),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(body["errors"][0]["code"], "other_account");
        let survey = created(
            &app,
            "/v1/feedback",
            json!({"kind": "survey", "nps": 9, "contact_id": person, "engagement_id": id(&study)}),
        )
        .await;
        assert_eq!(survey["engagement_id"], study["id"]);
        problem(
            app.patch(
                &format!("/v1/feedback/{}", id(&survey)),
                &json!({"engagement_id": id(&theirs)}),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        let cleared = json_of(
            app.patch(
                &format!("/v1/interactions/{}", id(&call)),
                &json!({"engagement_id": null}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(cleared["engagement_id"], Value::Null);
        json_of(
            app.patch(
                &format!("/v1/interactions/{}", id(&call)),
                &json!({"engagement_id": id(&study)}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        let listed = json_of(
            app.get(&format!("/v1/interactions?engagement_id={}", id(&study)))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(listed["data"].as_array().unwrap().len(), 1);
        let listed = json_of(
            app.get(&format!("/v1/feedback?engagement_id={}", id(&study)))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(listed["data"][0]["id"], survey["id"]);
        let timeline = json_of(
            app.get(&format!("/v1/engagements/{}/timeline", id(&study)))
                .await,
            StatusCode::OK,
        )
        .await;
        let kinds: Vec<&str> = timeline["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["kind"].as_str().unwrap())
            .collect();
        assert!(
            kinds.contains(&"interaction")
                && kinds.contains(&"feedback")
                && kinds.contains(&"engagement"),
            "{kinds:?}"
        );
        problem(
            app.delete(&format!("/v1/engagements/{}", id(&study))).await,
            StatusCode::CONFLICT,
        )
        .await;
    }
);

db_test!(
    the_customer_record_shows_when_they_were_last_in_touch,
    |app| {
        let acme = account(&app, "Acme").await;
        let person = contact(&app, Some(&acme)).await;
        let phone = channel(&app, "phone", "Hotline").await;
        let earlier = app.hours_ago(30.0);
        let later = app.hours_ago(3.0);
        logged(
            &app,
            &phone,
            json!({"contact_id": person, "occurred_at": earlier}),
        )
        .await;
        let last = logged(
            &app,
            &phone,
            json!({"contact_id": person, "occurred_at": later}),
        )
        .await;
        let when = |path: String| {
            let app = &app;
            async move {
                json_of(app.get(&path).await, StatusCode::OK).await["last_interaction_at"].clone()
            }
        };
        assert_eq!(
            when(format!("/v1/contacts/{person}")).await,
            last["occurred_at"]
        );
        assert_eq!(
            when(format!("/v1/accounts/{acme}")).await,
            last["occurred_at"]
        );
        assert_eq!(
            app.delete(&format!("/v1/interactions/{}", id(&last)))
                .await
                .status(),
            StatusCode::NO_CONTENT
        );
        let now_last = when(format!("/v1/accounts/{acme}")).await;
        assert_eq!(now_last.as_str().unwrap()[..19], earlier[..19]);
        let cutoff = app.hours_ago(10.0);
        let quiet = json_of(
            app.get(&format!("/v1/accounts?last_interaction_before={cutoff}"))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(quiet["data"][0]["id"], acme.as_str());
    }
);
