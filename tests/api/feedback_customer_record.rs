//! Feedback in the customer record: contact and account timelines, contact merges and erasures, and the
//! person export.

use crate::common::feedback::*;
use crate::common::records::*;
use crate::common::*;
use reqwest::StatusCode;
use serde_json::json;

db_test!(
    feedback_appears_in_contact_and_account_timelines_ordered_with_interactions,
    |app| {
        let acme = account(&app, "Acme").await;
        let pat = contact(&app, Some(&acme)).await;
        let ch = channel(&app, "phone", "Hotline").await;
        let call = logged(
            &app,
            &ch,
            json!({"contact_id": pat, "subject": "Call", "occurred_at": app.days_from_now(-3.0)}),
        )
        .await;
        let complaint = feedback(&app, json!({"contact_id": pat, "channel_id": ch, "received_at": app.hours_ago(48.0), "text": "Late report"})).await;
        let later_call = logged(
            &app,
            &ch,
            json!({"contact_id": pat, "subject": "Follow-up", "occurred_at": app.days_from_now(-1.0)}),
        )
        .await;
        let score = survey(
            &app,
            json!({"account_id": acme, "nps": 9, "received_at": app.hours_ago(1.0)}),
        )
        .await;
        let contact_items = all_pages(&app, &format!("/v1/contacts/{pat}/timeline?limit=1")).await;
        assert_eq!(
            ids(&contact_items),
            [id(&later_call), id(&complaint), id(&call)]
        );
        let fb_item = &contact_items[1];
        assert_eq!(fb_item["kind"], "feedback");
        assert_eq!(fb_item["type"], "complaint");
        assert_eq!(fb_item["summary"], "Late report");
        assert_eq!(fb_item["link"], path(&complaint));
        assert_eq!(fb_item["channel"]["name"], "Hotline");
        let account_items = all_pages(&app, &format!("/v1/accounts/{acme}/timeline?limit=2")).await;
        assert_eq!(
            ids(&account_items),
            [id(&score), id(&later_call), id(&complaint), id(&call)]
        );
        assert_eq!(account_items[0]["summary"], "NPS 9");
        let only_feedback =
            all_pages(&app, &format!("/v1/accounts/{acme}/timeline?kind=feedback")).await;
        assert_eq!(ids(&only_feedback), [id(&score), id(&complaint)]);
    }
);

db_test!(merging_contacts_moves_feedback_to_the_survivor, |app| {
    let survivor = contact(&app, None).await;
    let duplicate = contact(&app, None).await;
    let item = feedback(&app, json!({"contact_id": duplicate})).await;
    let body = json!({"duplicate_id": duplicate});
    json_of(
        app.post(&format!("/v1/contacts/{survivor}/merge"), &body)
            .await,
        StatusCode::OK,
    )
    .await;
    let after = json_of(app.get(&path(&item)).await, StatusCode::OK).await;
    assert_eq!(after["contact_id"], survivor.as_str());
    assert_eq!(
        listed(&app, &format!("contact_id={survivor}")).await,
        [id(&item)]
    );
});

db_test!(
    erasing_a_contact_erases_feedback_text_and_notes_but_keeps_scores,
    |app| {
        let pat = contact(&app, None).await;
        let other = contact(&app, None).await;
        let item = feedback(&app, json!({"contact_id": pat, "csat": 2, "nps": 3, "text": "Mei Chen, call me on +86 138 1234 5678"})).await;
        let item = walk(&app, &item, &["in_progress", "resolved"]).await;
        let url = format!("{}/activities", path(&item));
        json_of(
            app.post(&url, &json!({"note": "Spoke to Mei"})).await,
            StatusCode::CREATED,
        )
        .await;
        let kept = feedback(&app, json!({"contact_id": other, "text": "Keep me"})).await;
        json_of(
            app.post(&format!("/v1/contacts/{pat}/erase"), &json!({}))
                .await,
            StatusCode::OK,
        )
        .await;
        let after = json_of(app.get(&path(&item)).await, StatusCode::OK).await;
        assert_eq!(after["text"], "[erased]");
        assert_eq!(after["resolution"], "[erased]");
        assert_eq!(
            (after["csat"].as_i64(), after["nps"].as_i64()),
            (Some(2), Some(3))
        );
        assert_eq!(after["status"], "resolved");
        for activity in activities(&app, &item).await {
            assert!(
                activity["note"].is_null() || activity["note"] == "[erased]",
                "{activity}"
            );
        }
        assert_eq!(
            json_of(app.get(&path(&kept)).await, StatusCode::OK).await["text"],
            "Keep me"
        );
        // Nothing new is recorded for an erased person.
        let body = problem(
            post_feedback(&app, json!({"contact_id": pat})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(body["errors"][0]["code"], "erased");
    }
);

db_test!(
    the_person_export_includes_feedback_and_its_activities,
    |app| {
        let pat = contact(&app, None).await;
        let item = feedback(&app, json!({"contact_id": pat})).await;
        moved(&app, &item, "acknowledged").await;
        let export = json_of(
            app.get(&format!("/v1/contacts/{pat}/export")).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(ids(export["feedback"].as_array().unwrap()), [id(&item)]);
        assert_eq!(
            export["feedback_activities"][0]["to_status"],
            "acknowledged"
        );
    }
);
