//! The list filters on stored insights, shared by the account and contact lists.

use super::model::{LoyaltyStatus, NpsClass, RfmSegment};
use crate::{
    db::sql::{Arg, Filters},
    http::ApiError,
};

#[derive(Debug, Clone, Default)]
pub struct InsightFilter {
    pub loyalty_status: Option<LoyaltyStatus>,
    pub rfm_segment: Option<RfmSegment>,
    pub nps_class: Option<NpsClass>,
    pub churn_risk_gte: Option<i64>,
}

impl InsightFilter {
    pub fn new(
        loyalty_status: Option<LoyaltyStatus>,
        rfm_segment: Option<RfmSegment>,
        nps_class: Option<NpsClass>,
        churn_risk_gte: Option<i64>,
    ) -> Result<Self, ApiError> {
        if let Some(risk) = churn_risk_gte.filter(|r| !(0..=100).contains(r)) {
            return Err(ApiError::bad_parameter(
                "churn_risk_gte",
                &risk.to_string(),
                "out_of_range",
                "churn risk runs from 0 to 100",
            ));
        }
        Ok(InsightFilter {
            loyalty_status,
            rfm_segment,
            nps_class,
            churn_risk_gte,
        })
    }

    /// Adds the conditions on the columns of `table` (the list's alias).
    pub fn apply(&self, f: &mut Filters, table: &str) {
        if let Some(v) = self.loyalty_status {
            f.when(
                &format!("{table}.loyalty_status = {{}}"),
                Arg::Text(v.as_str().into()),
            );
        }
        if let Some(v) = self.rfm_segment {
            f.when(
                &format!("{table}.rfm_segment = {{}}"),
                Arg::Text(v.as_str().into()),
            );
        }
        if let Some(v) = self.nps_class {
            f.when(
                &format!("{table}.nps_class = {{}}"),
                Arg::Text(v.as_str().into()),
            );
        }
        if let Some(v) = self.churn_risk_gte {
            f.when(&format!("{table}.churn_risk >= {{}}"), Arg::Int(v));
        }
    }
}
