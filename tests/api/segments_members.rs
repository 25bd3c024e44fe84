//! A segment's members (`/v1/segments/{id}/members`) and export
//! (`/v1/segments/{id}/export`): what the entity's list returns for the
//! filter, paged, counted and streamed the same way.

use crate::common::*;
use crate::segments::{fields_of, organisation, person};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn segment(app: &TestApp, entity: &str, filter: Value) -> String {
    let body = json!({"name": "Segment", "entity": entity, "filter": filter});
    id(&created(app, "/v1/segments", body).await)
}

async fn read(app: &TestApp, token: &str, path: &str) -> Value {
    json_of(
        app.request_as(token, Method::GET, path)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await
}

fn ids(page: &Value) -> Vec<String> {
    page["data"].as_array().unwrap().iter().map(id).collect()
}

/// Every id of a list, following `next_cursor` (`path` already has a `?`).
async fn all_ids(app: &TestApp, path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut page = read(app, &app.admin_token, path).await;
    for _ in 0..100 {
        out.extend(ids(&page));
        let Some(cursor) = page["next_cursor"].as_str() else {
            return out;
        };
        page = read(app, &app.admin_token, &format!("{path}&cursor={cursor}")).await;
    }
    panic!("{path}: more than 100 pages");
}

async fn body_of(app: &TestApp, token: &str, path: &str) -> (String, String, String) {
    let response = app
        .request_as(token, Method::GET, path)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = header(&response, "content-type").unwrap();
    let disposition = header(&response, "content-disposition").unwrap();
    (content_type, disposition, response.text().await.unwrap())
}

/// Two accounts (a key account in Germany, another in France) and five
/// contacts across them; returns the key account's id.
async fn book(app: &TestApp) -> String {
    let key = organisation(
        app,
        json!({"name": "Acme", "key_account": true, "country": "DE"}),
    )
    .await;
    let other = organisation(
        app,
        json!({"name": "Globex", "country": "FR", "lifecycle_stage": "customer"}),
    )
    .await;
    for (account, stage, first) in [
        (&key, "customer", "Bea"),
        (&key, "customer", "Ada"),
        (&key, "lead", "Cem"),
        (&other, "customer", "Dan"),
        (&key, "customer", "Eva"),
    ] {
        person(
            app,
            Some(account),
            json!({"lifecycle_stage": stage, "first_name": first, "country": "DE"}),
        )
        .await;
    }
    key
}

db_test!(
    the_members_are_the_rows_the_list_returns_for_the_same_filter,
    |app| {
        book(&app).await;
        let customers = segment(
            &app,
            "contacts",
            json!({"lifecycle_stage": "customer", "key_account": true}),
        )
        .await;
        let members = read(
            &app,
            &app.admin_token,
            &format!("/v1/segments/{customers}/members"),
        )
        .await;
        let listed = read(
            &app,
            &app.admin_token,
            "/v1/contacts?lifecycle_stage=customer&key_account=true",
        )
        .await;
        assert_eq!(ids(&members).len(), 3);
        assert_eq!(members, listed, "the same rows in the same representation");
        let by_name = segment(&app, "contacts", json!({"q": "ev"})).await;
        assert_eq!(
            read(
                &app,
                &app.admin_token,
                &format!("/v1/segments/{by_name}/members?sort=name")
            )
            .await,
            read(&app, &app.admin_token, "/v1/contacts?q=ev&sort=name").await
        );

        let german_keys = segment(
            &app,
            "accounts",
            json!({"key_account": "true", "country": "DE"}),
        )
        .await;
        let members = read(
            &app,
            &app.admin_token,
            &format!("/v1/segments/{german_keys}/members"),
        )
        .await;
        assert_eq!(
            members,
            read(
                &app,
                &app.admin_token,
                "/v1/accounts?key_account=true&country=DE"
            )
            .await
        );
        assert_eq!(members["data"][0]["name"], "Acme");
        let everyone = segment(&app, "accounts", json!({})).await;
        let all = read(
            &app,
            &app.admin_token,
            &format!("/v1/segments/{everyone}/members?sort=-name"),
        )
        .await;
        assert_eq!(
            all,
            read(&app, &app.admin_token, "/v1/accounts?sort=-name").await
        );
        assert_eq!(all["data"].as_array().unwrap().len(), 2);
    }
);

db_test!(members_page_like_the_list_and_count_like_its_total, |app| {
    book(&app).await;
    let customers = segment(&app, "contacts", json!({"lifecycle_stage": "customer"})).await;
    let path = format!("/v1/segments/{customers}/members");
    let paged = all_ids(&app, &format!("{path}?limit=2&sort=name")).await;
    assert_eq!(paged.len(), 4);
    assert_eq!(
        paged,
        all_ids(
            &app,
            "/v1/contacts?lifecycle_stage=customer&limit=200&sort=name"
        )
        .await
    );
    let first = read(
        &app,
        &app.admin_token,
        &format!("{path}?limit=2&include_total=true"),
    )
    .await;
    assert_eq!(first["total"], 4);
    let counted = read(&app, &app.admin_token, &format!("/v1/segments/{customers}")).await;
    assert_eq!(counted["member_count"], 4);
    // The list's own paging rules answer bad paging.
    for bad in [
        "?limit=0",
        "?limit=201",
        "?cursor=forged",
        "?sort=email",
        "?lifecycle_stage=lead",
    ] {
        problem(
            app.get(&format!("{path}{bad}")).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    let cursor = first["next_cursor"].as_str().unwrap().to_string();
    problem(
        app.get(&format!("{path}?cursor={cursor}&sort=-name")).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    problem(
        app.get(&format!("/v1/segments/{}/members", uuid::Uuid::now_v7()))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    // Accounts sort on their own fields, lifetime revenue only in a currency.
    let accounts = segment(&app, "accounts", json!({})).await;
    let p = problem(
        app.get(&format!(
            "/v1/segments/{accounts}/members?sort=lifetime_revenue"
        ))
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(
        p["detail"].as_str().unwrap().contains("revenue_currency"),
        "{p}"
    );
});

db_test!(
    changing_the_filter_or_the_records_changes_the_membership,
    |app| {
        let key = book(&app).await;
        let leads = segment(&app, "contacts", json!({"lifecycle_stage": "lead"})).await;
        let path = format!("/v1/segments/{leads}");
        let before = all_ids(&app, &format!("{path}/members?limit=200")).await;
        assert_eq!(before.len(), 1);
        let changed = json_of(
            app.patch(
                &path,
                &json!({"filter": {"lifecycle_stage": "customer", "account_id": key}}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(changed["member_count"], 3);
        let after = all_ids(&app, &format!("{path}/members?limit=200")).await;
        assert_eq!(after.len(), 3);
        assert!(!after.contains(&before[0]));
        // Members are read when asked for: a new matching contact is one at once.
        let newcomer = person(&app, Some(&key), json!({"lifecycle_stage": "customer"})).await;
        assert!(
            all_ids(&app, &format!("{path}/members?limit=200"))
                .await
                .contains(&newcomer)
        );
        assert_eq!(read(&app, &app.admin_token, &path).await["member_count"], 4);
        app.delete(&format!("/v1/contacts/{newcomer}")).await;
        assert_eq!(read(&app, &app.admin_token, &path).await["member_count"], 3);
    }
);

db_test!(
    a_viewer_sees_members_and_exports_masked_as_the_list_masks_them,
    |app| {
        let acme = organisation(&app, json!({"name": "Acme"})).await;
        person(
        &app,
        Some(&acme),
        json!({"email": "mei.chen@acme.example", "phone": "+4930123456", "first_name": "Mei", "last_name": "Chen"}),
    )
    .await;
        let all = segment(&app, "contacts", json!({"account_id": acme})).await;
        let by_email = segment(&app, "contacts", json!({"q": "mei.chen@"})).await;
        let viewer = app.token_for("viewer").await;
        let members = read(&app, &viewer, &format!("/v1/segments/{all}/members")).await;
        assert_eq!(
            members,
            read(&app, &viewer, &format!("/v1/contacts?account_id={acme}")).await
        );
        assert_eq!(members["data"][0]["email"], "m***@acme.example");
        // A viewer's search matches names only, so a masked address cannot be found by prefix.
        assert_eq!(
            read(&app, &viewer, &format!("/v1/segments/{by_email}/members")).await["data"],
            json!([])
        );
        assert_eq!(
            read(&app, &viewer, &format!("/v1/segments/{by_email}")).await["member_count"],
            0
        );
        assert_eq!(
            read(&app, &app.admin_token, &format!("/v1/segments/{by_email}")).await["member_count"],
            1
        );
        let (_, _, ndjson) = body_of(
            &app,
            &viewer,
            &format!("/v1/segments/{all}/export?format=ndjson"),
        )
        .await;
        let line: Value = serde_json::from_str(ndjson.lines().next().unwrap()).unwrap();
        assert_eq!(line, members["data"][0]);
        let (_, _, csv) = body_of(&app, &viewer, &format!("/v1/segments/{all}/export")).await;
        assert!(
            csv.contains("m***@acme.example") && !csv.contains("mei.chen@"),
            "{csv}"
        );
        let (_, _, clear) = body_of(
            &app,
            &app.admin_token,
            &format!("/v1/segments/{all}/export"),
        )
        .await;
        assert!(clear.contains("mei.chen@acme.example"), "{clear}");
    }
);

db_test!(
    a_contact_segment_exports_as_csv_or_ndjson_like_the_contact_export,
    |app| {
        let key = book(&app).await;
        person(
            &app,
            Some(&key),
            json!({"lifecycle_stage": "customer", "title": "=HYPERLINK(\"x\")"}),
        )
        .await;
        let customers = segment(
            &app,
            "contacts",
            json!({"lifecycle_stage": "customer", "key_account": true}),
        )
        .await;
        let path = format!("/v1/segments/{customers}/export");
        let (content_type, disposition, csv) =
            body_of(&app, &app.admin_token, &format!("{path}?format=csv")).await;
        assert!(content_type.starts_with("text/csv"), "{content_type}");
        assert_eq!(
            disposition,
            format!("attachment; filename=\"segment-{customers}.csv\"")
        );
        let (_, _, contacts) = body_of(
            &app,
            &app.admin_token,
            "/v1/contacts/export?lifecycle_stage=customer&key_account=true",
        )
        .await;
        assert_eq!(
            csv, contacts,
            "the same file as the contacts' export with the same filters"
        );
        assert_eq!(csv.lines().count(), 5, "a header and four members");
        assert!(
            csv.contains("\"'=HYPERLINK(\"\"x\"\")\""),
            "a formula cell is neutralised: {csv}"
        );
        let (content_type, disposition, ndjson) =
            body_of(&app, &app.admin_token, &format!("{path}?format=ndjson")).await;
        assert_eq!(content_type, "application/x-ndjson");
        assert!(disposition.ends_with(".ndjson\""), "{disposition}");
        let lines: Vec<Value> = ndjson
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let listed = read(
            &app,
            &app.admin_token,
            &format!("/v1/segments/{customers}/members"),
        )
        .await;
        assert_eq!(Value::Array(lines), listed["data"]);
        problem(
            app.get(&format!("{path}?format=xlsx")).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        problem(
            app.get(&format!("{path}?limit=5")).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
);

db_test!(
    an_account_segment_exports_its_accounts_streamed_in_pages,
    |app| {
        organisation(
            &app,
            json!({"name": "=cmd|' /C calc'!A0", "country": "DE", "key_account": true,
                              "tags": ["b2b", "eu"], "employee_count": 1200}),
        )
        .await;
        // More than one page of the export (500 rows), in one statement
        // (SQLite holds ids as 16-byte blobs).
        let sqlite = app.database_url.starts_with("sqlite:");
        let rows: Vec<String> = (0..520)
            .map(|n| {
                let id = uuid::Uuid::now_v7();
                let id = if sqlite {
                    format!("X'{}'", id.simple())
                } else {
                    format!("'{id}'")
                };
                format!(
                    "({id}, 'Bulk {n:03}', 'bulk {n:03}', 'DE', FALSE, '[]', '{{}}', 1, '2026-05-01T00:00:00+00:00', \
                     '2026-05-01T00:00:00+00:00')"
                )
            })
            .collect();
        app.execute_sql(&format!(
        "INSERT INTO accounts (id, name, name_key, country, key_account, tags, custom_fields, version, created_at,
             updated_at) VALUES {}",
        rows.join(", ")
    ))
    .await;
        organisation(&app, json!({"name": "Elsewhere", "country": "FR"})).await;
        let german = segment(&app, "accounts", json!({"country": "DE"})).await;
        let (_, _, csv) = body_of(
            &app,
            &app.admin_token,
            &format!("/v1/segments/{german}/export?sort=name"),
        )
        .await;
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines[0],
            "id,name,domain,industry,country,region,employee_count,annual_revenue,currency,size_segment,value_tier,\
         lifecycle_stage,key_account,owner_id,tags,custom_fields,purchase_count,lifetime_revenue,last_purchase_at,\
         last_interaction_at,created_at,updated_at"
        );
        assert_eq!(lines.len(), 1 + 521);
        // Sorted by name (`=` before letters).
        assert!(lines[2].contains(",Bulk 000,"), "{}", lines[2]);
        let formula = lines.iter().find(|l| l.contains("calc")).unwrap();
        assert!(
            formula.contains(",\"'=cmd|' /C calc'!A0\",")
                || formula.contains(",'=cmd|' /C calc'!A0,"),
            "{formula}"
        );
        assert!(
            formula.contains(",DE,")
                && formula.contains(",enterprise,")
                && formula.contains(",true,"),
            "{formula}"
        );
        assert!(formula.contains("b2b;eu"), "{formula}");
        assert!(!csv.contains("Elsewhere"));
        let (_, _, ndjson) = body_of(
            &app,
            &app.admin_token,
            &format!("/v1/segments/{german}/export?format=ndjson"),
        )
        .await;
        let exported: Vec<String> = ndjson
            .lines()
            .map(|l| id(&serde_json::from_str(l).unwrap()))
            .collect();
        assert_eq!(exported.len(), 521);
        assert_eq!(
            exported,
            all_ids(&app, "/v1/accounts?country=DE&limit=200").await
        );
    }
);

db_test!(
    a_stored_filter_the_list_no_longer_accepts_is_a_409_saying_what_to_fix,
    |app| {
        let german = segment(&app, "contacts", json!({"country": "DE"})).await;
        // As if a later version had dropped the filter from the list (the only segment).
        app.execute_sql(r#"UPDATE segments SET filter = '{"country": "DE", "retired": "x"}'"#)
            .await;
        let p = problem(
            app.get(&format!("/v1/segments/{german}/members")).await,
            StatusCode::CONFLICT,
        )
        .await;
        assert_eq!(fields_of(&p), ["filter.retired"]);
        problem(
            app.get(&format!("/v1/segments/{german}/export")).await,
            StatusCode::CONFLICT,
        )
        .await;
        // The segment itself still reads (uncounted), and a patch repairs it.
        let read = json_of(
            app.get(&format!("/v1/segments/{german}")).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(read["member_count"], Value::Null);
        let fixed = json_of(
            app.patch(
                &format!("/v1/segments/{german}"),
                &json!({"filter": {"retired": null}}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(fixed["member_count"], 0);
    }
);
