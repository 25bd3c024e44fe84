//! Where modules register their hooks (see `crate::hooks`): one line per
//! module, in the order the hooks run.

use crate::{feedback, hooks::Registry, interactions, loyalty, preferences};

pub fn registry() -> Registry {
    Registry::default()
        .with(interactions::hooks::Interactions)
        .with(preferences::hooks::Preferences)
        .with(feedback::hooks::Feedback)
        .with(loyalty::repo::hooks::Loyalty)
        .with_timeline(&interactions::hooks::TIMELINE)
        .with_timeline(&feedback::hooks::TIMELINE)
        .with_timeline(&loyalty::repo::hooks::TIMELINE)
}
