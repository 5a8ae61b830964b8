// GET /v1/payment_sessions/{id}/journey: a payment's journey as the gateway and the bank recorded it,
// for the merchant whose API key asks (another merchant's session answers 404 like an unknown one).
// The gateway's steps come from its own tables; the bank's are asked of the bank at each request over
// its signed issuer API, never copied here. Each party's times are its own clock's.
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { DomainError } from '../../core/errors.ts';
import { JOURNEY_LANES, JOURNEY_VERDICTS, parseJourneyStep, type JourneyStep } from '../../core/journey.ts';
import type { AppEnv } from '../../platform/http/app.ts';
import type { GatewayDeps } from '../commands/deps.ts';
import { gatewayJourney } from '../storage/journey.ts';
import { findSession } from '../storage/sessions.ts';
import type { MerchantRow, SessionRow } from '../storage/tables.ts';
import { errorSchema } from './views.ts';

type Env = AppEnv<{ merchant: MerchantRow }>;

const stepSchema = z
  .object({
    at: z.string().openapi({ description: 'ISO 8601, by the clock of the party whose record it is' }),
    from: z.enum(JOURNEY_LANES),
    to: z.enum(JOURNEY_LANES),
    label: z.string(),
    verdict: z.enum(JOURNEY_VERDICTS).nullable(),
    party: z.enum(['gateway', 'bank']),
    ref: z.string().nullable(),
  })
  .openapi('JourneyStep');

const journeySchema = z
  .object({
    object: z.literal('payment_journey'),
    session_id: z.string(),
    status: z.string(),
    settled: z.boolean().openapi({ description: 'false while the payment can still move by itself (bank, webhooks)' }),
    bank: z.enum(['included', 'unavailable']).openapi({ description: "whether the bank's records could be read" }),
    steps: z.array(stepSchema),
  })
  .openapi('PaymentJourney');

export const getJourneyRoute = createRoute({
  method: 'get',
  path: '/payment_sessions/{id}/journey',
  security: [{ bearerAuth: [] }],
  summary: "A payment's journey: the gateway's and the bank's records of it, step by step",
  request: { params: z.object({ id: z.string().min(1).max(64) }) },
  responses: {
    200: { description: 'The journey', content: { 'application/json': { schema: journeySchema } } },
    401: { description: 'Missing or invalid API key', content: { 'application/json': { schema: errorSchema } } },
    404: { description: 'No such session for this merchant', content: { 'application/json': { schema: errorSchema } } },
  },
});

/** A session's journey: the gateway's steps and, when the bank answers, the bank's. */
export interface SessionJourney {
  readonly steps: JourneyStep[];
  readonly settled: boolean;
  readonly bank: 'included' | 'unavailable';
}

/** The gateway's steps of a session plus the bank's, read live from the bank (steps it sends that do not parse are left out). */
export async function sessionJourney(gateway: GatewayDeps, session: SessionRow): Promise<SessionJourney> {
  const own = await gatewayJourney(gateway.database.db, session);
  if (!gateway.issuer.journey) return { ...own, bank: 'unavailable' };
  try {
    const raw = await gateway.issuer.journey(session.id);
    const fromBank = raw.map(parseJourneyStep).filter((s): s is JourneyStep => s?.party === 'bank');
    return { steps: [...own.steps, ...fromBank], settled: own.settled, bank: 'included' };
  } catch (err) {
    gateway.log?.warn({ sessionId: session.id, err }, "the bank's journey could not be read");
    return { ...own, bank: 'unavailable' };
  }
}

/** Adds GET /payment_sessions/{id}/journey to the /v1 router (behind its API-key auth). */
export function addJourneyRoutes(router: OpenAPIHono<Env>, deps: { gateway: GatewayDeps }): void {
  router.openapi(getJourneyRoute, async (c) => {
    const session = await findSession(deps.gateway.database.db, c.req.valid('param').id, c.get('merchant').id);
    if (!session) throw new DomainError('not_found', { resource: 'payment_session' });
    const journey = await sessionJourney(deps.gateway, session);
    return c.json(
      {
        object: 'payment_journey' as const,
        session_id: session.id,
        status: session.status,
        settled: journey.settled,
        bank: journey.bank,
        steps: journey.steps.map((s) => ({
          at: s.at,
          from: s.from,
          to: s.to,
          label: s.label,
          verdict: s.verdict ?? null,
          party: s.party === 'bank' ? ('bank' as const) : ('gateway' as const),
          ref: s.ref ?? null,
        })),
      },
      200,
    );
  });
}
