//! The committed OpenAPI document must be the one the code generates.

use crate::common::{TestApp, json_of};
use reqwest::StatusCode;

const COMMITTED: &str = include_str!("../../openapi/openapi.json");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_served_document_matches_the_committed_file() {
    let app = TestApp::sqlite().await;
    let served = json_of(
        app.client
            .get(app.url("/openapi.json"))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let committed: serde_json::Value =
        serde_json::from_str(COMMITTED).expect("openapi/openapi.json is JSON");
    assert!(
        served == committed,
        "openapi/openapi.json is out of date: regenerate it with `cargo run -q -- openapi > openapi/openapi.json`"
    );
}

#[test]
fn every_operation_declares_its_errors_and_a_description() {
    let doc = rapport::openapi::document();
    for (path, item) in &doc.paths.paths {
        let operations = [&item.get, &item.post, &item.put, &item.patch, &item.delete];
        for op in operations.into_iter().flatten() {
            let name = format!("{path} {:?}", op.operation_id);
            assert!(op.summary.is_some(), "{name} has no summary");
            let statuses: Vec<&String> = op.responses.responses.keys().collect();
            assert!(
                statuses.iter().any(|s| s.starts_with('2')),
                "{name} declares no success response"
            );
            let public = op
                .security
                .as_ref()
                .is_some_and(|s| s.iter().all(|r| r == &Default::default()));
            if !public && !path.starts_with("/healthz") {
                assert!(
                    statuses.iter().any(|s| *s == "401"),
                    "{name} does not declare 401"
                );
            }
        }
    }
}

#[test]
fn every_reference_in_the_document_resolves() {
    let doc: serde_json::Value = serde_json::from_str(COMMITTED).unwrap();
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(!refs.is_empty());
    for r in refs {
        let pointer = r
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("{r} is not local"));
        assert!(
            doc.pointer(pointer).is_some(),
            "{r} is referenced but not defined"
        );
    }
}

fn collect_refs(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v.as_str()) {
                    ("$ref", Some(r)) => out.push(r.to_string()),
                    _ => collect_refs(v, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

#[test]
fn the_readme_route_table_is_the_one_the_document_gives() {
    let readme = include_str!("../../README.md");
    let expected = rapport::openapi::routes_markdown();
    assert!(
        readme.contains(expected.trim_end()),
        "README.md's route table is out of date: replace the lines from `{}` to `{}` with the output of \
         `cargo run -q -- openapi routes`",
        rapport::openapi::routes_table::START,
        rapport::openapi::routes_table::END
    );
}
