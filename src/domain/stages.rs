//! The classifications of the customer record.

crate::choice! {
    /// Where a customer is in its relationship with the firm.
    pub enum LifecycleStage {
        Lead = "lead",
        Prospect = "prospect",
        Customer = "customer",
        AtRisk = "at_risk",
        Churned = "churned",
    }
}

crate::choice! {
    /// An account's size, from its employee count unless set explicitly.
    pub enum SizeSegment {
        Enterprise = "enterprise",
        MidMarket = "mid_market",
        Small = "small",
    }
}

crate::choice! {
    /// How much an account is worth to the firm: set by hand, or computed from its revenue by the insights refresh.
    pub enum ValueTier {
        High = "high",
        Medium = "medium",
        Low = "low",
    }
}

/// ≥ 1000 employees: enterprise; 100–999: mid-market; fewer: small.
pub fn size_segment_for(employee_count: i64) -> SizeSegment {
    match employee_count {
        n if n >= 1000 => SizeSegment::Enterprise,
        n if n >= 100 => SizeSegment::MidMarket,
        _ => SizeSegment::Small,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_boundaries() {
        assert_eq!(size_segment_for(0), SizeSegment::Small);
        assert_eq!(size_segment_for(99), SizeSegment::Small);
        assert_eq!(size_segment_for(100), SizeSegment::MidMarket);
        assert_eq!(size_segment_for(999), SizeSegment::MidMarket);
        assert_eq!(size_segment_for(1000), SizeSegment::Enterprise);
    }

    #[test]
    fn text_round_trips() {
        for s in [
            LifecycleStage::Lead,
            LifecycleStage::AtRisk,
            LifecycleStage::Churned,
        ] {
            assert_eq!(LifecycleStage::parse(s.as_str()), Some(s));
        }
        assert_eq!(
            SizeSegment::parse("mid_market"),
            Some(SizeSegment::MidMarket)
        );
        assert_eq!(ValueTier::parse("gold"), None);
    }
}
