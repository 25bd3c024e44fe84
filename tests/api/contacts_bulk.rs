use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn import(app: &TestApp, query: &str, content_type: &str, body: String) -> reqwest::Response {
    app.request(Method::POST, &format!("/v1/contacts/import{query}"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn total(app: &TestApp) -> i64 {
    json_of(
        app.get("/v1/contacts?include_total=true&limit=1").await,
        StatusCode::OK,
    )
    .await["total"]
        .as_i64()
        .unwrap()
}

db_test!(
    a_json_import_upserts_by_email_and_reports_every_row,
    |app| {
        let existing = json_of(
            app.post(
                "/v1/contacts",
                &json!({"first_name": "Mei", "email": "mei@acme.example", "title": "CTO"}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let rows = json!([
            {"first_name": "Ana", "email": "ana@acme.example", "tags": ["imported"]},
            {"email": "MEI@acme.example", "title": "CEO"},
            {"first_name": "Bad", "email": "not-an-email"},
            {"first_name": "Typo", "emial": "x@y.example"}
        ]);
        let report = json_of(
            import(&app, "", "application/json", rows.to_string()).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(
            (
                report["created"].as_i64(),
                report["updated"].as_i64(),
                report["failed"].as_i64()
            ),
            (Some(1), Some(1), Some(2))
        );
        let statuses: Vec<&str> = report["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["status"].as_str().unwrap())
            .collect();
        assert_eq!(statuses, ["created", "updated", "error", "error"]);
        assert_eq!(report["rows"][2]["row"], 3);
        assert_eq!(report["rows"][2]["errors"][0]["field"], "email");
        assert_eq!(report["rows"][1]["id"], existing["id"]);
        let mei = json_of(
            app.get(&format!(
                "/v1/contacts/{}",
                existing["id"].as_str().unwrap()
            ))
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(mei["title"], "CEO");
        assert_eq!(
            mei["first_name"], "Mei",
            "fields a row does not give are kept"
        );
        assert_eq!(total(&app).await, 2);
        let audit = json_of(
            app.get(&format!(
                "/v1/audit-events?entity_type=contact&entity_id={}",
                existing["id"].as_str().unwrap()
            ))
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(
            audit["data"].as_array().unwrap().last().unwrap()["action"],
            "import"
        );
    }
);

db_test!(
    an_all_or_nothing_import_with_one_bad_row_writes_nothing,
    |app| {
        let rows = json!([{"first_name": "A", "email": "a@acme.example"}, {"first_name": "B", "country": "XX"}]);
        let body = problem(
            import(
                &app,
                "?mode=all_or_nothing",
                "application/json",
                rows.to_string(),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(body["failed"], 1);
        assert_eq!(body["rows"][0]["status"], "skipped");
        assert_eq!(body["rows"][1]["errors"][0]["field"], "country");
        assert_eq!(total(&app).await, 0);
        let ok = json!([{"first_name": "A", "email": "a@acme.example"}, {"first_name": "B", "country": "DE"}]);
        let report = json_of(
            import(
                &app,
                "?mode=all_or_nothing",
                "application/json",
                ok.to_string(),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(report["created"], 2);
    }
);

db_test!(a_csv_import_reads_a_header_row_and_semicolon_tags, |app| {
    let csv = "first_name,last_name,email,phone,country,tags,custom_fields\n\
               Mei,Chen,mei@acme.example,138 1234 5678,CN,vip;apac,\"{\"\"tier\"\": 2}\"\n\
               Hans,Meier,hans@acme.example,,DE,,\n";
    let report = json_of(
        import(&app, "", "text/csv", csv.to_string()).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(report["created"], 2, "{report}");
    let list = json_of(app.get("/v1/contacts?tag=apac").await, StatusCode::OK).await;
    let mei = &list["data"][0];
    assert_eq!(mei["phone"], "+8613812345678");
    assert_eq!(mei["tags"], json!(["vip", "apac"]));
    assert_eq!(mei["custom_fields"], json!({"tier": 2}));
    problem(
        import(&app, "", "text/csv", "first_name,emial\nA,b\n".to_string()).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    problem(
        import(&app, "", "application/xml", "<a/>".to_string()).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
    )
    .await;
    problem(
        import(
            &app,
            "",
            "application/json",
            "{\"not\": \"an array\"}".to_string(),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
});

db_test!(an_import_over_ten_thousand_rows_is_refused, |app| {
    let rows: Vec<Value> = (0..10_001)
        .map(|i| json!({"first_name": format!("P{i}")}))
        .collect();
    problem(
        import(&app, "", "application/json", Value::from(rows).to_string()).await,
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    assert_eq!(total(&app).await, 0);
});

db_test!(only_managers_and_admins_import, |app| {
    let agent = app.token_for("agent").await;
    let response = app
        .request_as(&agent, Method::POST, "/v1/contacts/import")
        .json(&json!([{"first_name": "A"}]))
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::FORBIDDEN).await;
});

db_test!(
    an_export_streams_every_matching_contact_as_csv_or_ndjson,
    |app| {
        let rows: Vec<Value> = (0..1200)
            .map(|i| {
                json!({"first_name": format!("P{i:04}"), "email": format!("p{i}@acme.example"),
        "tags": if i % 3 == 0 { json!(["third"]) } else { json!([]) }})
            })
            .collect();
        json_of(
            import(&app, "", "application/json", Value::from(rows).to_string()).await,
            StatusCode::OK,
        )
        .await;
        let response = app.get("/v1/contacts/export?format=ndjson").await;
        assert_eq!(response.headers()["content-type"], "application/x-ndjson");
        let text = response.text().await.unwrap();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 1200);
        let ids: std::collections::HashSet<&str> =
            lines.iter().map(|c| c["id"].as_str().unwrap()).collect();
        assert_eq!(ids.len(), 1200);
        let csv = app
            .get("/v1/contacts/export?tag=third&sort=name")
            .await
            .text()
            .await
            .unwrap();
        let mut lines = csv.lines();
        assert!(
            lines
                .next()
                .unwrap()
                .starts_with("id,first_name,last_name,email")
        );
        assert_eq!(lines.count(), 400);
        // An export imports back unchanged: every row updates its contact.
        let report = json_of(import(&app, "", "text/csv", csv).await, StatusCode::OK).await;
        assert_eq!(
            (
                report["updated"].as_i64(),
                report["created"].as_i64(),
                report["failed"].as_i64()
            ),
            (Some(400), Some(0), Some(0))
        );
        problem(
            app.get("/v1/contacts/export?format=xml").await,
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
);
