//! `GET/PUT /v1/service-levels/calendar`: the working calendar resolution
//! targets count business days in, stored as one row.

use std::collections::BTreeSet;

use actix_web::{HttpRequest, HttpResponse, get, put, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use super::calendar::{WEEKDAYS, WorkCalendar, parse_time_zone, parse_weekday};
use crate::{
    audit::{self, Actor, Change},
    auth::{Area, Level, Principal},
    db::{Db, now},
    http::{ApiError, ApiResult, FieldError, ValidatedJson, etag, ok_versioned, responses::*},
    on_tx,
};
use crate::{db::On, on};

/// The most holidays or extra working days a calendar holds (decades of them).
pub const MAX_DATES: usize = 2000;

/// The working calendar.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "time_zone": "Asia/Shanghai", "working_days": ["mon", "tue", "wed", "thu", "fri"],
    "holidays": ["2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06", "2026-10-07"],
    "extra_working_days": ["2026-09-27", "2026-10-10"], "version": 2, "updated_at": "2026-09-01T08:00:00Z"
}))]
pub struct Calendar {
    /// The IANA time zone whose local dates are counted, e.g. `Asia/Shanghai`.
    pub time_zone: String,
    /// The working weekdays, Monday first: `mon`, `tue`, `wed`, `thu`, `fri`, `sat`, `sun`.
    pub working_days: Vec<String>,
    /// Public holidays (local dates, `YYYY-MM-DD`), ascending: not working days even on a working weekday.
    #[schema(value_type = Vec<NaiveDate>)]
    pub holidays: Vec<String>,
    /// Make-up working days (local dates), ascending: working days even on a weekend or holiday.
    #[schema(value_type = Vec<NaiveDate>)]
    pub extra_working_days: Vec<String>,
    /// Increases on every change; sent as the `ETag`. 0 while the built-in default is in force.
    pub version: i64,
    /// `null` while the built-in default is in force.
    pub updated_at: Option<DateTime<Utc>>,
}

/// A whole new calendar.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "time_zone": "Asia/Shanghai", "working_days": ["mon", "tue", "wed", "thu", "fri"],
    "holidays": ["2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06", "2026-10-07"],
    "extra_working_days": ["2026-09-27", "2026-10-10"]
}))]
pub struct CalendarIn {
    /// An IANA time zone from the tz database, e.g. `Europe/Berlin`, `Asia/Shanghai`, `UTC`.
    pub time_zone: String,
    /// At least one of `mon`, `tue`, `wed`, `thu`, `fri`, `sat`, `sun`; duplicates are ignored.
    pub working_days: Vec<String>,
    /// Public holidays as `YYYY-MM-DD`, up to 2,000; default none.
    #[serde(default)]
    #[schema(value_type = Option<Vec<NaiveDate>>)]
    pub holidays: Vec<String>,
    /// Make-up working days as `YYYY-MM-DD`, up to 2,000; default none. A date may not also be a holiday.
    #[serde(default)]
    #[schema(value_type = Option<Vec<NaiveDate>>)]
    pub extra_working_days: Vec<String>,
}

#[derive(Debug, sqlx::FromRow)]
struct CalendarRow {
    time_zone: String,
    working_days: Json<Vec<String>>,
    holidays: Json<Vec<String>>,
    extra_working_days: Json<Vec<String>>,
    version: i64,
    updated_at: DateTime<Utc>,
}

impl Calendar {
    fn default_calendar() -> Self {
        Self::from_work(&WorkCalendar::default(), 0, None)
    }

    fn from_work(cal: &WorkCalendar, version: i64, updated_at: Option<DateTime<Utc>>) -> Self {
        let dates = |set: &BTreeSet<NaiveDate>| set.iter().map(|d| d.to_string()).collect();
        Calendar {
            time_zone: cal.tz.name().to_string(),
            working_days: WEEKDAYS
                .iter()
                .filter(|(_, day)| cal.working_weekdays[day.num_days_from_monday() as usize])
                .map(|(name, _)| name.to_string())
                .collect(),
            holidays: dates(&cal.holidays),
            extra_working_days: dates(&cal.extra_working_days),
            version,
            updated_at,
        }
    }
}

fn parse_dates(field: &str, texts: &[String], errors: &mut Vec<FieldError>) -> BTreeSet<NaiveDate> {
    if texts.len() > MAX_DATES {
        errors.push(FieldError::new(
            field,
            "too_many",
            format!("may hold at most {MAX_DATES} dates"),
        ));
    }
    let mut out = BTreeSet::new();
    for (i, text) in texts.iter().enumerate() {
        match NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d") {
            Ok(d) => {
                out.insert(d);
            }
            Err(_) => errors.push(FieldError::new(
                format!("{field}[{i}]"),
                "invalid_date",
                "must be a date as YYYY-MM-DD, e.g. 2026-10-01",
            )),
        }
    }
    out
}

/// Checks a calendar and turns it into one to count with.
pub fn parse_calendar(input: &CalendarIn) -> Result<WorkCalendar, ApiError> {
    let mut errors = Vec::new();
    let tz = parse_time_zone(input.time_zone.trim());
    if tz.is_none() {
        errors.push(FieldError::new(
            "time_zone",
            "invalid_time_zone",
            "must be an IANA time zone from the tz database, e.g. Europe/Berlin or Asia/Shanghai",
        ));
    }
    let mut working_weekdays = [false; 7];
    for (i, text) in input.working_days.iter().enumerate() {
        match parse_weekday(text.trim()) {
            Some(day) => working_weekdays[day.num_days_from_monday() as usize] = true,
            None => errors.push(FieldError::new(
                format!("working_days[{i}]"),
                "invalid_weekday",
                "must be one of: mon, tue, wed, thu, fri, sat, sun",
            )),
        }
    }
    if input.working_days.is_empty() {
        errors.push(FieldError::new(
            "working_days",
            "required",
            "must name at least one working weekday, e.g. [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]",
        ));
    }
    let holidays = parse_dates("holidays", &input.holidays, &mut errors);
    let extra_working_days =
        parse_dates("extra_working_days", &input.extra_working_days, &mut errors);
    if let Some(both) = holidays.intersection(&extra_working_days).next() {
        errors.push(FieldError::new(
            "extra_working_days",
            "also_a_holiday",
            format!("{both} is listed both as a holiday and as an extra working day; keep it in one list"),
        ));
    }
    match tz {
        Some(tz) if errors.is_empty() => Ok(WorkCalendar {
            tz,
            working_weekdays,
            holidays,
            extra_working_days,
        }),
        _ => Err(ApiError::validation(errors)),
    }
}

fn to_work(row: &CalendarRow) -> WorkCalendar {
    let input = CalendarIn {
        time_zone: row.time_zone.clone(),
        working_days: row.working_days.0.clone(),
        holidays: row.holidays.0.clone(),
        extra_working_days: row.extra_working_days.0.clone(),
    };
    // Stored calendars were checked on the way in.
    parse_calendar(&input).unwrap_or_default()
}

const SELECT: &str = "SELECT time_zone, working_days, holidays, extra_working_days, version, updated_at FROM service_calendar WHERE id = 'default'";

async fn row<'a>(on: impl Into<On<'a>>) -> Result<Option<CalendarRow>, ApiError> {
    Ok(on!(on.into(), e => sqlx::query_as(SELECT).fetch_optional(e).await)?)
}

/// The calendar in force, as the rules use it (e.g. inside a write, to
/// compute due times).
pub async fn load_work<'a>(on: impl Into<On<'a>>) -> Result<WorkCalendar, ApiError> {
    Ok(row(on).await?.as_ref().map(to_work).unwrap_or_default())
}

async fn load<'a>(on: impl Into<On<'a>>) -> Result<Calendar, ApiError> {
    Ok(match row(on).await? {
        Some(row) => Calendar::from_work(&to_work(&row), row.version, Some(row.updated_at)),
        None => Calendar::default_calendar(),
    })
}

async fn save(
    db: &Db,
    actor: &Actor,
    cal: &WorkCalendar,
    expected: Option<i64>,
) -> Result<Calendar, ApiError> {
    let mut tx = db.begin().await?;
    let current: Option<i64> = on_tx!(&mut tx, c => sqlx::query_scalar(
        "SELECT version FROM service_calendar WHERE id = 'default'"
    ).fetch_optional(&mut **c).await)?;
    let version = current.unwrap_or(0);
    etag::check(expected, version)?;
    let before = load(&mut tx).await?;
    let now = now();
    let out = Calendar::from_work(cal, version + 1, Some(now));
    let (days, holidays, extra) = (
        Json(&out.working_days),
        Json(&out.holidays),
        Json(&out.extra_working_days),
    );
    // Both statements are conditional, so of two concurrent saves of one version only one applies.
    let done = if current.is_none() {
        on_tx!(&mut tx, c => sqlx::query(
            "INSERT INTO service_calendar (id, time_zone, working_days, holidays, extra_working_days, version, updated_at)
             VALUES ('default', $1, $2, $3, $4, 1, $5) ON CONFLICT (id) DO NOTHING"
        ).bind(&out.time_zone).bind(days).bind(holidays).bind(extra).bind(now)
         .execute(&mut **c).await.map(|r| r.rows_affected()))?
    } else {
        on_tx!(&mut tx, c => sqlx::query(
            "UPDATE service_calendar SET time_zone = $1, working_days = $2, holidays = $3, extra_working_days = $4,
                version = version + 1, updated_at = $5
             WHERE id = 'default' AND version = $6"
        ).bind(&out.time_zone).bind(days).bind(holidays).bind(extra).bind(now).bind(version)
         .execute(&mut **c).await.map(|r| r.rows_affected()))?
    };
    if done == 0 {
        return Err(etag::stale(version + 1));
    }
    audit::record(
        &mut tx,
        actor,
        "update",
        "service_calendar",
        Uuid::nil(),
        Change::diff(&before, &out),
    )
    .await?;
    tx.commit().await?;
    Ok(out)
}

/// Get the working calendar
///
/// The calendar resolution targets count business days in. Until it is first saved, the built-in default is in
/// force: Monday to Friday in UTC, no holidays (`version` 0).
///
/// Business days count whole days (there are no working hours): a resolution target of N business days ends at
/// local midnight after the N-th working day that follows the day of receipt. A date is a working day when it is
/// an extra working day, else when it is not a holiday and falls on a working weekday.
#[utoipa::path(
    security(("bearer" = ["feedback:read"])),
    tag = "feedback",
    responses(
        (status = 200, description = "The calendar in force.", body = Calendar, headers(("ETag" = String))),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    )
)]
#[get("/service-levels/calendar")]
pub async fn get_calendar(
    state: web::Data<crate::state::AppState>,
    principal: Principal,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Feedback, Level::Read)?;
    let cal = load(&state.db).await?;
    Ok(ok_versioned(cal.version, cal))
}

/// Replace the working calendar
///
/// Admins only. Applies to due times computed from now on (new items, and items whose priority or channel
/// changes); due times already set stay as they are.
#[utoipa::path(
    security(("bearer" = ["admin"])),
    tag = "feedback",
    request_body = CalendarIn,
    params(("If-Match" = Option<String>, Header, description = "The ETag of your last read (\"0\" before the first save); 412 if the calendar changed since.")),
    responses(
        (status = 200, description = "The saved calendar.", body = Calendar, headers(("ETag" = String))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 412, response = PreconditionFailed),
        (status = 422, response = Unprocessable),
    )
)]
#[put("/service-levels/calendar")]
pub async fn put_calendar(
    state: web::Data<crate::state::AppState>,
    principal: Principal,
    req: HttpRequest,
    body: ValidatedJson<CalendarIn>,
) -> ApiResult<HttpResponse> {
    principal.require(Area::Settings, Level::Admin)?;
    let cal = parse_calendar(&body.0)?;
    let actor = Actor::new(&principal, &req);
    let expected = etag::expected_version(&req)?;
    let saved = state
        .db
        .write(|db| async move { save(&db, &actor, &cal, expected).await })
        .await?;
    Ok(ok_versioned(saved.version, saved))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn input(v: serde_json::Value) -> CalendarIn {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn a_valid_calendar_round_trips() {
        let cal = parse_calendar(&input(json!({
            "time_zone": "Asia/Shanghai", "working_days": ["fri", "mon", "mon"],
            "holidays": ["2026-10-02", "2026-10-01"], "extra_working_days": ["2026-10-10"]
        })))
        .unwrap();
        let out = Calendar::from_work(&cal, 1, None);
        assert_eq!(out.working_days, ["mon", "fri"]);
        assert_eq!(out.holidays, ["2026-10-01", "2026-10-02"]);
        assert_eq!(out.time_zone, "Asia/Shanghai");
    }

    #[test]
    fn every_mistake_is_reported_with_its_field() {
        let err = parse_calendar(&input(json!({
            "time_zone": "Mars/Olympus", "working_days": ["monday"],
            "holidays": ["2026-13-01", "2026-10-10"], "extra_working_days": ["2026-10-10"]
        })))
        .unwrap_err();
        let fields: Vec<String> = err
            .to_problem()
            .errors
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "extra_working_days",
                "holidays[0]",
                "time_zone",
                "working_days[0]"
            ]
        );
    }

    #[test]
    fn a_calendar_needs_a_working_weekday() {
        let err =
            parse_calendar(&input(json!({"time_zone": "UTC", "working_days": []}))).unwrap_err();
        assert_eq!(err.to_problem().errors[0].field, "working_days");
    }

    #[test]
    fn the_default_is_monday_to_friday_in_utc() {
        let cal = Calendar::default_calendar();
        assert_eq!(cal.time_zone, "UTC");
        assert_eq!(cal.working_days, ["mon", "tue", "wed", "thu", "fri"]);
        assert_eq!(cal.version, 0);
        assert_eq!(
            super::super::calendar::weekday_name(chrono::Weekday::Mon),
            "mon"
        );
    }
}
