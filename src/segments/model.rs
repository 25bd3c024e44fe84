use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sqlx::types::Json;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use super::filter::{self, Members};
use crate::{
    auth::Area,
    choice,
    http::{
        ApiError, FieldError,
        check::Check,
        patch::{MergePatch, Patch},
    },
};

choice! {
    /// What a segment's members are: contacts or accounts.
    pub enum SegmentEntity {
        Contacts = "contacts",
        Accounts = "accounts",
    }
}

impl SegmentEntity {
    /// The area whose read access a segment's members need.
    pub fn area(self) -> Area {
        match self {
            SegmentEntity::Contacts => Area::Contacts,
            SegmentEntity::Accounts => Area::Accounts,
        }
    }
}

/// A saved filter over contacts or accounts: its members are what the
/// entity's list returns for the filter, at the time they are read.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01937ca0-0000-7000-8000-000000000001", "name": "German customers at key accounts",
    "entity": "contacts", "filter": {"lifecycle_stage": "customer", "country": "DE", "key_account": true},
    "member_count": 42, "counted_at": "2027-01-15T08:30:00Z",
    "created_by": "01937c5e-8f3a-7c4e-9b1a-2f6d8e4c1a20", "version": 1,
    "created_at": "2026-12-01T09:00:00Z", "updated_at": "2026-12-01T09:00:00Z"
}))]
pub struct Segment {
    pub id: Uuid,
    pub name: String,
    /// `contacts` or `accounts`; it never changes.
    pub entity: SegmentEntity,
    /// The list filters of `entity`, as saved: the query parameters of `GET /v1/contacts` or
    /// `GET /v1/accounts` that choose rows, as a JSON object.
    #[schema(value_type = Object)]
    pub filter: Map<String, Value>,
    /// How many records match the filter, counted when the segment is read (a single segment's `GET`, and the
    /// answer to a create or update), so it is never stale. `null` in the list of segments, and for a caller who
    /// cannot read the entity's area.
    pub member_count: Option<i64>,
    /// When `member_count` was counted (the time of the request); `null` with it.
    pub counted_at: Option<DateTime<Utc>>,
    /// The user who created the segment (`null` for an API key).
    pub created_by: Option<Uuid>,
    /// Increases on every change; sent as the `ETag`.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SegmentRow {
    pub id: Uuid,
    pub name: String,
    pub entity: SegmentEntity,
    pub filter: Json<Map<String, Value>>,
    pub created_by: Option<Uuid>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub const COLUMNS: &str = "id, name, entity, filter, created_by, version, created_at, updated_at";

impl SegmentRow {
    /// The segment, not counted.
    pub fn into_segment(self) -> Segment {
        Segment {
            id: self.id,
            name: self.name,
            entity: self.entity,
            filter: self.filter.0,
            member_count: None,
            counted_at: None,
            created_by: self.created_by,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }

    /// The segment as a create would have sent it (what a patch applies to).
    pub fn to_input(&self) -> SegmentIn {
        SegmentIn {
            name: self.name.clone(),
            entity: self.entity.as_str().to_string(),
            filter: self.filter.0.clone(),
        }
    }
}

/// A new segment.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "German customers at key accounts", "entity": "contacts",
    "filter": {"lifecycle_stage": "customer", "country": "DE", "key_account": true}
}))]
pub struct SegmentIn {
    /// 1–200 characters.
    #[validate(length(min = 1, max = 200))]
    pub name: String,
    /// `contacts` or `accounts`; it cannot be changed later.
    #[schema(value_type = SegmentEntity)]
    #[validate(custom(function = "SegmentEntity::validate"))]
    pub entity: String,
    /// The filters of the entity's list (`GET /v1/contacts` or `GET /v1/accounts`), named and written as its
    /// query parameters: `{"lifecycle_stage": "customer", "country": "DE", "tag": "vip"}`. Values are strings as
    /// in a query string; JSON booleans and numbers are taken as their text (`"key_account": true`). `null` is
    /// no filter. Paging and presentation parameters (`limit`, `cursor`, `sort`, `include_total`, `expand`) are
    /// not filters. An unknown name or a value the list would refuse is a 422 naming `filter.<name>`. `{}`
    /// matches every record.
    #[schema(value_type = Object)]
    pub filter: Map<String, Value>,
}

/// A segment's fields, checked and normalised, ready to store.
#[derive(Debug)]
pub struct SegmentFields {
    pub name: String,
    pub entity: SegmentEntity,
    pub filter: Map<String, Value>,
}

impl SegmentIn {
    /// Every rule of a create at once; a patched segment passes them too.
    /// `current` is the entity of the segment being changed, which stays.
    pub fn into_fields(self, current: Option<SegmentEntity>) -> Result<SegmentFields, ApiError> {
        let mut check = Check::validated(&self);
        let name = self.name.trim().to_string();
        if name.is_empty() && !check.has("name") {
            check.fail("name", "required", "must not be blank");
        }
        let entity = SegmentEntity::parse(&self.entity);
        if let (Some(current), Some(entity)) = (current, entity)
            && current != entity
        {
            check.fail(
                "entity",
                "immutable",
                format!(
                    "cannot change (the segment is over {current}): create a new segment over {entity} instead"
                ),
            );
        }
        let filter = filter::normalised(self.filter);
        if let Some(entity) = entity
            && let Err(errors) = Members::parse(entity, &filter)
        {
            for FieldError {
                field,
                code,
                message,
            } in errors
            {
                check.fail(&field, &code, message);
            }
        }
        check.finish()?;
        Ok(SegmentFields {
            name,
            entity: entity.expect("checked above"),
            filter,
        })
    }
}

/// Changes to a segment (JSON merge patch): absent fields stay as they are.
/// `filter` merges member by member (RFC 7396): a member set to `null` removes
/// that filter, the others set theirs; the result must be a valid filter.
/// `entity` cannot change.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
#[schema(example = json!({"name": "Customers in Germany and Austria", "filter": {"country": "AT", "key_account": null}}))]
pub struct SegmentPatch {
    #[schema(value_type = String)]
    pub name: Patch<String>,
    /// Only its current value is accepted.
    #[schema(value_type = SegmentEntity)]
    pub entity: Patch<String>,
    #[schema(value_type = Object)]
    pub filter: Patch<Map<String, Value>>,
}

impl MergePatch<SegmentIn> for SegmentPatch {
    fn merge_into(self, current: SegmentIn, nulls: &mut Vec<FieldError>) -> SegmentIn {
        self.filter.refuse_null("filter", nulls);
        let filter = match self.filter {
            Patch::Null => current.filter.clone(),
            patch => patch.merge(Some(current.filter)).unwrap_or_default(),
        };
        SegmentIn {
            name: self.name.apply_required(current.name, "name", nulls),
            entity: self.entity.apply_required(current.entity, "entity", nulls),
            filter,
        }
    }
}
