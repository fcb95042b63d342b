/**
 * Stripe may deliver `account.updated` for a new connected account while connect-onboarding is
 * still recording it. Both sides insert the same (host, account) row; the second must wait for the
 * first and settle on its row, not fail with a unique violation (which onboarding would answer
 * with 409 already_exists). This case (the webhook's row fully inserted first) holds either way;
 * when both inserts pass their arbiter check at the same instant, only an ON CONFLICT without a
 * target covers the account-id index too — seen as a rare 409 in full-suite runs, too narrow a
 * window to force here.
 */
import pg from "pg";
import { afterAll, expect, it } from "vitest";
import { ownerQuery, closeTestPools } from "../support/db.ts";
import { testEnv } from "../support/env.ts";
import { createUser } from "../support/users.ts";

afterAll(closeTestPools);

/** Two connections as `postgres`: the webhook (acting as service_role) and onboarding. */
const url = (): string => testEnv("RALLY_DB_URL");

it("onboarding records the account when Stripe's webhook inserted the same account a moment earlier", async () => {
  const host = await createUser();
  await ownerQuery("update public.profiles set is_host = true, host_status = 'active' where id = $1", [host.id]);
  const accountId = `acct_race${host.id.replaceAll("-", "").slice(0, 16)}`;
  const account = { id: accountId, object: "account", livemode: false, metadata: { host_id: host.id } };

  const webhook = new pg.Client({ connectionString: url() });
  const onboarding = new pg.Client({ connectionString: url() });
  await webhook.connect();
  await onboarding.connect();
  try {
    await webhook.query("begin");
    await webhook.query("set local role service_role");
    await webhook.query("select private.apply_stripe_account($1::jsonb, date_trunc('second', now()))", [JSON.stringify(account)]);
    // Onboarding's insert now waits on the webhook's uncommitted row.
    const recorded = onboarding.query<{ account_id: string }>(
      "select private.save_connect_account($1, $2::jsonb) as account_id", [host.id, JSON.stringify(account)]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await webhook.query("commit");
    const { rows } = await recorded;
    expect(rows[0]?.account_id).toBe(accountId);
  } finally {
    await webhook.end();
    await onboarding.end();
  }
  const { rows } = await ownerQuery<{ n: number }>("select count(*)::int as n from private.stripe_accounts where host_id = $1", [host.id]);
  expect(rows[0]?.n).toBe(1);
});
