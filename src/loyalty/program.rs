//! The programme's settings and the rules that follow from them: tier
//! standing, points for an amount, when a lot expires.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use utoipa::ToSchema;
use validator::Validate;

pub use super::tiers::{Standing, lot_expiry, points_for_amount, standing, window_start};
use crate::{domain::CurrencyCode, http::FieldError};

/// How many points an amount of money earns: `points` for every
/// `per_amount_minor` minor units of `currency`, rounded down.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"currency": "EUR", "points": 1, "per_amount_minor": 100}))]
pub struct EarnRate {
    /// ISO 4217 code of the currency earnings are posted in.
    pub currency: String,
    /// Points earned for every `per_amount_minor` minor units.
    #[validate(range(min = 1, max = 1_000_000))]
    pub points: i64,
    /// The amount, in minor units (cents), that earns `points`; 100 with
    /// `points: 1` means one point per whole euro.
    #[validate(range(min = 1, max = 1_000_000_000))]
    pub per_amount_minor: i64,
}

/// One tier: members whose tier points reach `min_points` hold it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Silver", "min_points": 1000}))]
pub struct Tier {
    #[validate(length(min = 1, max = 50))]
    pub name: String,
    /// Tier points needed; the first tier must start at 0.
    #[validate(range(min = 0, max = 1_000_000_000_000i64))]
    pub min_points: i64,
}

crate::choice! {
    /// Which points count towards tiers.
    pub enum TierBasis {
        /// All points ever earned (`lifetime_points`).
        Lifetime = "lifetime",
        /// Points earned in the last `tier_window_months` months.
        Rolling = "rolling",
    }
}

/// The loyalty programme's settings.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "name": "Rewards", "earn_rate": {"currency": "EUR", "points": 1, "per_amount_minor": 100},
    "tiers": [{"name": "Member", "min_points": 0}, {"name": "Silver", "min_points": 1000}, {"name": "Gold", "min_points": 5000}],
    "tier_basis": "lifetime", "tier_window_months": null, "expiry_months": 24, "version": 2,
    "created_at": "2026-11-02T09:30:00Z", "updated_at": "2026-11-03T10:00:00Z"
}))]
pub struct Program {
    pub name: String,
    /// Applies to earnings posted as `amount_minor` + `currency`.
    pub earn_rate: EarnRate,
    /// Ascending by `min_points`; the first starts at 0.
    pub tiers: Vec<Tier>,
    pub tier_basis: TierBasis,
    /// With `tier_basis: rolling`, the window in months; otherwise null.
    pub tier_window_months: Option<i64>,
    /// Earned points expire this many months after they were earned; null = never.
    /// A change applies to points earned from then on.
    pub expiry_months: Option<i64>,
    /// Increases on every change; sent as the `ETag`.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The programme's settings, replaced as a whole by `PUT`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "Rewards", "earn_rate": {"currency": "EUR", "points": 1, "per_amount_minor": 100},
    "tiers": [{"name": "Member", "min_points": 0}, {"name": "Silver", "min_points": 1000}, {"name": "Gold", "min_points": 5000}],
    "tier_basis": "rolling", "tier_window_months": 12, "expiry_months": 24
}))]
pub struct ProgramIn {
    #[validate(length(min = 1, max = 100))]
    pub name: String,
    #[validate(nested)]
    pub earn_rate: EarnRate,
    /// 1 to 20 tiers, ascending by `min_points`, the first at 0, names unique.
    #[validate(length(min = 1, max = 20), nested)]
    pub tiers: Vec<Tier>,
    pub tier_basis: TierBasis,
    /// Required (1–120) with `tier_basis: rolling`; must be absent or null with `lifetime`.
    pub tier_window_months: Option<i64>,
    /// 1–120, or null for points that never expire.
    #[validate(range(min = 1, max = 120))]
    pub expiry_months: Option<i64>,
}

#[derive(sqlx::FromRow, Clone)]
pub struct ProgramRow {
    pub name: String,
    pub earn_currency: String,
    pub earn_points: i64,
    pub earn_per_amount_minor: i64,
    pub tiers: Json<Vec<Tier>>,
    pub tier_basis: TierBasis,
    pub tier_window_months: Option<i64>,
    pub expiry_months: Option<i64>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ProgramRow {
    pub fn basis(&self) -> TierBasis {
        self.tier_basis
    }

    pub fn earn_rate(&self) -> EarnRate {
        EarnRate {
            currency: self.earn_currency.clone(),
            points: self.earn_points,
            per_amount_minor: self.earn_per_amount_minor,
        }
    }

    pub fn into_program(self) -> Program {
        Program {
            earn_rate: self.earn_rate(),
            tier_basis: self.basis(),
            name: self.name,
            tiers: self.tiers.0,
            tier_window_months: self.tier_window_months,
            expiry_months: self.expiry_months,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// The programme a fresh install starts with.
pub fn default_program() -> ProgramIn {
    ProgramIn {
        name: "Rewards".into(),
        earn_rate: EarnRate {
            currency: "EUR".into(),
            points: 1,
            per_amount_minor: 100,
        },
        tiers: vec![
            Tier {
                name: "Member".into(),
                min_points: 0,
            },
            Tier {
                name: "Silver".into(),
                min_points: 1000,
            },
            Tier {
                name: "Gold".into(),
                min_points: 5000,
            },
        ],
        tier_basis: TierBasis::Lifetime,
        tier_window_months: None,
        expiry_months: None,
    }
}

/// The rules a programme must follow beyond single-field ranges. Returns the
/// programme normalised (trimmed names, upper-case currency).
pub fn check_program(mut input: ProgramIn) -> Result<ProgramIn, Vec<FieldError>> {
    let mut errors = Vec::new();
    match CurrencyCode::parse(&input.earn_rate.currency) {
        Ok(code) => input.earn_rate.currency = code.as_str().to_string(),
        Err(e) => errors.push(FieldError::new("earn_rate.currency", e.code, e.message)),
    }
    input.name = input.name.trim().to_string();
    if input.name.is_empty() {
        errors.push(FieldError::new("name", "required", "must not be blank"));
    }
    for tier in &mut input.tiers {
        tier.name = tier.name.trim().to_string();
    }
    if input.tiers.first().is_some_and(|t| t.min_points != 0) {
        errors.push(FieldError::new(
            "tiers[0].min_points",
            "must_be_zero",
            "the first tier must start at 0 points",
        ));
    }
    for (i, pair) in input.tiers.windows(2).enumerate() {
        if pair[1].min_points <= pair[0].min_points {
            errors.push(FieldError::new(
                format!("tiers[{}].min_points", i + 1),
                "not_ascending",
                "tiers must be listed in strictly ascending order of min_points",
            ));
        }
    }
    for (i, tier) in input.tiers.iter().enumerate() {
        if tier.name.is_empty() {
            errors.push(FieldError::new(
                format!("tiers[{i}].name"),
                "required",
                "must not be blank",
            ));
        } else if input.tiers[..i]
            .iter()
            .any(|t| t.name.eq_ignore_ascii_case(&tier.name))
        {
            errors.push(FieldError::new(
                format!("tiers[{i}].name"),
                "duplicate",
                "tier names must be unique",
            ));
        }
    }
    match (input.tier_basis, input.tier_window_months) {
        (TierBasis::Rolling, None) => errors.push(FieldError::new(
            "tier_window_months",
            "required",
            "is required with tier_basis rolling (the window in months, 1 to 120)",
        )),
        (TierBasis::Rolling, Some(m)) if !(1..=120).contains(&m) => errors.push(FieldError::new(
            "tier_window_months",
            "range",
            "must be between 1 and 120",
        )),
        (TierBasis::Lifetime, Some(_)) => errors.push(FieldError::new(
            "tier_window_months",
            "not_allowed",
            "must be null with tier_basis lifetime; use tier_basis rolling for a window",
        )),
        _ => {}
    }
    if errors.is_empty() {
        Ok(input)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiers() -> Vec<Tier> {
        default_program().tiers
    }

    #[test]
    fn standing_picks_the_highest_tier_reached() {
        assert_eq!(
            standing(&tiers(), 0),
            Standing {
                tier: "Member".into(),
                next_tier: Some("Silver".into()),
                points_to_next_tier: Some(1000)
            }
        );
        assert_eq!(standing(&tiers(), 999).points_to_next_tier, Some(1));
        assert_eq!(standing(&tiers(), 1000).tier, "Silver");
        assert_eq!(
            standing(&tiers(), 7000),
            Standing {
                tier: "Gold".into(),
                next_tier: None,
                points_to_next_tier: None
            }
        );
    }

    #[test]
    fn points_below_zero_stay_in_the_first_tier() {
        assert_eq!(standing(&tiers(), -5).tier, "Member");
    }

    #[test]
    fn amounts_earn_points_rounded_down() {
        let rate = EarnRate {
            currency: "EUR".into(),
            points: 1,
            per_amount_minor: 100,
        };
        assert_eq!(points_for_amount(&rate, 12_345), Some(123));
        assert_eq!(points_for_amount(&rate, 99), Some(0));
        let generous = EarnRate {
            currency: "EUR".into(),
            points: 3,
            per_amount_minor: 2,
        };
        assert_eq!(points_for_amount(&generous, 5), Some(7));
        let huge = EarnRate {
            currency: "EUR".into(),
            points: 1_000_000,
            per_amount_minor: 1,
        };
        assert_eq!(points_for_amount(&huge, i64::MAX), None);
    }

    #[test]
    fn lots_expire_whole_months_later_or_never() {
        let t: DateTime<Utc> = "2026-01-31T10:00:00Z".parse().unwrap();
        assert_eq!(
            lot_expiry(t, Some(1)).unwrap().to_rfc3339(),
            "2026-02-28T10:00:00+00:00"
        );
        assert_eq!(
            lot_expiry(t, Some(12)).unwrap().to_rfc3339(),
            "2027-01-31T10:00:00+00:00"
        );
        assert_eq!(lot_expiry(t, None), None);
    }

    #[test]
    fn the_default_programme_is_valid() {
        assert!(check_program(default_program()).is_ok());
    }

    #[test]
    fn tiers_must_start_at_zero_ascend_and_have_unique_names() {
        let mut p = default_program();
        p.tiers = vec![
            Tier {
                name: "Base".into(),
                min_points: 10,
            },
            Tier {
                name: "base".into(),
                min_points: 5,
            },
        ];
        let codes: Vec<String> = check_program(p)
            .unwrap_err()
            .into_iter()
            .map(|e| e.code)
            .collect();
        assert!(codes.contains(&"must_be_zero".to_string()));
        assert!(codes.contains(&"not_ascending".to_string()));
        assert!(codes.contains(&"duplicate".to_string()));
    }

    #[test]
    fn a_rolling_basis_needs_a_window_and_lifetime_refuses_one() {
        let mut p = default_program();
        p.tier_basis = TierBasis::Rolling;
        assert_eq!(check_program(p).unwrap_err()[0].field, "tier_window_months");
        let mut p = default_program();
        p.tier_window_months = Some(12);
        assert_eq!(check_program(p).unwrap_err()[0].code, "not_allowed");
        let mut p = default_program();
        p.tier_basis = TierBasis::Rolling;
        p.tier_window_months = Some(12);
        assert!(check_program(p).is_ok());
    }

    #[test]
    fn the_currency_is_normalised_and_checked() {
        let mut p = default_program();
        p.earn_rate.currency = "usd".into();
        assert_eq!(check_program(p).unwrap().earn_rate.currency, "USD");
        let mut p = default_program();
        p.earn_rate.currency = "XYZ".into();
        assert_eq!(check_program(p).unwrap_err()[0].field, "earn_rate.currency");
    }
}
