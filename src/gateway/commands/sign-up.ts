// A merchant signs up in the dashboard: a new merchant with its first (test) API key, a webhook
// signing secret, optionally its webhook endpoint URL, and its owner, who logs in with an e-mail and
// a password. The key and the secret are returned once, for the page that shows them once.
import { newId } from '../../core/ids.ts';
import { newWebhookSecret } from '../../core/webhook-signature.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db/database.ts';
import { hashPassword } from '../../platform/passwords.ts';
import { accountProblems } from '../domain/dashboard-account.rule.ts';
import { webhookUrlProblem, type WebhookNetworks } from '../domain/webhook-url.rule.ts';
import type { DashboardUserRow } from '../storage/account-tables.ts';
import { insertDashboardUser } from '../storage/dashboard-users.ts';
import { addApiKey, newApiKey } from '../storage/merchants.ts';
import { merchants, signingSecrets, type MerchantRow } from '../storage/tables.ts';

export type SignUpInput = { email: string; password: string; businessName: string; webhookUrl: string };

export type SignUpVerdict =
  | { verdict: 'created'; merchant: MerchantRow; user: DashboardUserRow; apiKey: string; webhookSecret: string }
  | { verdict: 'invalid'; problems: Partial<Record<'email' | 'password' | 'business_name' | 'webhook_url', string>> }
  | { verdict: 'email_taken' };

/** Creates the merchant, its key, secret and owner in one transaction; an e-mail already used changes nothing. */
export async function signUp(
  deps: { database: Database; clock: Clock; allowHttpWebhooks: boolean; webhookNetworks: WebhookNetworks },
  input: SignUpInput,
): Promise<SignUpVerdict> {
  const problems: Partial<Record<'email' | 'password' | 'business_name' | 'webhook_url', string>> =
    accountProblems(input);
  const url = input.webhookUrl.trim();
  if (url) {
    const problem =
      url.length > 2048 ? 'too long' : webhookUrlProblem(url, deps.allowHttpWebhooks, deps.webhookNetworks);
    if (problem) problems.webhook_url = `This URL cannot receive webhooks: ${problem}.`;
  }
  if (Object.keys(problems).length) return { verdict: 'invalid', problems };
  // The slow hash is made before the transaction, which then holds no lock while it runs.
  const passwordHash = await hashPassword(input.password);
  const apiKey = newApiKey();
  const webhookSecret = newWebhookSecret();
  const { database, clock } = deps;
  const taken = Symbol('email taken');
  return database
    .transaction(async (tx): Promise<SignUpVerdict> => {
      const now = clock.now();
      const [merchant] = await tx
        .insert(merchants)
        .values({
          id: newId('mer', now),
          name: input.businessName.trim(),
          webhookUrl: url || null,
          selfServe: true,
          createdAt: now,
        })
        .returning();
      const user = await insertDashboardUser(
        tx,
        { merchantId: merchant!.id, email: input.email, passwordHash, role: 'owner' },
        clock,
      );
      // The e-mail is taken: thrown, so that nothing of this sign-up is kept.
      if (!user) throw taken;
      await addApiKey(tx, merchant!.id, apiKey, clock);
      await tx
        .insert(signingSecrets)
        .values({ id: newId('key', now), merchantId: merchant!.id, secret: webhookSecret, createdAt: now });
      return { verdict: 'created', merchant: merchant!, user, apiKey, webhookSecret };
    })
    .catch((err: unknown): SignUpVerdict => {
      if (err === taken) return { verdict: 'email_taken' };
      throw err;
    });
}
