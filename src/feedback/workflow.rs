//! The complaint-handling workflow as plain functions: which kinds follow it,
//! which moves are legal, and what a move records.
//!
//! ```text
//! new ──► acknowledged ──► in_progress ⇄ waiting_on_customer
//!  └──────────────────────►    │   ▲            │
//!                              ▼   │ (reopen)   ▼
//!                           resolved ──► closed
//! ```
//!
//! `waiting_on_customer → resolved` is allowed: a customer's answer often
//! settles the matter, and forcing a detour through `in_progress` would only
//! add a meaningless activity. The resolution clock restarts on leaving
//! `waiting_on_customer`, whichever way.

use crate::choice;

choice! {
    /// Where a complaint or inquiry stands in its handling.
    pub enum FeedbackStatus {
        New = "new",
        Acknowledged = "acknowledged",
        InProgress = "in_progress",
        WaitingOnCustomer = "waiting_on_customer",
        Resolved = "resolved",
        Closed = "closed",
    }
}

choice! {
    /// What a customer told the firm.
    pub enum FeedbackKind {
        Complaint = "complaint",
        Suggestion = "suggestion",
        Praise = "praise",
        Inquiry = "inquiry",
        Survey = "survey",
    }
}

impl FeedbackKind {
    /// Complaints and inquiries are handled through the workflow, with service levels.
    pub fn has_workflow(self) -> bool {
        matches!(self, FeedbackKind::Complaint | FeedbackKind::Inquiry)
    }
}

choice! {
    /// The kinds of feedback that follow the handling workflow and have service levels.
    pub enum WorkflowKind { Complaint = "complaint", Inquiry = "inquiry" }
}

impl FeedbackStatus {
    /// The states a move from `self` may go to.
    pub fn next(self) -> &'static [FeedbackStatus] {
        use FeedbackStatus::*;
        match self {
            New => &[Acknowledged, InProgress],
            Acknowledged => &[InProgress],
            InProgress => &[WaitingOnCustomer, Resolved],
            WaitingOnCustomer => &[InProgress, Resolved],
            Resolved => &[Closed, InProgress],
            Closed => &[InProgress],
        }
    }

    pub fn can_move_to(self, to: FeedbackStatus) -> bool {
        self.next().contains(&to)
    }

    /// Resolved and closed items are done; everything else is open.
    pub fn is_open(self) -> bool {
        !matches!(self, FeedbackStatus::Resolved | FeedbackStatus::Closed)
    }
}

/// What one legal move changes besides the status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Effects {
    /// The first move out of `new`: `first_responded_at` is set.
    pub first_response: bool,
    /// Entering `waiting_on_customer`: the resolution clock stops.
    pub pause: bool,
    /// Leaving `waiting_on_customer`: the clock runs again and the resolution due time moves later by the pause.
    pub resume: bool,
    /// Entering `resolved`: `resolved_at` and the resolution note are set.
    pub resolve: bool,
    /// Entering `closed`.
    pub close: bool,
    /// `resolved`/`closed` → `in_progress`: resolution and closure are cleared.
    pub reopen: bool,
}

pub fn effects(from: FeedbackStatus, to: FeedbackStatus) -> Effects {
    Effects {
        first_response: from == FeedbackStatus::New,
        pause: to == FeedbackStatus::WaitingOnCustomer,
        resume: from == FeedbackStatus::WaitingOnCustomer,
        resolve: to == FeedbackStatus::Resolved,
        close: to == FeedbackStatus::Closed,
        reopen: !from.is_open() && to == FeedbackStatus::InProgress,
    }
}

/// Why a move is refused, for the 409 and 422 answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    NoWorkflow(FeedbackKind),
    Illegal {
        from: FeedbackStatus,
        to: FeedbackStatus,
    },
    NoteRequired,
}

/// Checks a requested move. `note` is the trimmed note, if any.
pub fn check_move(
    kind: FeedbackKind,
    from: Option<FeedbackStatus>,
    to: FeedbackStatus,
    note: Option<&str>,
) -> Result<Effects, Refusal> {
    let Some(from) = from.filter(|_| kind.has_workflow()) else {
        return Err(Refusal::NoWorkflow(kind));
    };
    if !from.can_move_to(to) {
        return Err(Refusal::Illegal { from, to });
    }
    if to == FeedbackStatus::Resolved && note.is_none() {
        return Err(Refusal::NoteRequired);
    }
    Ok(effects(from, to))
}

/// `["acknowledged", "in_progress"]` for the `allowed` member of a 409.
pub fn allowed_names(from: FeedbackStatus) -> Vec<&'static str> {
    from.next().iter().map(|s| s.as_str()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use FeedbackStatus::*;

    const LEGAL: [(FeedbackStatus, FeedbackStatus); 10] = [
        (New, Acknowledged),
        (New, InProgress),
        (Acknowledged, InProgress),
        (InProgress, WaitingOnCustomer),
        (WaitingOnCustomer, InProgress),
        (InProgress, Resolved),
        (WaitingOnCustomer, Resolved),
        (Resolved, Closed),
        (Resolved, InProgress),
        (Closed, InProgress),
    ];

    #[test]
    fn exactly_the_listed_moves_are_legal() {
        for from in FeedbackStatus::ALL {
            for to in FeedbackStatus::ALL {
                let legal = LEGAL.contains(&(*from, *to));
                assert_eq!(from.can_move_to(*to), legal, "{from} → {to}");
            }
        }
    }

    #[test]
    fn only_complaints_and_inquiries_have_a_workflow() {
        for kind in FeedbackKind::ALL {
            let result = check_move(*kind, Some(New), Acknowledged, None);
            assert_eq!(result.is_ok(), kind.has_workflow(), "{kind}");
        }
        assert_eq!(
            check_move(FeedbackKind::Praise, None, InProgress, None),
            Err(Refusal::NoWorkflow(FeedbackKind::Praise))
        );
    }

    #[test]
    fn resolving_needs_a_note() {
        assert_eq!(
            check_move(FeedbackKind::Complaint, Some(InProgress), Resolved, None),
            Err(Refusal::NoteRequired)
        );
        assert!(
            check_move(
                FeedbackKind::Complaint,
                Some(InProgress),
                Resolved,
                Some("refunded")
            )
            .is_ok()
        );
        // An illegal move is reported as such even without a note.
        assert_eq!(
            check_move(FeedbackKind::Inquiry, Some(New), Resolved, None),
            Err(Refusal::Illegal {
                from: New,
                to: Resolved
            })
        );
    }

    #[test]
    fn moves_record_their_effects() {
        assert!(effects(New, Acknowledged).first_response);
        assert!(effects(New, InProgress).first_response);
        assert!(!effects(Acknowledged, InProgress).first_response);
        assert!(effects(InProgress, WaitingOnCustomer).pause);
        let back = effects(WaitingOnCustomer, Resolved);
        assert!(back.resume && back.resolve && !back.pause);
        assert!(effects(Resolved, Closed).close);
        assert!(effects(Resolved, InProgress).reopen);
        assert!(effects(Closed, InProgress).reopen);
        assert!(!effects(WaitingOnCustomer, InProgress).reopen);
    }

    #[test]
    fn allowed_lists_the_next_states() {
        assert_eq!(allowed_names(New), ["acknowledged", "in_progress"]);
        assert_eq!(allowed_names(Closed), ["in_progress"]);
    }
}
