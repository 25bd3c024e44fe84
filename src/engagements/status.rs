//! An engagement's statuses and the moves between them:
//!
//! ```text
//! proposed → active ⇄ on_hold
//!            active → delivered → closed
//! proposed, active, on_hold → lost
//! ```
//!
//! `closed` and `lost` are final. A create may start in any status (an
//! engagement imported from a PSA system may be long closed); a change of
//! status afterwards must be one of these moves.

use crate::choice;

choice! {
    /// Where an engagement stands.
    pub enum EngagementStatus {
        Proposed = "proposed",
        Active = "active",
        OnHold = "on_hold",
        Delivered = "delivered",
        Closed = "closed",
        Lost = "lost",
    }
}

impl EngagementStatus {
    /// The statuses this one may move to.
    pub fn next(self) -> &'static [EngagementStatus] {
        use EngagementStatus::*;
        match self {
            Proposed => &[Active, Lost],
            Active => &[OnHold, Delivered, Lost],
            OnHold => &[Active, Lost],
            Delivered => &[Closed],
            Closed | Lost => &[],
        }
    }

    pub fn can_move_to(self, to: EngagementStatus) -> bool {
        self.next().contains(&to)
    }

    /// `["active", "lost"]`, for the `allowed` member of a 409.
    pub fn allowed_names(self) -> Vec<&'static str> {
        self.next().iter().map(|s| s.as_str()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::EngagementStatus::{self, *};

    const LEGAL: [(EngagementStatus, EngagementStatus); 8] = [
        (Proposed, Active),
        (Proposed, Lost),
        (Active, OnHold),
        (OnHold, Active),
        (Active, Delivered),
        (Delivered, Closed),
        (Active, Lost),
        (OnHold, Lost),
    ];

    #[test]
    fn exactly_the_listed_moves_are_legal() {
        for from in EngagementStatus::ALL {
            for to in EngagementStatus::ALL {
                assert_eq!(
                    from.can_move_to(*to),
                    LEGAL.contains(&(*from, *to)),
                    "{from} → {to}"
                );
            }
        }
    }

    #[test]
    fn closed_and_lost_are_final() {
        assert!(Closed.allowed_names().is_empty());
        assert!(Lost.allowed_names().is_empty());
        assert_eq!(Proposed.allowed_names(), ["active", "lost"]);
    }
}
