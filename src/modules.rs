//! Where modules register their hooks (see `crate::hooks`): one line per
//! module and kind of hook, in the order the hooks run.

use crate::{
    accounts, channels, contacts, engagements, feedback, hooks::Registry, insights, interactions,
    loyalty, preferences, segments, tasks, transactions, webhooks,
};

pub fn registry() -> Registry {
    Registry::default()
        .with(interactions::hooks::Interactions)
        .with(preferences::hooks::Preferences)
        .with(feedback::hooks::Feedback)
        .with(loyalty::repo::hooks::Loyalty)
        .with(engagements::hooks::Engagements)
        .with(transactions::hooks::Transactions)
        .with(tasks::hooks::Tasks)
        .with(insights::hooks::Insights)
        .with_timeline(&interactions::hooks::TIMELINE)
        .with_timeline(&feedback::hooks::TIMELINE)
        .with_timeline(&loyalty::repo::hooks::TIMELINE)
        .with_timeline(&engagements::hooks::TIMELINE)
        .with_timeline(&engagements::hooks::PEOPLE_TIMELINE)
        .with_timeline(&transactions::hooks::TIMELINE)
        .with_timeline(&tasks::hooks::TIMELINE)
        .with_events(&accounts::events::EVENTS)
        .with_events(&contacts::events::EVENTS)
        .with_events(&preferences::events::EVENTS)
        .with_events(&channels::events::EVENTS)
        .with_events(&interactions::events::EVENTS)
        .with_events(&feedback::events::EVENTS)
        .with_events(&loyalty::events::EVENTS)
        .with_events(&engagements::events::EVENTS)
        .with_events(&transactions::events::EVENTS)
        .with_events(&tasks::events::EVENTS)
        .with_events(&segments::events::EVENTS)
        .with_events(&webhooks::EVENTS)
}
