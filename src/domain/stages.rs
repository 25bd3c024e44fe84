//! The classifications of the customer record.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where a customer is in its relationship with the firm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LifecycleStage {
    Lead,
    Prospect,
    Customer,
    AtRisk,
    Churned,
}

/// An account's size, from its employee count unless set explicitly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SizeSegment {
    Enterprise,
    MidMarket,
    Small,
}

/// How much an account is worth to the firm, set by the firm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ValueTier {
    High,
    Medium,
    Low,
}

macro_rules! text_enum {
    ($ty:ty { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some(Self::$variant),)+ _ => None }
            }
        }
    };
}

text_enum!(LifecycleStage { Lead => "lead", Prospect => "prospect", Customer => "customer", AtRisk => "at_risk", Churned => "churned" });
text_enum!(SizeSegment { Enterprise => "enterprise", MidMarket => "mid_market", Small => "small" });
text_enum!(ValueTier { High => "high", Medium => "medium", Low => "low" });

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
