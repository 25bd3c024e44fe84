//! Satisfaction metrics grouped by account attributes, owner, engagement and quarter, filtered by account, key
//! account and kind, with customer effort scores (`/v1/metrics/satisfaction`), on a small known data set.

use crate::common::feedback::*;
use crate::common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn satisfaction(app: &TestApp, query: &str) -> Value {
    json_of(
        app.get(&format!("/v1/metrics/satisfaction?{query}")).await,
        StatusCode::OK,
    )
    .await
}

const PERIOD: &str = "from=2025-01-01T00:00:00Z&to=2025-07-01T00:00:00Z";

/// The fixture:
///
/// | # | kind      | account | nps | csat | ces | engagement | received            |
/// |---|-----------|---------|-----|------|-----|------------|---------------------|
/// | 1 | survey    | Acme    | 10  | 5    | 1   | Panel      | 2025-01-15 (Q1)     |
/// | 2 | survey    | Acme    | 6   |      | 3   |            | 2025-04-10 (Q2)     |
/// | 3 | survey    | Bolt    | 9   | 2    | 7   |            | 2025-04-20 (Q2)     |
/// | 4 | complaint | Bolt    |     | 1    |     |            | 2025-05-01 (Q2)     |
/// | 5 | survey    | none    | 8   |      |     |            | 2025-06-30 23:59:59 |
/// | 6 | praise    | Acme    |     |      |     |            | 2025-02-01 (no score: never counted) |
///
/// Acme: key account, value tier high, customer, industry Pharma, owned by Olga Owner.
/// Bolt: not a key account, value tier low, prospect, industry Retail, no owner.
struct Fixture {
    acme: String,
    owner: String,
    panel: String,
}

async fn fixture(app: &TestApp) -> Fixture {
    let owner = created(
        app,
        "/v1/users",
        json!({"email": "olga@rapport.test", "display_name": "Olga Owner", "role": "manager",
               "password": USER_PASSWORD}),
    )
    .await;
    let acme = id(&created(
        app,
        "/v1/accounts",
        json!({"name": "Acme", "key_account": true, "value_tier": "high", "lifecycle_stage": "customer",
               "industry": "Pharma", "owner_id": id(&owner)}),
    )
    .await);
    let bolt = id(&created(
        app,
        "/v1/accounts",
        json!({"name": "Bolt", "value_tier": "low", "lifecycle_stage": "prospect", "industry": "Retail"}),
    )
    .await);
    let panel = id(&created(
        app,
        "/v1/engagements",
        json!({"account_id": acme, "name": "Panel study"}),
    )
    .await);
    survey(
        app,
        json!({"nps": 10, "csat": 5, "ces": 1, "account_id": acme, "engagement_id": panel,
                       "received_at": "2025-01-15T10:00:00Z"}),
    )
    .await;
    survey(
        app,
        json!({"nps": 6, "ces": 3, "account_id": acme, "received_at": "2025-04-10T10:00:00Z"}),
    )
    .await;
    survey(app, json!({"nps": 9, "csat": 2, "ces": 7, "account_id": bolt, "received_at": "2025-04-20T10:00:00Z"})).await;
    feedback(
        app,
        json!({"csat": 1, "account_id": bolt, "received_at": "2025-05-01T10:00:00Z"}),
    )
    .await;
    survey(
        app,
        json!({"nps": 8, "received_at": "2025-06-30T23:59:59Z"}),
    )
    .await;
    feedback(app, json!({"kind": "praise", "text": "Lovely", "account_id": acme, "received_at": "2025-02-01T10:00:00Z"})).await;
    Fixture {
        acme,
        owner: id(&owner),
        panel,
    }
}

/// `(key, nps responses, nps score)` per group, in the order served.
fn nps_by_key(m: &Value) -> Vec<(Value, i64, Value)> {
    m["groups"]
        .as_array()
        .unwrap_or_else(|| panic!("no groups: {m}"))
        .iter()
        .map(|g| {
            (
                g["key"].clone(),
                g["nps"]["responses"].as_i64().unwrap(),
                g["nps"]["score"].clone(),
            )
        })
        .collect()
}

db_test!(
    customer_effort_scores_have_a_mean_and_a_distribution,
    |app| {
        fixture(&app).await;
        let m = satisfaction(&app, PERIOD).await;
        let all = &m["overall"];
        // NPS 10, 6, 9, 8: promoters 2, passives 1, detractors 1 → 100 × (2 − 1) / 4 = 25.
        assert_eq!(all["nps"]["score"], 25.0, "{m}");
        // CSAT 5, 2, 1: one satisfied of 3 → 33.33%; mean 8 / 3 = 2.67.
        assert_eq!(all["csat"]["score"], 33.33);
        assert_eq!(all["csat"]["mean"], 2.67);
        // CES 1, 3, 7: mean 11 / 3 = 3.67; one answer each of 1, 3 and 7.
        assert_eq!(
            all["ces"],
            json!({"mean": 3.67, "responses": 3,
               "distribution": {"1": 1, "2": 0, "3": 1, "4": 0, "5": 0, "6": 0, "7": 1}})
        );
        let empty = satisfaction(&app, "from=2020-01-01T00:00:00Z&to=2020-02-01T00:00:00Z").await;
        assert_eq!(empty["overall"]["ces"]["mean"], Value::Null);
        assert_eq!(empty["overall"]["ces"]["responses"], 0);
        assert_eq!(empty["overall"]["ces"]["distribution"]["7"], 0);
    }
);

db_test!(satisfaction_groups_by_account_attributes, |app| {
    fixture(&app).await;
    let null = Value::Null;
    // Key accounts: Acme's 10 and 6 → 0; Bolt's 9 → 100; the item without an account (8) → 0, last.
    let m = satisfaction(&app, &format!("{PERIOD}&group_by=key_account")).await;
    assert_eq!(m["group_by"], "key_account");
    assert_eq!(
        nps_by_key(&m),
        [
            (json!("false"), 1, json!(100.0)),
            (json!("true"), 2, json!(0.0)),
            (null.clone(), 1, json!(0.0))
        ]
    );
    // Bolt's CSAT 2 and 1: none satisfied, mean 1.5; its CES 7.
    let bolt = &m["groups"][0];
    assert_eq!(
        (bolt["csat"]["score"].clone(), bolt["csat"]["mean"].clone()),
        (json!(0.0), json!(1.5))
    );
    assert_eq!(bolt["ces"]["mean"], 7.0);
    // Acme: CSAT 5 → 100%, CES 1 and 3 → mean 2.
    assert_eq!(m["groups"][1]["csat"]["score"], 100.0);
    assert_eq!(m["groups"][1]["ces"]["mean"], 2.0);
    for (group_by, acme, bolt) in [
        ("value_tier", "high", "low"),
        ("lifecycle_stage", "customer", "prospect"),
        ("industry", "Pharma", "Retail"),
    ] {
        let m = satisfaction(&app, &format!("{PERIOD}&group_by={group_by}")).await;
        let mut expected = vec![(json!(acme), 2, json!(0.0)), (json!(bolt), 1, json!(100.0))];
        expected.sort_by_key(|g| g.0.as_str().unwrap().to_string());
        expected.push((null.clone(), 1, json!(0.0)));
        assert_eq!(nps_by_key(&m), expected, "{group_by}: {m}");
    }
});

db_test!(satisfaction_groups_by_owner_engagement_and_quarter, |app| {
    let f = fixture(&app).await;
    // Owner: Olga owns Acme (10, 6 → 0); the rest have no owner: 9, 8 → one promoter of 2 → 50.
    let m = satisfaction(&app, &format!("{PERIOD}&group_by=owner")).await;
    assert_eq!(
        nps_by_key(&m),
        [
            (json!(f.owner), 2, json!(0.0)),
            (Value::Null, 2, json!(50.0))
        ]
    );
    assert_eq!(m["groups"][0]["label"], "Olga Owner");
    assert_eq!(m["groups"][1]["label"], Value::Null);
    // Engagement: only item 1 (10 → 100) is about the panel study; the others (6, 9, 8) → 0.
    let m = satisfaction(&app, &format!("{PERIOD}&group_by=engagement")).await;
    assert_eq!(
        nps_by_key(&m),
        [
            (json!(f.panel), 1, json!(100.0)),
            (Value::Null, 3, json!(0.0))
        ]
    );
    assert_eq!(m["groups"][0]["label"], "Panel study");
    assert_eq!(m["groups"][0]["ces"]["distribution"]["1"], 1);
    // Quarter (UTC): Q1 has item 1; Q2 items 2–5 (the last at 23:59:59 on 30 June):
    // NPS 6, 9, 8 → 0; CSAT 2, 1 → 0%; CES 3, 7 → mean 5.
    let m = satisfaction(&app, &format!("{PERIOD}&group_by=quarter")).await;
    assert_eq!(
        nps_by_key(&m),
        [
            (json!("2025-Q1"), 1, json!(100.0)),
            (json!("2025-Q2"), 3, json!(0.0))
        ]
    );
    let q2 = &m["groups"][1];
    assert_eq!(
        (
            q2["csat"]["responses"].as_i64(),
            q2["csat"]["score"].clone()
        ),
        (Some(2), json!(0.0))
    );
    assert_eq!(q2["ces"]["mean"], 5.0);
    // The existing groupings still work beside the new ones (May has item 4, scored only by CSAT).
    let m = satisfaction(&app, &format!("{PERIOD}&group_by=month")).await;
    let months: Vec<Value> = nps_by_key(&m).into_iter().map(|g| g.0).collect();
    assert_eq!(
        months,
        [
            json!("2025-01"),
            json!("2025-04"),
            json!("2025-05"),
            json!("2025-06")
        ]
    );
});

db_test!(
    satisfaction_filters_by_account_key_account_and_kind,
    |app| {
        let f = fixture(&app).await;
        // Acme's items 1 and 2: NPS 10, 6 → 0; CSAT 5 → 100%; CES 1, 3 → 2.
        for filter in [
            format!("account_id={}", f.acme),
            "key_account=true".to_string(),
        ] {
            let m = satisfaction(&app, &format!("{PERIOD}&{filter}")).await;
            let all = &m["overall"];
            assert_eq!(
                (
                    all["nps"]["responses"].as_i64(),
                    all["nps"]["score"].clone()
                ),
                (Some(2), json!(0.0)),
                "{filter}"
            );
            assert_eq!(all["csat"]["score"], 100.0, "{filter}");
            assert_eq!(all["ces"]["mean"], 2.0, "{filter}");
        }
        // Other accounts (Bolt: items 3 and 4); the item without an account is in neither.
        let m = satisfaction(&app, &format!("{PERIOD}&key_account=false")).await;
        assert_eq!(m["overall"]["nps"]["responses"], 1);
        assert_eq!(m["overall"]["csat"]["responses"], 2);
        // Grouped by an account attribute too (on SQLite summed per account first): only Bolt's tier.
        let m = satisfaction(
            &app,
            &format!("{PERIOD}&key_account=false&group_by=value_tier"),
        )
        .await;
        assert_eq!(nps_by_key(&m), vec![(json!("low"), 1, json!(100.0))]);
        assert_eq!(m["groups"][0]["csat"]["responses"], 2);
        assert_eq!(m["groups"][0]["csat"]["mean"], 1.5);
        // Complaints only: item 4 (CSAT 1).
        let m = satisfaction(&app, &format!("{PERIOD}&kind=complaint")).await;
        assert_eq!(m["overall"]["csat"]["responses"], 1);
        assert_eq!(m["overall"]["csat"]["score"], 0.0);
        assert_eq!(m["overall"]["nps"]["responses"], 0);
        // Surveys only: CSAT 5, 2 → 50%.
        let m = satisfaction(&app, &format!("{PERIOD}&kind=survey")).await;
        assert_eq!(m["overall"]["csat"]["score"], 50.0);
        // Filters and groups combine: Bolt's surveys by quarter → item 3 in Q2.
        let m = satisfaction(
            &app,
            &format!("{PERIOD}&kind=survey&key_account=false&group_by=quarter"),
        )
        .await;
        assert_eq!(nps_by_key(&m), [(json!("2025-Q2"), 1, json!(100.0))]);
    }
);

db_test!(
    bad_satisfaction_parameters_are_400s_that_say_what_is_valid,
    |app| {
        let p = problem(
            app.get("/v1/metrics/satisfaction?group_by=colour").await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        let detail = p["detail"].as_str().unwrap();
        for valid in [
            "channel",
            "quarter",
            "key_account",
            "value_tier",
            "lifecycle_stage",
            "industry",
            "owner",
            "engagement",
        ] {
            assert!(detail.contains(valid), "{detail}");
        }
        let p = problem(
            app.get("/v1/metrics/satisfaction?kind=rant").await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert!(p["detail"].as_str().unwrap().contains("survey"), "{p}");
        for query in [
            "key_account=maybe",
            "account_id=42",
            "account=1",
            "group_by=priority",
        ] {
            problem(
                app.get(&format!("/v1/metrics/satisfaction?{query}")).await,
                StatusCode::BAD_REQUEST,
            )
            .await;
        }
    }
);

db_test!(
    a_customer_effort_score_is_1_to_7_on_create_patch_and_read,
    |app| {
        // A survey with only a CES is an answer.
        let answer = survey(&app, json!({"ces": 2})).await;
        assert_eq!(answer["ces"], 2);
        assert_eq!(
            json_of(app.get(&path(&answer)).await, StatusCode::OK).await["ces"],
            2
        );
        for bad in [0, 8] {
            let p = problem(
                app.post("/v1/feedback", &json!({"kind": "survey", "ces": bad}))
                    .await,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
            assert_eq!(p["errors"][0]["field"], "ces", "{p}");
            assert!(
                p["errors"][0]["message"]
                    .as_str()
                    .unwrap()
                    .contains("1 to 7"),
                "{p}"
            );
        }
        let p = problem(
            app.patch(&path(&answer), &json!({"ces": 9})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(p["errors"][0]["field"], "ces", "{p}");
        let changed = json_of(
            app.patch(&path(&answer), &json!({"ces": 6, "nps": 3}))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(
            (changed["ces"].as_i64(), changed["nps"].as_i64()),
            (Some(6), Some(3))
        );
        // Clearing one score leaves the other; clearing the last one is refused.
        let changed = json_of(
            app.patch(&path(&answer), &json!({"nps": null})).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(changed["ces"], 6);
        let p = problem(
            app.patch(&path(&answer), &json!({"ces": null})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(
            p["errors"][0]["message"].as_str().unwrap().contains("ces"),
            "{p}"
        );
        // Other kinds may carry one too.
        let complaint = feedback(&app, json!({"ces": 7})).await;
        assert_eq!(complaint["ces"], 7);
        assert_eq!(feedback(&app, json!({})).await["ces"], Value::Null);
    }
);
