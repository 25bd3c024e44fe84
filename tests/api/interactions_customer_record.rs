//! What contact merge, erasure and export do with interactions.

use crate::common::records::*;
use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

db_test!(
    merging_contacts_moves_interactions_and_consent_to_the_survivor,
    |app| {
        let ch = channel(&app, "email", "Mail").await;
        let (survivor, duplicate) = (contact(&app, None).await, contact(&app, None).await);
        let it = logged(
            &app,
            &ch,
            json!({"contact_id": duplicate, "subject": "Hello"}),
        )
        .await;
        consent(&app, &duplicate, "email", true).await;
        put_preferences(
            &app,
            &duplicate,
            json!({"language": "de", "weekly_marketing_cap": 3}),
        )
        .await;
        let merged = app
            .post(
                &format!("/v1/contacts/{survivor}/merge"),
                &json!({"duplicate_id": duplicate}),
            )
            .await;
        assert_eq!(
            merged.status(),
            StatusCode::OK,
            "{}",
            merged.text().await.unwrap()
        );
        let moved = json_of(
            app.get(&format!("/v1/interactions/{}", id(&it))).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(moved["contact_id"], survivor.as_str());
        let prefs = json_of(
            app.get(&format!("/v1/contacts/{survivor}/preferences"))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(prefs["language"], "de");
        assert_eq!(prefs["consents"][0]["granted"], true);
        // The survivor may now be marketed to on email.
        logged(
            &app,
            &ch,
            json!({"contact_id": survivor, "direction": "outbound", "purpose": "marketing"}),
        )
        .await;
    }
);

db_test!(
    erasing_a_contact_anonymises_their_interactions_and_keeps_consent_evidence,
    |app| {
        let ch = channel(&app, "phone", "Hotline").await;
        let acme = account(&app, "Acme").await;
        let pat = contact(&app, Some(&acme)).await;
        let it = logged(&app, &ch, json!({"contact_id": pat, "subject": "Health question", "summary": "Asked about ...", "duration_seconds": 90})).await;
        let bare = logged(&app, &ch, json!({"contact_id": pat})).await;
        consent(&app, &pat, "phone", true).await;
        put_preferences(
            &app,
            &pat,
            json!({"language": "fr", "quiet_hours": {"start": "21:00", "end": "07:00"}}),
        )
        .await;
        json_of(
            app.post(&format!("/v1/contacts/{pat}/erase"), &json!({}))
                .await,
            StatusCode::OK,
        )
        .await;

        let erased = json_of(
            app.get(&format!("/v1/interactions/{}", id(&it))).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(
            (erased["subject"].as_str(), erased["summary"].as_str()),
            (Some("[erased]"), Some("[erased]"))
        );
        assert_eq!(erased["duration_seconds"], 90);
        assert_eq!(erased["account_id"], acme.as_str());
        let untouched = json_of(
            app.get(&format!("/v1/interactions/{}", id(&bare))).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(untouched["subject"], Value::Null);
        let prefs = json_of(
            app.get(&format!("/v1/contacts/{pat}/preferences")).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(
            (prefs["language"].clone(), prefs["version"].as_i64()),
            (Value::Null, Some(0))
        );
        assert_eq!(prefs["consents"][0]["channel_kind"], "phone");
        let history = json_of(
            app.get(&format!("/v1/contacts/{pat}/consents")).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(history["data"].as_array().unwrap().len(), 1);
        let body = problem(
            log(&app, &ch, json!({"contact_id": pat})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(body["errors"][0]["code"], "erased");
        let again = app
            .request(Method::PUT, &format!("/v1/contacts/{pat}/preferences"))
            .json(&json!({"language": "fr"}))
            .send()
            .await
            .unwrap();
        problem(again, StatusCode::CONFLICT).await;
    }
);

db_test!(
    the_person_export_holds_interactions_preferences_and_consent_history,
    |app| {
        let ch = channel(&app, "email", "Mail").await;
        let pat = contact(&app, None).await;
        let it = logged(&app, &ch, json!({"contact_id": pat, "subject": "Hi"})).await;
        consent(&app, &pat, "email", true).await;
        consent(&app, &pat, "email", false).await;
        let export = json_of(
            app.get(&format!("/v1/contacts/{pat}/export")).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(ids(export["interactions"].as_array().unwrap()), [id(&it)]);
        assert_eq!(export["consent_history"].as_array().unwrap().len(), 2);
        assert_eq!(export["preferences"]["consents"][0]["granted"], false);
    }
);
