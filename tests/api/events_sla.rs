//! Service-level events come from the clock: once each, whichever node sees
//! the moment first.

use chrono::TimeDelta;
use serde_json::json;

use crate::{common::feedback::feedback, events::read_feed};

db_test!(
    a_complaint_going_at_risk_then_breached_emits_each_event_once,
    |app| {
        // Normal priority: a first response is due 24 hours after receipt, at
        // risk once less than a fifth of that (4.8 hours) is left.
        let complaint = feedback(&app, json!({"priority": "normal"})).await;
        let node = app.another_node(|_| {}).await;
        app.advance_clock(TimeDelta::hours(20)).await;
        let (events, _) = read_feed(
            &app,
            &app.admin_token,
            "feedback.sla_at_risk,feedback.sla_breached",
            1,
        )
        .await;
        assert_eq!(events[0]["type"], "feedback.sla_at_risk");
        assert_eq!(events[0]["data"]["id"], complaint["id"]);
        assert_eq!(events[0]["data"]["sla_state"], "at_risk");
        assert_eq!(events[0]["actor"]["type"], "system");

        app.advance_clock(TimeDelta::hours(5)).await;
        let (events, _) = read_feed(
            &app,
            &app.admin_token,
            "feedback.sla_at_risk,feedback.sla_breached",
            2,
        )
        .await;
        assert_eq!(events[1]["type"], "feedback.sla_breached");
        assert_eq!(events[1]["data"]["sla_state"], "breached");
        // Later ticks, on either node, add nothing.
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        let (events, _) = read_feed(
            &app,
            &app.admin_token,
            "feedback.sla_at_risk,feedback.sla_breached",
            2,
        )
        .await;
        assert_eq!(events.len(), 2, "{events:?}");
        node.stop().await;
    }
);

db_test!(an_item_that_skips_at_risk_is_only_breached, |app| {
    feedback(&app, json!({"priority": "urgent"})).await;
    app.advance_clock(TimeDelta::days(20)).await;
    let (events, _) = read_feed(
        &app,
        &app.admin_token,
        "feedback.sla_at_risk,feedback.sla_breached",
        1,
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (events_later, _) = read_feed(
        &app,
        &app.admin_token,
        "feedback.sla_at_risk,feedback.sla_breached",
        1,
    )
    .await;
    assert_eq!(events[0]["type"], "feedback.sla_breached");
    assert_eq!(events_later.len(), 1);
});
