// A day's work through a client generated from openapi/openapi.json, as a
// frontend team would write it: openapi-typescript types, openapi-fetch
// calls, `tsc --strict`, no casts. If the document lies about a path, a
// field, an enum value or a status, this either fails to compile or fails
// when it runs against the live server.

import createClient from "openapi-fetch";
import type { paths } from "./generated/api.js";

// The two things this script needs from Node, declared instead of pulling in @types/node.
declare const process: { env: Record<string, string | undefined>; exit(code: number): never };

const baseUrl = process.env.RAPPORT_BASE_URL ?? "http://127.0.0.1:8080";
const email = process.env.RAPPORT_ADMIN_EMAIL ?? "admin@localhost";
const password = process.env.RAPPORT_ADMIN_PASSWORD ?? "";

let passed = 0;
function check(condition: boolean, what: string): void {
  if (!condition) {
    throw new Error(`scenario: ${what}`);
  }
  passed += 1;
}

/** The data of a successful call, or a failure naming the call and the problem. */
function ok<T>(what: string, result: { data?: T; error?: unknown; response: Response }): T {
  if (result.data === undefined) {
    throw new Error(`scenario: ${what} answered ${result.response.status}: ${JSON.stringify(result.error)}`);
  }
  passed += 1;
  return result.data;
}

const unique = `${Date.now()}-${Math.floor(Math.random() * 1e6)}`;

async function main(): Promise<void> {
  const anonymous = createClient<paths>({ baseUrl });
  const tokens = ok("sign in", await anonymous.POST("/v1/auth/token", { body: { email, password } }));
  check(tokens.token_type === "Bearer", "the token type is Bearer");

  const client = createClient<paths>({
    baseUrl,
    headers: { Authorization: `Bearer ${tokens.access_token}` },
  });

  const account = ok(
    "create an account",
    await client.POST("/v1/accounts", {
      body: { name: `Northwind Research ${unique}`, country: "DE", employee_count: 250, key_account: true },
    }),
  );
  check(account.size_segment === "mid_market", "250 employees make a mid-market account");

  const contact = ok(
    "create a contact",
    await client.POST("/v1/contacts", {
      body: {
        first_name: "Mei",
        last_name: "Chen",
        email: `mei.chen.${unique}@northwind.example`,
        account_id: account.id,
        lifecycle_stage: "customer",
      },
    }),
  );
  check(contact.account_id === account.id, "the contact is at the account");

  const channel = ok(
    "create a channel",
    await client.POST("/v1/channels", { body: { kind: "phone", name: `Service line ${unique}` } }),
  );
  const interaction = ok(
    "log an interaction",
    await client.POST("/v1/interactions", {
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
  check(interaction.direction === "inbound", "the interaction is inbound");

  const complaint = ok(
    "file a complaint",
    await client.POST("/v1/feedback", {
      body: { kind: "complaint", text: "The March invoice is wrong.", contact_id: contact.id, priority: "high" },
    }),
  );
  check(complaint.status === "new", "a complaint starts new");
  let state = complaint;
  for (const to of ["acknowledged", "in_progress", "resolved"] as const) {
    state = ok(
      `move the complaint to ${to}`,
      await client.POST("/v1/feedback/{id}/transitions", {
        params: { path: { id: complaint.id } },
        body: to === "resolved" ? { to, note: "Credit note sent." } : { to },
      }),
    );
    check(state.status === to, `the complaint is ${to}`);
  }

  const survey = ok(
    "post an NPS answer",
    await client.POST("/v1/feedback", { body: { kind: "survey", nps: 9, contact_id: contact.id } }),
  );
  check(survey.nps === 9, "the survey keeps its score");

  const member = ok(
    "enrol the contact in loyalty",
    await client.POST("/v1/loyalty/members", { body: { contact_id: contact.id } }),
  );
  check(member.balance === 0, "a new member has no points");
  const earned = ok(
    "earn points",
    await client.POST("/v1/loyalty/members/{contact_id}/earn", {
      params: { path: { contact_id: contact.id }, header: { "Idempotency-Key": `earn-${unique}` } },
      body: { points: 500, reason: "Annual retainer renewed" },
    }),
  );
  check(earned.balance_after === 500, "earning 500 makes the balance 500");
  const redeemed = ok(
    "redeem points",
    await client.POST("/v1/loyalty/members/{contact_id}/redeem", {
      params: { path: { contact_id: contact.id }, header: { "Idempotency-Key": `redeem-${unique}` } },
      body: { points: 200, reason: "Workshop voucher" },
    }),
  );
  check(redeemed.balance_after === 300, "redeeming 200 leaves 300");
  const standing = ok(
    "read the member",
    await client.GET("/v1/loyalty/members/{contact_id}", { params: { path: { contact_id: contact.id } } }),
  );
  check(standing.balance === 300, "the member's balance is 300");

  const metrics = ok(
    "read the satisfaction metrics",
    await client.GET("/v1/metrics/satisfaction", { params: { query: { group_by: "channel" } } }),
  );
  check(metrics.overall.nps.responses >= 1, "the NPS answer is counted");

  const refused = await client.POST("/v1/feedback", { body: { kind: "complaint", csat: 9 } });
  check(refused.response.status === 422, "a CSAT of 9 is refused with 422");
  check(refused.error !== undefined && refused.error.status === 422, "the problem says 422");
}

main().then(
  () => {
    console.log(`scenario: ${passed} passed, 0 failed`);
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    console.log(`scenario: ${passed} passed, 1 failed`);
    process.exit(1);
  },
);
