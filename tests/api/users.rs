//! Staff users: admin-only management, the last-admin rule, validation and
//! optimistic concurrency.

use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn sign_in_status(app: &TestApp, email: &str, password: &str) -> StatusCode {
    app.client
        .post(app.url("/v1/auth/token"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
        .status()
}

// ---- Roles ----

db_test!(only_admins_reach_users_and_api_keys, |app| {
    let target = app.create_user("agent").await;
    let user_path = format!("/v1/users/{}", id(&target));
    for role in ["viewer", "agent", "manager"] {
        let token = app.token_for(role).await;
        for (method, path) in [
            (Method::GET, "/v1/users"),
            (Method::GET, user_path.as_str()),
            (Method::DELETE, user_path.as_str()),
            (Method::GET, "/v1/api-keys"),
        ] {
            let response = app
                .request_as(&token, method.clone(), path)
                .send()
                .await
                .unwrap();
            let body = problem(response, StatusCode::FORBIDDEN).await;
            assert!(
                body["detail"].as_str().unwrap().contains(role),
                "{role} {method} {path}: {body}"
            );
        }
        let create = app
            .request_as(&token, Method::POST, "/v1/users")
            .json(&new_user(&format!("by-{role}@rapport.test"), "admin"))
            .send()
            .await
            .unwrap();
        problem(create, StatusCode::FORBIDDEN).await;
        let patch = app
            .request_as(&token, Method::PATCH, &user_path)
            .json(&json!({"role": "admin"}))
            .send()
            .await
            .unwrap();
        problem(patch, StatusCode::FORBIDDEN).await;
        let key = app
            .request_as(&token, Method::POST, "/v1/api-keys")
            .json(&json!({"name": "mine", "scopes": ["contacts:read"]}))
            .send()
            .await
            .unwrap();
        problem(key, StatusCode::FORBIDDEN).await;
    }
    // Nothing the others tried took effect.
    let target = json_of(app.get(&user_path).await, StatusCode::OK).await;
    assert_eq!(target["role"], "agent");
    let keys = json_of(app.get("/v1/api-keys").await, StatusCode::OK).await;
    assert_eq!(keys["data"].as_array().unwrap().len(), 0);
});

db_test!(admins_list_users_and_api_keys, |app| {
    let users = json_of(app.get("/v1/users").await, StatusCode::OK).await;
    assert!(
        users["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["email"] == ADMIN_EMAIL),
        "{users}"
    );
    assert!(users.get("next_cursor").is_some(), "{users}");
    let keys = json_of(app.get("/v1/api-keys").await, StatusCode::OK).await;
    assert!(keys["data"].is_array(), "{keys}");
});

// ---- Users ----

db_test!(creating_a_user_answers_201_with_location_and_etag, |app| {
    let response = app
        .post("/v1/users", &new_user("li.wei@rapport.test", "agent"))
        .await;
    let location = header(&response, "location").expect("Location");
    let etag = header(&response, "etag").expect("ETag");
    let user = json_of(response, StatusCode::CREATED).await;
    assert_eq!(location, format!("/v1/users/{}", id(&user)));
    assert_eq!(etag, format!("\"{}\"", user["version"]));
    assert_eq!(user["email"], "li.wei@rapport.test");
    assert_eq!(user["role"], "agent");
    assert_eq!(user["active"], true);
    assert!(
        user.get("password").is_none() && user.get("password_hash").is_none(),
        "{user}"
    );

    let response = app.get(&location).await;
    assert_eq!(header(&response, "etag").as_deref(), Some(etag.as_str()));
    assert_eq!(json_of(response, StatusCode::OK).await, user);
    app.token_pair("li.wei@rapport.test", USER_PASSWORD).await;
});

db_test!(
    emails_are_stored_lowercase_and_unique_ignoring_case,
    |app| {
        let user = json_of(
            app.post("/v1/users", &new_user("Ana.Lopez@Rapport.test", "agent"))
                .await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(user["email"], "ana.lopez@rapport.test");
        let body = problem(
            app.post("/v1/users", &new_user("ANA.LOPEZ@rapport.TEST", "viewer"))
                .await,
            StatusCode::CONFLICT,
        )
        .await;
        assert!(
            body["detail"]
                .as_str()
                .unwrap()
                .to_lowercase()
                .contains("ana.lopez@rapport.test"),
            "{body}"
        );
        let users = json_of(app.get("/v1/users").await, StatusCode::OK).await;
        let same = users["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|u| u["email"] == "ana.lopez@rapport.test")
            .count();
        assert_eq!(same, 1);
    }
);

db_test!(changing_an_email_to_a_taken_one_is_a_conflict, |app| {
    let a = app.create_user("agent").await;
    let b = app.create_user("agent").await;
    let taken = a["email"].as_str().unwrap().to_uppercase();
    problem(
        app.patch(&format!("/v1/users/{}", id(&b)), &json!({"email": taken}))
            .await,
        StatusCode::CONFLICT,
    )
    .await;
});

db_test!(an_unknown_user_is_404, |app| {
    problem(
        app.get(&format!("/v1/users/{}", uuid::Uuid::now_v7()))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        app.patch(
            &format!("/v1/users/{}", uuid::Uuid::now_v7()),
            &json!({"display_name": "x"}),
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        app.delete(&format!("/v1/users/{}", uuid::Uuid::now_v7()))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    // A path that is not an id at all is a 404 too, never a 500.
    problem(app.get("/v1/users/not-a-uuid").await, StatusCode::NOT_FOUND).await;
});

db_test!(a_stale_if_match_is_refused_with_412, |app| {
    let user = app.create_user("agent").await;
    let path = format!("/v1/users/{}", id(&user));
    let first_etag = format!("\"{}\"", user["version"]);
    let response = app
        .request(Method::PATCH, &path)
        .header("if-match", &first_etag)
        .json(&json!({"display_name": "Renamed"}))
        .send()
        .await
        .unwrap();
    let new_etag = header(&response, "etag").expect("ETag");
    let updated = json_of(response, StatusCode::OK).await;
    assert_eq!(updated["display_name"], "Renamed");
    assert_ne!(new_etag, first_etag);

    let stale = app
        .request(Method::PATCH, &path)
        .header("if-match", &first_etag)
        .json(&json!({"display_name": "Lost update"}))
        .send()
        .await
        .unwrap();
    let body = problem(stale, StatusCode::PRECONDITION_FAILED).await;
    assert_eq!(body["current_etag"], new_etag);
    let stale_delete = app
        .request(Method::DELETE, &path)
        .header("if-match", &first_etag)
        .send()
        .await
        .unwrap();
    problem(stale_delete, StatusCode::PRECONDITION_FAILED).await;
    let now = json_of(app.get(&path).await, StatusCode::OK).await;
    assert_eq!(now["display_name"], "Renamed");
});

db_test!(a_malformed_if_match_is_a_400, |app| {
    let user = app.create_user("agent").await;
    let response = app
        .request(Method::PATCH, &format!("/v1/users/{}", id(&user)))
        .header("if-match", "version one")
        .json(&json!({"display_name": "x"}))
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::BAD_REQUEST).await;
});

db_test!(patch_is_a_merge_patch_that_changes_the_role, |app| {
    let user = app.create_user("agent").await;
    let path = format!("/v1/users/{}", id(&user));
    let response = app
        .request(Method::PATCH, &path)
        .header("content-type", "application/merge-patch+json")
        .body(json!({"role": "admin"}).to_string())
        .send()
        .await
        .unwrap();
    let updated = json_of(response, StatusCode::OK).await;
    assert_eq!(updated["role"], "admin");
    assert_eq!(
        updated["display_name"], user["display_name"],
        "absent fields stay as they were"
    );
    assert_eq!(updated["email"], user["email"]);
    assert_eq!(updated["version"], user["version"].as_i64().unwrap() + 1);
    // A fresh sign-in carries the new role.
    let token = app
        .sign_in(user["email"].as_str().unwrap(), USER_PASSWORD)
        .await;
    json_of(
        app.request_as(&token, Method::GET, "/v1/users")
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
});

db_test!(
    the_last_admin_cannot_be_demoted_deactivated_or_deleted,
    |app| {
        let admin = app.admin().await;
        let path = format!("/v1/users/{}", id(&admin));
        problem(
            app.patch(&path, &json!({"role": "manager"})).await,
            StatusCode::CONFLICT,
        )
        .await;
        problem(
            app.patch(&path, &json!({"active": false})).await,
            StatusCode::CONFLICT,
        )
        .await;
        problem(app.delete(&path).await, StatusCode::CONFLICT).await;
        let still = json_of(app.get(&path).await, StatusCode::OK).await;
        assert_eq!(still["role"], "admin");
        assert_eq!(still["active"], true);
        assert_eq!(still["version"], admin["version"]);
    }
);

db_test!(an_inactive_admin_does_not_count_as_another_admin, |app| {
    let dormant = json!({"email": "dormant-admin@rapport.test", "display_name": "D", "role": "admin",
                         "password": USER_PASSWORD, "active": false});
    json_of(app.post("/v1/users", &dormant).await, StatusCode::CREATED).await;
    let admin = app.admin().await;
    problem(
        app.patch(
            &format!("/v1/users/{}", id(&admin)),
            &json!({"role": "viewer"}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
});

db_test!(
    the_first_admin_can_step_down_once_another_admin_exists,
    |app| {
        let admin = app.admin().await;
        let path = format!("/v1/users/{}", id(&admin));
        let other = app.create_user("manager").await;
        json_of(
            app.patch(
                &format!("/v1/users/{}", id(&other)),
                &json!({"role": "admin"}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        let demoted = json_of(
            app.patch(&path, &json!({"role": "manager"})).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(demoted["role"], "manager");
        // Now the other one is the last admin.
        let other_token = app
            .sign_in(other["email"].as_str().unwrap(), USER_PASSWORD)
            .await;
        let refuse = app
            .request_as(
                &other_token,
                Method::PATCH,
                &format!("/v1/users/{}", id(&other)),
            )
            .json(&json!({"role": "agent"}))
            .send()
            .await
            .unwrap();
        problem(refuse, StatusCode::CONFLICT).await;
    }
);

db_test!(
    an_admin_can_be_deactivated_or_deleted_once_another_admin_exists,
    |app| {
        let second = app.create_user("admin").await;
        let third = app.create_user("admin").await;
        json_of(
            app.patch(
                &format!("/v1/users/{}", id(&second)),
                &json!({"active": false}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        let response = app.delete(&format!("/v1/users/{}", id(&third))).await;
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        // Only the first admin is left active.
        let admin = app.admin().await;
        problem(
            app.delete(&format!("/v1/users/{}", id(&admin))).await,
            StatusCode::CONFLICT,
        )
        .await;
    }
);

db_test!(a_deleted_user_is_gone_and_cannot_sign_in, |app| {
    let user = app.create_user("agent").await;
    let email = user["email"].as_str().unwrap();
    let pair = app.token_pair(email, USER_PASSWORD).await;
    let path = format!("/v1/users/{}", id(&user));
    let response = app.delete(&path).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    problem(app.get(&path).await, StatusCode::NOT_FOUND).await;
    problem(app.delete(&path).await, StatusCode::NOT_FOUND).await;
    assert_eq!(
        sign_in_status(&app, email, USER_PASSWORD).await,
        StatusCode::UNAUTHORIZED
    );
    let refresh = app
        .client
        .post(app.url("/v1/auth/refresh"))
        .json(&json!({"refresh_token": pair["refresh_token"]}))
        .send()
        .await
        .unwrap();
    problem(refresh, StatusCode::UNAUTHORIZED).await;
    let users = json_of(app.get("/v1/users").await, StatusCode::OK).await;
    assert!(
        !users["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["id"] == user["id"]),
        "{users}"
    );
    // The email is free again.
    json_of(
        app.post("/v1/users", &new_user(email, "viewer")).await,
        StatusCode::CREATED,
    )
    .await;
});

db_test!(an_unknown_field_in_a_user_body_is_a_400, |app| {
    let mut body = new_user("typo@rapport.test", "agent");
    body["emial"] = json!("typo@rapport.test");
    let problem_body = problem(app.post("/v1/users", &body).await, StatusCode::BAD_REQUEST).await;
    assert!(
        problem_body["detail"].as_str().unwrap().contains("emial"),
        "{problem_body}"
    );
    let user = app.create_user("agent").await;
    problem(
        app.patch(
            &format!("/v1/users/{}", id(&user)),
            &json!({"rol": "admin"}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(
        sign_in_status(&app, "typo@rapport.test", USER_PASSWORD).await,
        StatusCode::UNAUTHORIZED
    );
});

db_test!(an_unknown_role_is_refused, |app| {
    let status = app
        .post("/v1/users", &new_user("boss@rapport.test", "superuser"))
        .await
        .status();
    assert!(
        status == StatusCode::BAD_REQUEST || status == StatusCode::UNPROCESSABLE_ENTITY,
        "{status}"
    );
});

db_test!(invalid_fields_are_listed_sorted_by_field, |app| {
    let body =
        json!({"email": "not-an-email", "display_name": "", "role": "agent", "password": "short"});
    let body = problem(
        app.post("/v1/users", &body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let errors = body["errors"].as_array().expect("errors array");
    let fields: Vec<&str> = errors
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["display_name", "email", "password"], "{body}");
    for e in errors {
        assert!(e["code"].as_str().is_some_and(|c| !c.is_empty()), "{e}");
        assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{e}");
    }
});

db_test!(an_invalid_email_alone_is_a_422_naming_the_field, |app| {
    let body = problem(
        app.post("/v1/users", &new_user("nobody-at-example", "agent"))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "email", "{body}");
    assert_eq!(body["errors"].as_array().unwrap().len(), 1);
});

db_test!(a_short_password_is_a_422, |app| {
    let mut body = new_user("short@rapport.test", "agent");
    body["password"] = json!("elevenchars");
    let body = problem(
        app.post("/v1/users", &body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "password", "{body}");
    let user = app.create_user("agent").await;
    let patch = app
        .patch(
            &format!("/v1/users/{}", id(&user)),
            &json!({"password": "short"}),
        )
        .await;
    problem(patch, StatusCode::UNPROCESSABLE_ENTITY).await;
});

db_test!(users_are_paginated_with_a_cursor, |app| {
    for _ in 0..3 {
        app.create_user("viewer").await;
    }
    let mut seen = Vec::new();
    let mut path = "/v1/users?limit=2".to_string();
    loop {
        let page = json_of(app.get(&path).await, StatusCode::OK).await;
        let data = page["data"].as_array().unwrap();
        assert!(data.len() <= 2, "{page}");
        seen.extend(data.iter().map(|u| u["id"].clone()));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/users?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 4);
    let mut unique = seen.clone();
    unique.dedup();
    assert_eq!(unique.len(), 4);
    problem(app.get("/v1/users?limit=0").await, StatusCode::BAD_REQUEST).await;
    problem(
        app.get("/v1/users?limit=201").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    problem(
        app.get("/v1/users?cursor=garbage").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
});

// ---- API keys ----

db_test!(
    concurrent_demotions_of_the_last_two_admins_leave_one_admin,
    |app| {
        let admin = app.admin().await;
        let other = app.create_user("admin").await;
        let credentials = [
            (ADMIN_EMAIL.to_string(), ADMIN_PASSWORD),
            (other["email"].as_str().unwrap().to_string(), USER_PASSWORD),
        ];
        let mut token = app.admin_token.clone();
        for round in 0..3 {
            let mut tasks = tokio::task::JoinSet::new();
            for user in [&admin, &other] {
                let request = app
                    .request_as(&token, Method::PATCH, &format!("/v1/users/{}", id(user)))
                    .json(&json!({"role": "manager"}));
                tasks.spawn(async move { request.send().await.unwrap().status() });
            }
            let statuses: Vec<StatusCode> = tasks.join_all().await;
            // Exactly one demotion goes through. The other is refused as the
            // last admin's (409) or, when the caller demoted themselves first,
            // because their token no longer holds (401).
            assert_eq!(
                statuses.iter().filter(|s| **s == StatusCode::OK).count(),
                1,
                "round {round}: {statuses:?}"
            );
            assert!(
                statuses
                    .iter()
                    .any(|s| *s == StatusCode::CONFLICT || *s == StatusCode::UNAUTHORIZED),
                "round {round}: both admins were demoted: {statuses:?}"
            );
            // The demoted admin's tokens stopped working; the one still admin
            // signs in again and restores two admins for the next round.
            let mut still_admin = None;
            for (email, password) in &credentials {
                let t = app.sign_in(email, password).await;
                let me = json_of(
                    app.request_as(&t, Method::GET, "/v1/me")
                        .send()
                        .await
                        .unwrap(),
                    StatusCode::OK,
                )
                .await;
                if me["role"] == "admin" {
                    still_admin = Some(t);
                }
            }
            let restorer = still_admin.unwrap_or_else(|| panic!("round {round}: no admin left"));
            for user in [&admin, &other] {
                let restored = app
                    .request_as(&restorer, Method::PATCH, &format!("/v1/users/{}", id(user)))
                    .json(&json!({"role": "admin"}))
                    .send()
                    .await
                    .unwrap();
                json_of(restored, StatusCode::OK).await;
            }
            token = app.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        }
    }
);
