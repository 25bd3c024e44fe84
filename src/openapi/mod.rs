//! Assembles the OpenAPI document from the registered handlers (see
//! `app::register`); nothing here lists paths by hand.

use utoipa::{
    Modify, OpenApi,
    openapi::security::{Http, HttpAuthScheme, SecurityScheme},
};

use crate::http::responses::*;

mod links;
pub mod protocol;
pub mod routes_table;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Rapport CRM API",
        description = "Rapport keeps one truthful record of a firm's customers and of every touch with them: \
accounts and contacts, the channels the firm talks to them on and every interaction, feedback with a complaint-handling \
workflow and service levels, a loyalty points programme, and the engagements done for each client with the money \
they paid (transactions).\n\n\
**Authentication.** Send `Authorization: Bearer <token>` with an access token from `POST /v1/auth/token` \
(staff users) or an API key (partner systems, created at `/v1/api-keys`).\n\n\
**Conventions.** JSON in and out; errors are RFC 9457 `application/problem+json`; unknown JSON fields are rejected; \
lists are keyset-paginated with `limit` and an opaque `cursor`; responses carry an `ETag`, and `PATCH`/`DELETE` honour \
`If-Match` (412 when stale); every `POST` accepts an `Idempotency-Key`; every response carries `X-Request-Id`.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
        version = env!("CARGO_PKG_VERSION"),
    ),
    servers((url = "/", description = "The server that serves this document")),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    // Schemas used only by query parameters: utoipa collects the schemas of
    // bodies by itself, but not these.
    components(schemas(
        crate::contacts::export::ExportFormat, crate::http::import::ImportMode,
        crate::feedback::workflow::WorkflowKind,
    ), responses(
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, Gone, PreconditionFailed, PayloadTooLarge,
        UnsupportedMediaType, Unprocessable, PreconditionRequired, Unavailable
    )),
    tags(
        (name = "accounts", description = "Client organisations."),
        (name = "contacts", description = "People, usually at an account: the customer record, with dedupe, import/export and privacy tools."),
        (name = "auth", description = "Sign in, refresh and sign out; who am I."),
        (name = "users", description = "Staff users and their roles (admins only)."),
        (name = "api-keys", description = "Credentials for partner systems (admins only)."),
        (name = "channels", description = "The touchpoints the firm runs (email, phone, chat, events…) and their service-level targets."),
        (name = "interactions", description = "Every touch with a contact or account on a channel. Outbound marketing touches are checked against the contact's consent and weekly cap."),
        (name = "feedback", description = "What customers tell the firm: complaints, suggestions, praise, inquiries and survey answers (CSAT, NPS). \
Complaints and inquiries follow a handling workflow with an activity log and service levels: a first response within 24 hours and \
resolution within 10 business days by default; urgent 4 h / 2 days, high 8 h / 5 days, low 48 h / 15 days. A channel's own targets \
replace these for normal and low items; high and urgent items take the stricter of the channel's and the priority's. Business days \
come from the working calendar and count whole days; time waiting on the customer pauses the resolution clock."),
        (name = "engagements", description = "The work the firm does for a client (a study, a project, a retainer): its status, \
value, dates and the people on it with their roles. Interactions and feedback can name the engagement they belong to."),
        (name = "transactions", description = "Money a client paid (`purchase`) or got back (`refund`), as a billing system \
posts it: append-only (a mistake is corrected by a refund), idempotent per account by `external_id`, and optionally earning \
loyalty points. Accounts and contacts carry the purchase history these build."),
        (name = "tasks", description = "What must happen next: follow-up calls, visits, reviews and greetings, each with a \
deadline (an instant, or a local date in the contact's time zone), an assignee and optional links to a contact, account, \
feedback item and engagement. Recurring tasks create their next occurrence when one is done or cancelled."),
        (name = "insights", description = "What the measurements say about each customer: RFM scores and segment, \
loyalty status with its reasons, satisfaction, churn risk and a computed value tier, kept current by a background job; \
and the settings behind every customer measurement (activity window, at-risk and new-customer thresholds, gross margin, \
base currency)."),
        (name = "segments", description = "Saved filters over contacts or accounts. A segment names an entity \
(`contacts` or `accounts`) and a `filter`: the filters of that entity's list as a JSON object, with the names and values \
of its query parameters, e.g. `{\"lifecycle_stage\": \"customer\", \"country\": \"DE\", \"key_account\": true}` \
for the contacts `GET /v1/contacts?lifecycle_stage=customer&country=DE&key_account=true` returns. The members are \
always what that list returns now (`GET /v1/segments/{id}/members`, paged the same way, or the whole set streamed as \
CSV or NDJSON from `/export`), and `GET /v1/segments/{id}` counts them (`member_count`). Reading members needs the \
entity's read access too (`contacts:read` or `accounts:read`)."),
        (name = "metrics", description = "Figures computed by the database over a period `[from, to)` of at most five years (1,830 days; a longer one is a 400)."),
        (name = "audit", description = "Who changed what, and when."),
        (name = "loyalty", description = "The loyalty points programme: settings, members, an append-only ledger that can never be overdrawn or double-counted (ledger writes require an `Idempotency-Key`), tiers, rewards and redemptions."),
        (name = "events", description = "What changed, for partner systems: every change to CRM data is an event, written in the \
same transaction as the change (a change that is rolled back emits nothing). Read them from the changes feed, or have them \
pushed to a webhook endpoint. An event is `{id, type, occurred_at, data, actor}`; `data` is the resource as `GET` returns \
it to an admin (only its `id` for `*.deleted` and `*.erased`; erasing a contact reduces their earlier events to ids). \
The event types:"),
        (name = "webhooks", description = "Endpoints that receive events as signed HTTP POSTs (Standard Webhooks), with their \
deliveries and attempts (admins only)."),
        (name = "operations", description = "Health, readiness and metrics."),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut scheme = Http::new(HttpAuthScheme::Bearer);
        scheme.bearer_format = Some("JWT or API key".into());
        scheme.description = Some(
            "An access token from POST /v1/auth/token (a JWT, 15 minutes), or an API key (`rpk_…`) \
             limited to its scopes.\n\n\
             Each operation's security requirement names the access it needs: `<area>:read` (viewers and \
             up, keys with any scope of the area), `<area>:write` (agents and up: create and edit), \
             `<area>:manage` (managers and admins: delete, merge, import, erase, person export, loyalty \
             adjust/reverse/cancel), or `admin` (admins only; no API key). A key's scope implies the \
             ones below it (`manage` ⊃ `write` ⊃ `read`)."
                .into(),
        );
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

/// Adds what the shared HTTP layers do to every operation (see [`protocol`]).
/// The modules' sections of the person export are described here too.
pub fn finish(
    api: utoipa::openapi::OpenApi,
    hooks: &crate::hooks::Registry,
) -> utoipa::openapi::OpenApi {
    let mut doc = serde_json::to_value(&api).expect("the OpenAPI document serializes");
    hooks.describe_export(&mut doc, "PersonExport", "exported_at");
    hooks.describe_events(&mut doc, "events");
    protocol::apply(&mut doc);
    serde_json::from_value(doc).expect("the finished document is still an OpenAPI document")
}

/// The document as served at `/openapi.json` and committed at `openapi/openapi.json`.
pub fn document() -> utoipa::openapi::OpenApi {
    crate::app::openapi()
}

pub fn document_json() -> String {
    document()
        .to_pretty_json()
        .expect("the OpenAPI document serializes")
        + "\n"
}

/// The README's route table for the current document.
pub fn routes_markdown() -> String {
    let doc = serde_json::to_value(document()).expect("the OpenAPI document serializes");
    routes_table::section(&doc) + "\n"
}
