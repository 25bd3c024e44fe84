// The contract scenario: a day's work through a client generated from the
// OpenAPI document (openapi-typescript types + openapi-fetch), compiled with
// `tsc --strict` and no casts. A path, field, enum value, parameter or status
// that the document gets wrong either fails to compile or fails here against
// the live server.
//
// Environment: RAPPORT_BASE_URL, RAPPORT_ADMIN_EMAIL, RAPPORT_ADMIN_PASSWORD.
// Prints one line per step; exits 1 at the first failed step, naming it, the
// status and the problem the server sent.

import createClient from "openapi-fetch";
import type { components, paths } from "./generated/api.js";

// The two things needed from Node, declared rather than pulling in @types/node.
declare const process: { env: Record<string, string | undefined>; exitCode?: number };

type Schemas = components["schemas"];

function setting(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") {
    throw new Error(`scenario: set ${name}`);
  }
  return value;
}

class StepFailed extends Error {}

let passed = 0;

/** Records one assertion; throws (ending the scenario) when it does not hold. */
function expect(condition: boolean, what: string): void {
  if (!condition) {
    throw new StepFailed(what);
  }
  passed += 1;
}

/**
 * The body of a call that must answer `status`. Anything else fails the
 * scenario with the call's name, the status and the problem document.
 */
function answered<T, E>(
  what: string,
  status: number,
  result: { data?: T; error?: E; response: Response },
): T {
  const got = result.response.status;
  if (got !== status || result.data === undefined) {
    const body = result.error === undefined ? "(no body)" : JSON.stringify(result.error);
    throw new StepFailed(`${what}: expected ${status}, got ${got} ${body}`);
  }
  passed += 1;
  console.log(`  ok  ${what} (${got})`);
  return result.data;
}

/** A call that must fail with `status` and a problem document of that status. */
function refused<T, E extends { status: number; type: string }>(
  what: string,
  status: number,
  result: { data?: T; error?: E; response: Response },
): E {
  const got = result.response.status;
  if (got !== status || result.error === undefined) {
    throw new StepFailed(`${what}: expected ${status}, got ${got} ${JSON.stringify(result.data ?? result.error)}`);
  }
  expect(result.error.status === status, `${what}: the problem's status is ${status}`);
  expect(
    (result.response.headers.get("content-type") ?? "").startsWith("application/problem+json"),
    `${what}: the error is application/problem+json`,
  );
  console.log(`  ok  ${what} (${got} ${result.error.type})`);
  return result.error;
}

async function main(): Promise<void> {
  const baseUrl = setting("RAPPORT_BASE_URL");
  const email = setting("RAPPORT_ADMIN_EMAIL");
  const password = setting("RAPPORT_ADMIN_PASSWORD");
  const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;

  // Sign in.
  const anonymous = createClient<paths>({ baseUrl });
  const tokens = answered(
    "POST /v1/auth/token signs the admin in",
    200,
    await anonymous.POST("/v1/auth/token", { body: { email, password } }),
  );
  expect(tokens.token_type === "Bearer", "the token type is Bearer");
  expect(tokens.access_token.length > 0 && tokens.expires_in > 0, "an access token with a lifetime");
  refused(
    "POST /v1/auth/token refuses a wrong password",
    401,
    await anonymous.POST("/v1/auth/token", { body: { email, password: `${password}-wrong` } }),
  );

  const api = createClient<paths>({
    baseUrl,
    headers: { Authorization: `Bearer ${tokens.access_token}` },
  });
  const me = answered("GET /v1/me", 200, await api.GET("/v1/me"));
  expect("role" in me && me.role === "admin", "the signed-in user is an admin");

  // An account and a contact at it.
  const account = answered(
    "POST /v1/accounts creates an account",
    201,
    await api.POST("/v1/accounts", {
      body: {
        name: `Northwind Research ${run}`,
        country: "DE",
        employee_count: 250,
        value_tier: "high",
        custom_fields: { erp_id: `C-${run}` },
      },
    }),
  );
  expect(account.size_segment === "mid_market", "250 employees make a mid_market account");
  expect(account.custom_fields["erp_id"] === `C-${run}`, "the account keeps its custom field");
  const contact = answered(
    "POST /v1/contacts creates a contact at the account",
    201,
    await api.POST("/v1/contacts", {
      body: {
        first_name: "Mei",
        last_name: "Chen",
        email: `mei.chen.${run}@northwind.example`,
        account_id: account.id,
        lifecycle_stage: "customer",
      },
    }),
  );
  expect(contact.account_id === account.id, "the contact is at the account");
  const patch = await api.PATCH("/v1/contacts/{id}", {
    params: { path: { id: contact.id }, header: { "If-Match": `"${contact.version}"` } },
    headers: { "Content-Type": "application/merge-patch+json" },
    body: { title: "Head of Insights", phone: null },
  });
  const patched = answered("PATCH /v1/contacts/{id} (merge patch, If-Match)", 200, patch);
  expect(patched.title === "Head of Insights" && patched.version === contact.version + 1, "the patch applied");
  expect(patch.response.headers.get("etag") === `"${patched.version}"`, "the ETag is the new version");
  const listed = answered(
    "GET /v1/accounts/{id}/contacts",
    200,
    await api.GET("/v1/accounts/{id}/contacts", { params: { path: { id: account.id } } }),
  );
  expect(listed.data.some((c) => c.id === contact.id), "the account lists the contact");

  // A channel (an existing active phone channel, or a new one) and an interaction on it.
  const phones = answered(
    "GET /v1/channels?kind=phone&active=true",
    200,
    await api.GET("/v1/channels", { params: { query: { kind: "phone", active: true } } }),
  );
  let channel: Schemas["Channel"] | undefined = phones.data[0];
  if (channel === undefined) {
    channel = answered(
      "POST /v1/channels creates a phone channel",
      201,
      await api.POST("/v1/channels", {
        body: { kind: "phone", name: `Client service hotline ${run}`, first_response_minutes: 60 },
      }),
    );
  }
  expect(channel.kind === "phone" && channel.active, "the channel is an active phone channel");
  const interaction = answered(
    "POST /v1/interactions logs a call",
    201,
    await api.POST("/v1/interactions", {
      body: {
        contact_id: contact.id,
        channel_id: channel.id,
        direction: "inbound",
        type: "call",
        purpose: "service",
        subject: "Invoice question",
        duration_seconds: 300,
      },
    }),
  );
  expect(interaction.account_id === account.id, "the interaction takes the contact's account");

  // A complaint through its workflow.
  const complaint = answered(
    "POST /v1/feedback files a complaint",
    201,
    await api.POST("/v1/feedback", {
      body: {
        kind: "complaint",
        text: "The March invoice charged the panel study twice.",
        contact_id: contact.id,
        channel_id: channel.id,
        priority: "high",
        category: "billing",
      },
    }),
  );
  expect(complaint.status === "new", "a complaint starts new");
  for (const to of ["acknowledged", "in_progress"] as const) {
    const moved = answered(
      `POST /v1/feedback/{id}/transitions to ${to}`,
      200,
      await api.POST("/v1/feedback/{id}/transitions", {
        params: { path: { id: complaint.id } },
        body: { to, note: `Moved to ${to}.` },
      }),
    );
    expect(moved.status === to, `the complaint is ${to}`);
  }
  refused(
    "POST /v1/feedback/{id}/transitions to resolved without a note",
    422,
    await api.POST("/v1/feedback/{id}/transitions", {
      params: { path: { id: complaint.id } },
      body: { to: "resolved" },
    }),
  );
  const resolved = answered(
    "POST /v1/feedback/{id}/transitions to resolved with a note",
    200,
    await api.POST("/v1/feedback/{id}/transitions", {
      params: { path: { id: complaint.id } },
      body: { to: "resolved", from: "in_progress", note: "Credit note sent on 7 March.", visibility: "customer" },
    }),
  );
  expect(resolved.status === "resolved", "the complaint is resolved");
  const activities = answered(
    "GET /v1/feedback/{id}/activities",
    200,
    await api.GET("/v1/feedback/{id}/activities", { params: { path: { id: complaint.id } } }),
  );
  expect(
    activities.data.filter((a) => a.kind === "transition").length === 3,
    "the activity log has the three transitions",
  );

  // An NPS answer, and the satisfaction metrics that count it.
  const survey = answered(
    "POST /v1/feedback posts an NPS answer",
    201,
    await api.POST("/v1/feedback", { body: { kind: "survey", nps: 9, contact_id: contact.id, channel_id: channel.id } }),
  );
  expect(survey.kind === "survey" && survey.nps === 9, "the survey keeps its score");
  refused(
    "POST /v1/feedback refuses an NPS of 11",
    422,
    await api.POST("/v1/feedback", { body: { kind: "survey", nps: 11 } }),
  );
  const metrics = answered(
    "GET /v1/metrics/satisfaction?group_by=channel",
    200,
    await api.GET("/v1/metrics/satisfaction", { params: { query: { group_by: "channel" } } }),
  );
  expect(metrics.overall.nps.responses >= 1 && metrics.overall.nps.promoters >= 1, "the promoter is counted");
  const group = metrics.groups.find((g) => g.key === channel.id);
  expect(group !== undefined && group.nps.promoters >= 1, "the channel's group counts the promoter");

  // Loyalty: the programme's settings first (earn rate EUR, 1 point per euro), then a member.
  const program = await api.GET("/v1/loyalty/program");
  const current = answered("GET /v1/loyalty/program", 200, program);
  const etag = program.response.headers.get("etag");
  expect(etag !== null, "the programme has an ETag");
  const settings: Schemas["ProgramIn"] = {
    name: current.name,
    earn_rate: { currency: "EUR", points: 1, per_amount_minor: 100 },
    tiers: [
      { name: "Member", min_points: 0 },
      { name: "Silver", min_points: 1000 },
      { name: "Gold", min_points: 5000 },
    ],
    tier_basis: "lifetime",
    expiry_months: 24,
  };
  const updated = answered(
    "PUT /v1/loyalty/program with If-Match",
    200,
    await api.PUT("/v1/loyalty/program", { params: { header: { "If-Match": etag } }, body: settings }),
  );
  expect(updated.version === current.version + 1 && updated.expiry_months === 24, "the programme moved on a version");
  refused(
    "PUT /v1/loyalty/program with a stale If-Match",
    412,
    await api.PUT("/v1/loyalty/program", { params: { header: { "If-Match": etag } }, body: settings }),
  );

  const member = answered(
    "POST /v1/loyalty/members enrols the contact",
    201,
    await api.POST("/v1/loyalty/members", { body: { contact_id: contact.id } }),
  );
  expect(member.contact_id === contact.id && member.balance === 0, "a new member has no points");
  const earnKey = `contract-earn-${run}`;
  const purchase = answered(
    "POST /v1/loyalty/members/{contact_id}/earn for a purchase of EUR 45.99",
    201,
    await api.POST("/v1/loyalty/members/{contact_id}/earn", {
      params: { path: { contact_id: contact.id }, header: { "Idempotency-Key": `${earnKey}-purchase` } },
      body: { amount_minor: 4599, currency: "EUR", reason: "Order 1182" },
    }),
  );
  expect(purchase.kind === "earn" && purchase.points === 45, "EUR 45.99 earns 45 points (rounded down)");
  const earnBody: Schemas["EarnIn"] = { points: 500, reason: "Annual retainer renewed" };
  const earned = answered(
    "POST /v1/loyalty/members/{contact_id}/earn 500 points",
    201,
    await api.POST("/v1/loyalty/members/{contact_id}/earn", {
      params: { path: { contact_id: contact.id }, header: { "Idempotency-Key": earnKey } },
      body: earnBody,
    }),
  );
  expect(earned.balance_after === 545, "the balance is 545 after earning 45 + 500");
  const replay = await api.POST("/v1/loyalty/members/{contact_id}/earn", {
    params: { path: { contact_id: contact.id }, header: { "Idempotency-Key": earnKey } },
    body: earnBody,
  });
  const replayed = answered("POST .../earn again with the same Idempotency-Key", 201, replay);
  expect(replayed.id === earned.id, "the retry returns the first entry");
  expect(replay.response.headers.get("idempotent-replayed") === "true", "the retry says Idempotent-Replayed: true");
  refused(
    "POST .../earn with the same Idempotency-Key and another body",
    422,
    await api.POST("/v1/loyalty/members/{contact_id}/earn", {
      params: { path: { contact_id: contact.id }, header: { "Idempotency-Key": earnKey } },
      body: { points: 501 },
    }),
  );
  const redeemed = answered(
    "POST /v1/loyalty/members/{contact_id}/redeem 200 points",
    201,
    await api.POST("/v1/loyalty/members/{contact_id}/redeem", {
      params: { path: { contact_id: contact.id }, header: { "Idempotency-Key": `contract-redeem-${run}` } },
      body: { points: 200, reason: "Workshop voucher" },
    }),
  );
  expect(redeemed.kind === "redeem" && redeemed.points === -200, "a redemption is a -200 entry");
  expect(redeemed.balance_after === 345, "the balance is 345 after redeeming 200");
  refused(
    "POST .../redeem more than the balance",
    409,
    await api.POST("/v1/loyalty/members/{contact_id}/redeem", {
      params: { path: { contact_id: contact.id }, header: { "Idempotency-Key": `contract-overdraw-${run}` } },
      body: { points: 346 },
    }),
  );
  const standing = answered(
    "GET /v1/loyalty/members/{contact_id}",
    200,
    await api.GET("/v1/loyalty/members/{contact_id}", { params: { path: { contact_id: contact.id } } }),
  );
  expect(standing.balance === 345 && standing.lifetime_points === 545, "balance 345, lifetime points 545");
  const ledger = answered(
    "GET /v1/loyalty/members/{contact_id}/ledger",
    200,
    await api.GET("/v1/loyalty/members/{contact_id}/ledger", { params: { path: { contact_id: contact.id } } }),
  );
  expect(ledger.balance === 345 && ledger.data.length === 3, "the ledger has three entries summing to 345");
}

main().then(
  () => {
    console.log(`scenario: ${passed} passed, 0 failed`);
  },
  (error: unknown) => {
    const message = error instanceof StepFailed ? `scenario: FAILED: ${error.message}` : String(error);
    console.error(message);
    console.log(`scenario: ${passed} passed, 1 failed`);
    process.exitCode = 1;
  },
);
