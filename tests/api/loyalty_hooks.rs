//! The hooks the contacts module calls on merge and erasure, and the
//! timeline branch. The hooks run in a transaction of the test's own, as the
//! contacts module runs them inside its merge or erase transaction.

use crate::common::loyalty::*;
use crate::common::*;
use chrono::{DateTime, Utc};
use rapport::{db::Db, loyalty::TIMELINE_SQL, on_db};
use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

/// Merges through the contacts API, which runs the loyalty hook in its transaction.
async fn merge(app: &TestApp, duplicate: &str, survivor: &str) {
    let response = app
        .post(
            &format!("/v1/contacts/{survivor}/merge"),
            &json!({"duplicate_id": duplicate}),
        )
        .await;
    json_of(response, StatusCode::OK).await;
}

async fn timeline(db: &Db, contact: &str) -> Vec<(String, Uuid, DateTime<Utc>, String, String)> {
    let contact: Uuid = contact.parse().unwrap();
    let sql = format!("{TIMELINE_SQL} ORDER BY occurred_at DESC, id DESC");
    on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(contact).fetch_all(pool).await)
        .unwrap()
}

db_test!(
    a_merge_moves_the_duplicates_membership_when_the_survivor_has_none,
    |app| {
        let duplicate = new_member(&app).await;
        let survivor = contact(&app, None).await;
        let e = earn(&app, &duplicate, 100).await;
        merge(&app, &duplicate, &survivor).await;
        let m = get_member(&app, &survivor).await;
        assert_eq!(
            (m["balance"].as_i64(), m["lifetime_points"].as_i64()),
            (Some(100), Some(100))
        );
        let page = ledger(&app, &survivor).await;
        assert_eq!(entries(&page)[0]["id"], e["id"]);
        assert_eq!(
            entries(&page)[0]["contact_id"].as_str(),
            Some(survivor.as_str())
        );
        problem(
            app.get(&format!("/v1/loyalty/members/{duplicate}")).await,
            StatusCode::NOT_FOUND,
        )
        .await;
    }
);

db_test!(
    a_merge_of_two_members_folds_balance_lifetime_and_lots_into_the_survivor,
    |app| {
        set_program(&app, json!({"expiry_months": 12})).await;
        let duplicate = new_member(&app).await;
        let survivor = new_member(&app).await;
        let dup_earn = earn(&app, &duplicate, 300).await;
        json_of(redeem(&app, &duplicate, 50).await, StatusCode::CREATED).await;
        earn(&app, &survivor, 900).await;
        merge(&app, &duplicate, &survivor).await;
        let m = get_member(&app, &survivor).await;
        assert_eq!(
            (
                m["balance"].as_i64(),
                m["lifetime_points"].as_i64(),
                m["tier"].as_str()
            ),
            (Some(1150), Some(1200), Some("Silver"))
        );
        let page = ledger(&app, &survivor).await;
        let folded = &entries(&page)[0];
        assert_eq!(
            (
                folded["kind"].as_str(),
                folded["points"].as_i64(),
                folded["qualifying_points"].as_i64()
            ),
            (Some("adjust"), Some(250), Some(300))
        );
        assert_eq!(folded["actor"]["type"], "system");
        let lot = json_of(
            app.get(&format!("{}/{}", path(&survivor, "ledger"), id(folded)))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(
            lot["lots"][0]["expires_at"], dup_earn["lots"][0]["expires_at"],
            "moved points keep their expiry date"
        );
        assert_eq!(page["balance"], 1150);
        // Both histories stay: the duplicate's entries show in the survivor's timeline.
        let db = db(&app).await;
        let events = timeline(&db, &survivor).await;
        let details: Vec<&str> = events
            .iter()
            .filter(|e| e.0 == "loyalty_entry")
            .map(|e| e.4.as_str())
            .collect();
        assert_eq!(
            details.iter().filter(|d| **d == "adjust").count(),
            2,
            "the pair: out of the duplicate, into the survivor"
        );
        assert_eq!(details.iter().filter(|d| **d == "earn").count(), 2);
        assert!(details.contains(&"redeem"));
        db.close().await;
        let history = json_of(
            app.get(&format!("/v1/loyalty/members/{survivor}/tier-changes"))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(history["data"][0]["to_tier"], "Silver");
        assert_eq!(history["data"][0]["entry_id"], folded["id"]);
    }
);

db_test!(
    a_merged_duplicates_redemption_can_still_be_cancelled_into_the_survivor,
    |app| {
        let duplicate = new_member(&app).await;
        let survivor = new_member(&app).await;
        earn(&app, &duplicate, 100).await;
        let pen = json_of(
            app.post(
                "/v1/loyalty/rewards",
                &json!({"name": "Pen", "cost_points": 40, "stock": 3}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let body = json!({"contact_id": duplicate, "reward_id": id(&pen)});
        let r = json_of(
            write(&app, "/v1/loyalty/redemptions", &key(), &body).await,
            StatusCode::CREATED,
        )
        .await;
        merge(&app, &duplicate, &survivor).await;
        assert_eq!(balance(&app, &survivor).await, 60);
        let cancelled = json_of(
            write(
                &app,
                &format!("/v1/loyalty/redemptions/{}/cancel", id(&r)),
                &key(),
                &json!({}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(cancelled["contact_id"].as_str(), Some(survivor.as_str()));
        assert_eq!(balance(&app, &survivor).await, 100);
        let listed = json_of(
            app.get(&format!("/v1/loyalty/redemptions?contact_id={survivor}"))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(listed["data"][0]["id"], r["id"]);
    }
);

db_test!(memberships_absorbed_earlier_follow_a_second_merge, |app| {
    let a = new_member(&app).await;
    let b = new_member(&app).await;
    let c = new_member(&app).await;
    earn(&app, &a, 10).await;
    earn(&app, &b, 20).await;
    earn(&app, &c, 30).await;
    merge(&app, &a, &b).await;
    merge(&app, &b, &c).await;
    let m = get_member(&app, &c).await;
    assert_eq!(
        (m["balance"].as_i64(), m["lifetime_points"].as_i64()),
        (Some(60), Some(60))
    );
    let db = db(&app).await;
    let earns = timeline(&db, &c)
        .await
        .into_iter()
        .filter(|e| e.4 == "earn")
        .count();
    assert_eq!(earns, 3);
    db.close().await;
});

db_test!(erasure_drops_the_reasons_and_keeps_every_amount, |app| {
    let member = new_member(&app).await;
    let body = json!({"points": 80, "reason": "Order for Mei Lin, 12 Main St"});
    json_of(
        write(&app, &path(&member, "earn"), &key(), &body).await,
        StatusCode::CREATED,
    )
    .await;
    json_of(redeem(&app, &member, 30).await, StatusCode::CREATED).await;
    let before = ledger(&app, &member).await;
    json_of(
        app.post(&format!("/v1/contacts/{member}/erase"), &json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    let after = ledger(&app, &member).await;
    assert!(entries(&after).iter().all(|e| e["reason"].is_null()));
    let amounts = |l: &serde_json::Value| {
        entries(l)
            .iter()
            .map(|e| {
                (
                    e["id"].clone(),
                    e["points"].clone(),
                    e["balance_after"].clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(amounts(&after), amounts(&before));
    let m = get_member(&app, &member).await;
    assert_eq!(
        (m["balance"].as_i64(), m["lifetime_points"].as_i64()),
        (Some(50), Some(80))
    );
});

db_test!(
    the_timeline_branch_lists_ledger_entries_and_tier_changes_of_a_contact,
    |app| {
        let member = new_member(&app).await;
        let e = earn(&app, &member, 1500).await;
        let db = db(&app).await;
        let events = timeline(&db, &member).await;
        db.close().await;
        let rows: Vec<(&str, &str, &str)> = events
            .iter()
            .map(|e| (e.0.as_str(), e.3.as_str(), e.4.as_str()))
            .collect();
        assert_eq!(rows.len(), 3, "{rows:?}");
        assert!(
            rows.contains(&("loyalty_entry", "Earned 1500 points", "earn")),
            "{rows:?}"
        );
        assert!(
            rows.contains(&(
                "loyalty_tier_change",
                "Loyalty tier changed from Member to Silver",
                "Silver"
            )),
            "{rows:?}"
        );
        assert!(
            rows.contains(&(
                "loyalty_tier_change",
                "Joined the loyalty programme in tier Member",
                "Member"
            )),
            "{rows:?}"
        );
        let entry = events.iter().find(|x| x.0 == "loyalty_entry").unwrap();
        assert_eq!(entry.1.to_string(), id(&e));
    }
);

db_test!(
    the_person_export_holds_the_membership_and_its_ledger,
    |app| {
        let contact_id = new_member(&app).await;
        earn(&app, &contact_id, 40).await;
        let export = json_of(
            app.get(&format!("/v1/contacts/{contact_id}/export")).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(export["loyalty_member"]["contact_id"], contact_id.as_str());
        assert_eq!(export["loyalty_member"]["balance"], 40);
        let ledger = export["loyalty_ledger"].as_array().unwrap();
        assert_eq!(ledger.len(), 1);
        assert_eq!(ledger[0]["kind"], "earn");
        let stranger = contact(&app, None).await;
        let export = json_of(
            app.get(&format!("/v1/contacts/{stranger}/export")).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(export["loyalty_member"], serde_json::Value::Null);
        assert_eq!(export["loyalty_ledger"], serde_json::json!([]));
    }
);
