//! The customer timeline: `/v1/contacts/{id}/timeline` and `/v1/accounts/{id}/timeline`.

use crate::common::records::*;
use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Newest first by occurred_at, then id: the order the API promises.
fn newest_first(items: &mut [Value]) {
    items.sort_by(|a, b| {
        let key = |v: &Value| {
            let t: chrono::DateTime<chrono::Utc> =
                v["occurred_at"].as_str().unwrap().parse().unwrap();
            (t, uuid::Uuid::parse_str(v["id"].as_str().unwrap()).unwrap())
        };
        key(b).cmp(&key(a))
    });
}

db_test!(
    a_contacts_timeline_pages_newest_first_with_nothing_lost_or_repeated,
    |app| {
        let pat = contact(&app, None).await;
        let other = contact(&app, None).await;
        let (phone, mail) = (
            channel(&app, "phone", "Hotline").await,
            channel(&app, "email", "Mail").await,
        );
        let mut made = Vec::new();
        // 23 items, several sharing a timestamp (a tie broken by id must not lose or repeat items at a page edge).
        for i in 0..23 {
            let t = format!(
                "2026-05-{:02}T{:02}:00:00.{:06}Z",
                1 + i % 9,
                8 + i % 3,
                (i % 4) * 250_000
            );
            let ch = if i % 2 == 0 { &phone } else { &mail };
            made.push(
                logged(
                    &app,
                    ch,
                    json!({"contact_id": pat, "occurred_at": t, "subject": format!("touch {i}")}),
                )
                .await,
            );
        }
        logged(&app, &phone, json!({"contact_id": other})).await;
        newest_first(&mut made);
        for limit in [1, 5, 7, 23, 50] {
            let items =
                all_pages(&app, &format!("/v1/contacts/{pat}/timeline?limit={limit}")).await;
            assert_eq!(ids(&items), ids(&made), "limit={limit}");
        }
        let first = json_of(
            app.get(&format!("/v1/contacts/{pat}/timeline?limit=23"))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(first["next_cursor"], Value::Null);
    }
);

db_test!(
    timeline_items_name_their_kind_channel_and_link_to_the_full_record,
    |app| {
        let acme = account(&app, "Acme").await;
        let pat = contact(&app, Some(&acme)).await;
        let ch = channel(&app, "webinar", "Spring webinar").await;
        let it = logged(&app, &ch, json!({"contact_id": pat, "type": "webinar", "subject": "Attended", "summary": "Asked two questions."})).await;
        let page = json_of(
            app.get(&format!("/v1/contacts/{pat}/timeline")).await,
            StatusCode::OK,
        )
        .await;
        let item = &page["data"][0];
        assert_eq!(item["kind"], "interaction");
        assert_eq!(item["id"], it["id"]);
        assert_eq!(item["occurred_at"], it["occurred_at"]);
        assert_eq!(item["type"], "webinar");
        assert_eq!(item["summary"], "Attended");
        assert_eq!(
            item["channel"],
            json!({"id": ch, "kind": "webinar", "name": "Spring webinar"})
        );
        assert_eq!(item["contact_id"], pat.as_str());
        assert_eq!(item["account_id"], acme.as_str());
        let link = item["link"].as_str().unwrap();
        assert_eq!(json_of(app.get(link).await, StatusCode::OK).await, it);
    }
);

db_test!(
    a_summary_falls_back_to_the_text_then_to_direction_and_type,
    |app| {
        let pat = contact(&app, None).await;
        let ch = channel(&app, "chat", "Chat").await;
        let long = "word ".repeat(100);
        logged(
            &app,
            &ch,
            json!({"contact_id": pat, "summary": long, "occurred_at": "2026-01-02T00:00:00Z"}),
        )
        .await;
        logged(&app, &ch, json!({"contact_id": pat, "type": "message", "direction": "outbound", "occurred_at": "2026-01-01T00:00:00Z"})).await;
        let items = all_pages(&app, &format!("/v1/contacts/{pat}/timeline?limit=10")).await;
        assert_eq!(items[0]["summary"].as_str().unwrap().chars().count(), 200);
        assert_eq!(items[1]["summary"], "outbound message");
    }
);

db_test!(
    an_accounts_timeline_holds_what_was_logged_against_it_and_its_contacts_unfiled_items,
    |app| {
        let (acme, globex) = (account(&app, "Acme").await, account(&app, "Globex").await);
        let (pat, kim) = (
            contact(&app, Some(&acme)).await,
            contact(&app, Some(&acme)).await,
        );
        let (sam, loner) = (
            contact(&app, Some(&globex)).await,
            contact(&app, None).await,
        );
        let drifter = contact(&app, None).await;
        let ch = channel(&app, "phone", "Hotline").await;
        let at = |day: u32| format!("2026-04-{day:02}T09:00:00Z");
        // Logged while the drifter had no account, before joining Acme.
        let unfiled = logged(
            &app,
            &ch,
            json!({"contact_id": drifter, "occurred_at": at(1)}),
        )
        .await;
        json_of(
            app.patch(
                &format!("/v1/contacts/{drifter}"),
                &json!({"account_id": acme}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        let mut expected = vec![
            unfiled,
            logged(&app, &ch, json!({"account_id": acme, "occurred_at": at(1)})).await,
            logged(&app, &ch, json!({"contact_id": pat, "occurred_at": at(2)})).await,
            logged(&app, &ch, json!({"contact_id": kim, "occurred_at": at(3)})).await,
            // Someone without an account, logged against Acme.
            logged(
                &app,
                &ch,
                json!({"contact_id": loner, "account_id": acme, "occurred_at": at(5)}),
            )
            .await,
            // A Globex contact's touch logged against Acme.
            logged(
                &app,
                &ch,
                json!({"contact_id": sam, "account_id": acme, "occurred_at": at(5)}),
            )
            .await,
        ];
        // Pat, but about Globex business: Globex's history, not Acme's.
        let about_globex = logged(
            &app,
            &ch,
            json!({"contact_id": pat, "account_id": globex, "occurred_at": at(4)}),
        )
        .await;
        let sams = logged(&app, &ch, json!({"contact_id": sam, "occurred_at": at(6)})).await;
        let globex_own = logged(
            &app,
            &ch,
            json!({"account_id": globex, "occurred_at": at(7)}),
        )
        .await;
        newest_first(&mut expected);
        for limit in [1, 2, 4, 50] {
            let items =
                all_pages(&app, &format!("/v1/accounts/{acme}/timeline?limit={limit}")).await;
            assert_eq!(ids(&items), ids(&expected), "limit={limit}");
        }
        let globex_items =
            all_pages(&app, &format!("/v1/accounts/{globex}/timeline?limit=2")).await;
        assert_eq!(
            ids(&globex_items),
            [id(&globex_own), id(&sams), id(&about_globex)]
        );
    }
);

db_test!(
    a_deleted_contacts_items_stay_only_where_they_were_logged_against_the_account,
    |app| {
        let acme = account(&app, "Acme").await;
        let pat = contact(&app, Some(&acme)).await;
        let drifter = contact(&app, None).await;
        let ch = channel(&app, "phone", "Hotline").await;
        let own = logged(&app, &ch, json!({"contact_id": pat})).await;
        logged(&app, &ch, json!({"contact_id": drifter})).await;
        app.patch(
            &format!("/v1/contacts/{drifter}"),
            &json!({"account_id": acme}),
        )
        .await;
        assert_eq!(
            all_pages(&app, &format!("/v1/accounts/{acme}/timeline?limit=10"))
                .await
                .len(),
            2
        );
        for gone in [&pat, &drifter] {
            assert_eq!(
                app.delete(&format!("/v1/contacts/{gone}")).await.status(),
                StatusCode::NO_CONTENT
            );
        }
        // Logged with Acme's id (filled in from Pat): it stays in Acme's history.
        let items = all_pages(&app, &format!("/v1/accounts/{acme}/timeline?limit=10")).await;
        assert_eq!(ids(&items), [id(&own)]);
        problem(
            app.get(&format!("/v1/contacts/{pat}/timeline")).await,
            StatusCode::NOT_FOUND,
        )
        .await;
    }
);

db_test!(unknown_records_kinds_and_cursors_are_refused, |app| {
    let nobody = uuid::Uuid::now_v7();
    problem(
        app.get(&format!("/v1/contacts/{nobody}/timeline")).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        app.get(&format!("/v1/accounts/{nobody}/timeline")).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let pat = contact(&app, None).await;
    let body = problem(
        app.get(&format!("/v1/contacts/{pat}/timeline?kind=tweet"))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(body["detail"].as_str().unwrap().contains("interaction"));
    problem(
        app.get(&format!("/v1/contacts/{pat}/timeline?cursor=abc"))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    problem(
        app.get(&format!("/v1/contacts/{pat}/timeline?limit=500"))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    problem(
        app.get(&format!("/v1/contacts/{pat}/timeline?sort=x"))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    problem(
        app.get("/v1/contacts/not-a-uuid/timeline").await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let ch = channel(&app, "phone", "Hotline").await;
    logged(&app, &ch, json!({"contact_id": pat})).await;
    let only = json_of(
        app.get(&format!("/v1/contacts/{pat}/timeline?kind=interaction"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(only["data"].as_array().unwrap().len(), 1);
});

db_test!(
    viewers_read_timelines_and_api_keys_see_only_kinds_they_may_read,
    |app| {
        let acme = account(&app, "Acme").await;
        let pat = contact(&app, Some(&acme)).await;
        let ch = channel(&app, "phone", "Hotline").await;
        logged(&app, &ch, json!({"contact_id": pat})).await;
        let viewer = app.token_for("viewer").await;
        for path in [
            format!("/v1/contacts/{pat}/timeline"),
            format!("/v1/accounts/{acme}/timeline"),
        ] {
            let page = json_of(
                app.request_as(&viewer, Method::GET, &path)
                    .send()
                    .await
                    .unwrap(),
                StatusCode::OK,
            )
            .await;
            assert_eq!(page["data"].as_array().unwrap().len(), 1);
        }
        let contacts_only = app.api_key(&["contacts:read"]).await;
        let page = json_of(
            app.request_as(
                &contacts_only,
                Method::GET,
                &format!("/v1/contacts/{pat}/timeline"),
            )
            .send()
            .await
            .unwrap(),
            StatusCode::OK,
        )
        .await;
        assert_eq!(page["data"], json!([]));
        let both = app.api_key(&["contacts:read", "interactions:read"]).await;
        let page = json_of(
            app.request_as(&both, Method::GET, &format!("/v1/contacts/{pat}/timeline"))
                .send()
                .await
                .unwrap(),
            StatusCode::OK,
        )
        .await;
        assert_eq!(page["data"].as_array().unwrap().len(), 1);
        let interactions_only = app.api_key(&["interactions:read"]).await;
        let denied = app
            .request_as(
                &interactions_only,
                Method::GET,
                &format!("/v1/accounts/{acme}/timeline"),
            )
            .send()
            .await
            .unwrap();
        problem(denied, StatusCode::FORBIDDEN).await;
    }
);

/// Enrols `contact` in the loyalty programme and earns points `times` times.
async fn loyalty_events(app: &TestApp, contact: &str, times: usize) {
    json_of(
        app.post("/v1/loyalty/members", &json!({"contact_id": contact}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    for i in 0..times {
        let earned = app
            .request(Method::POST, &format!("/v1/loyalty/members/{contact}/earn"))
            .header("idempotency-key", format!("{contact}-{i}"))
            .json(&json!({"points": 100 + i, "reason": "purchase"}))
            .send()
            .await
            .unwrap();
        json_of(earned, StatusCode::CREATED).await;
    }
}

/// How many loyalty events the loyalty API itself lists for a member.
async fn loyalty_count(app: &TestApp, contact: &str) -> usize {
    let ledger = all_pages(
        app,
        &format!("/v1/loyalty/members/{contact}/ledger?limit=200"),
    )
    .await;
    let tiers = all_pages(
        app,
        &format!("/v1/loyalty/members/{contact}/tier-changes?limit=200"),
    )
    .await;
    ledger.len() + tiers.len()
}

db_test!(interactions_and_loyalty_events_page_as_one_stream, |app| {
    let acme = account(&app, "Acme").await;
    let pat = contact(&app, Some(&acme)).await;
    let ch = channel(&app, "phone", "Hotline").await;
    let mut interactions = Vec::new();
    for hours in [-30.0, -2.0, -1.0, 1.0, 2.0] {
        let at = app.days_from_now(hours / 24.0);
        interactions.push(logged(&app, &ch, json!({"contact_id": pat, "occurred_at": at})).await);
    }
    loyalty_events(&app, &pat, 4).await;
    let loyalty = loyalty_count(&app, &pat).await;
    assert!(loyalty >= 5, "four earnings and the enrolment");

    for limit in [1, 2, 3, 50] {
        let items = all_pages(&app, &format!("/v1/contacts/{pat}/timeline?limit={limit}")).await;
        assert_eq!(items.len(), interactions.len() + loyalty, "limit={limit}");
        let mut sorted = items.clone();
        newest_first(&mut sorted);
        assert_eq!(ids(&items), ids(&sorted), "newest first, limit={limit}");
        let mut unique = ids(&items);
        unique.dedup();
        assert_eq!(unique.len(), items.len(), "nothing repeated, limit={limit}");
        let kinds: Vec<&str> = items.iter().map(|i| i["kind"].as_str().unwrap()).collect();
        assert_eq!(
            kinds.iter().filter(|k| **k == "interaction").count(),
            interactions.len()
        );
        // The two interactions ahead of now come first, then the loyalty events of just now.
        assert_eq!(&kinds[..3], ["interaction", "interaction", "loyalty"]);
    }

    let only = all_pages(
        &app,
        &format!("/v1/contacts/{pat}/timeline?kind=loyalty&limit=2"),
    )
    .await;
    assert_eq!(only.len(), loyalty);
    let earn = only.iter().find(|i| i["type"] == "earn").unwrap();
    assert_eq!(earn["channel"], Value::Null);
    assert_eq!(earn["contact_id"], pat.as_str());
    assert!(
        earn["summary"].as_str().unwrap().contains("points"),
        "{earn}"
    );
    json_of(
        app.get(earn["link"].as_str().unwrap()).await,
        StatusCode::OK,
    )
    .await;
    let joined = only.iter().find(|i| i["type"] == "tier_change").unwrap();
    json_of(
        app.get(joined["link"].as_str().unwrap()).await,
        StatusCode::OK,
    )
    .await;

    // The account's timeline holds its contacts' loyalty events too.
    let account_items = all_pages(&app, &format!("/v1/accounts/{acme}/timeline?limit=4")).await;
    assert_eq!(account_items.len(), interactions.len() + loyalty);
});

db_test!(
    callers_who_cannot_read_loyalty_do_not_see_its_events,
    |app| {
        let pat = contact(&app, None).await;
        let ch = channel(&app, "phone", "Hotline").await;
        logged(&app, &ch, json!({"contact_id": pat})).await;
        loyalty_events(&app, &pat, 1).await;
        let path = format!("/v1/contacts/{pat}/timeline");
        let no_loyalty = app.api_key(&["contacts:read", "interactions:read"]).await;
        let page = json_of(
            app.request_as(&no_loyalty, Method::GET, &path)
                .send()
                .await
                .unwrap(),
            StatusCode::OK,
        )
        .await;
        assert!(
            page["data"]
                .as_array()
                .unwrap()
                .iter()
                .all(|i| i["kind"] == "interaction")
        );
        let everything = app
            .api_key(&["contacts:read", "interactions:read", "loyalty:read"])
            .await;
        let page = json_of(
            app.request_as(&everything, Method::GET, &path)
                .send()
                .await
                .unwrap(),
            StatusCode::OK,
        )
        .await;
        assert!(
            page["data"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["kind"] == "loyalty")
        );
    }
);
