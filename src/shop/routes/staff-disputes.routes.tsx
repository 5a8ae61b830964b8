// The staff console's disputes: GET /staff/disputes (open ones, soonest deadline first), and the two
// answers to one, POST /staff/disputes/:id/evidence (multipart: text and files; the CSRF field like
// every console form) and POST /staff/disputes/:id/accept (confirmed by a checkbox). Behind the staff
// gate of staff.routes.tsx; each route checks the role itself too. Uploads are checked by size, count,
// declared type and their first bytes, so a file is what it says it is.
import type { Hono } from 'hono';
import { DomainError, isDomainError } from '../../core/errors.ts';
import { acceptDispute, submitDisputeEvidence } from '../commands/respond-to-dispute.ts';
import type { EvidenceFile } from '../domain/gateway.port.ts';
import { ErrorPage } from '../pages/layout.tsx';
import { EVIDENCE_LIMITS, StaffDisputesPage } from '../pages/staff-disputes.page.tsx';
import { disputesByDeadline, getDispute } from '../storage/disputes.ts';
import type { ShopContext, ShopDeps, ShopEnv } from './context.ts';
import { denied, errorPage, pageCtx, readForm, requireUser } from './helpers.tsx';

const MAGIC: Record<string, (b: Uint8Array) => boolean> = {
  'application/pdf': (b) => Buffer.from(b.subarray(0, 5)).toString('latin1') === '%PDF-',
  'image/png': (b) =>
    Buffer.from(b.subarray(0, 8)).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  'image/jpeg': (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff,
  'text/plain': (b) => !b.includes(0) && new TextDecoder('utf-8', { fatal: false }).decode(b).indexOf('\ufffd') === -1,
};

/** Staff's evidence read from the form: the text and the files, or what is wrong with them. */
export async function readEvidence(
  form: FormData,
): Promise<{ text: string; files: EvidenceFile[] } | { error: string }> {
  const text = String(form.get('text') ?? '').trim();
  if (text.length < 10 || text.length > EVIDENCE_LIMITS.maxTextChars)
    return { error: `Write the evidence in 10 to ${EVIDENCE_LIMITS.maxTextChars} characters.` };
  const uploads = form.getAll('files').filter((f): f is File => typeof f !== 'string' && f.size > 0);
  if (uploads.length > EVIDENCE_LIMITS.maxFiles) return { error: `Attach at most ${EVIDENCE_LIMITS.maxFiles} files.` };
  const files: EvidenceFile[] = [];
  for (const f of uploads) {
    const type = f.type.split(';')[0]!.trim().toLowerCase();
    const name = f.name.replace(/[^A-Za-z0-9._-]/g, '_').slice(-100) || 'file';
    if (f.size > EVIDENCE_LIMITS.maxFileBytes)
      return { error: `${name} is larger than ${EVIDENCE_LIMITS.maxFileBytes / 1024} KB.` };
    const content = new Uint8Array(await f.arrayBuffer());
    const check = MAGIC[type];
    if (!check) return { error: `${name}: only PDF, PNG, JPEG and plain text files can be attached.` };
    if (!check(content)) return { error: `${name} is not the ${type} file it claims to be.` };
    files.push({ name, contentType: type, content });
  }
  return { text, files };
}

/** Mounts the dispute pages and answers. */
export function staffDisputeRoutes(app: Hono<ShopEnv>, deps: ShopDeps): void {
  const db = deps.database.db;
  const respond = { database: deps.database, clock: deps.clock, gateway: deps.gateway };

  /** The staff member, or the answer instead (login, or "Access denied" for anyone else). */
  async function staff(c: ShopContext) {
    const user = requireUser(c);
    if (user instanceof Response) return user;
    return user.role === 'staff' ? user : denied(c, deps);
  }

  /** Why an answer failed, as a page that leads back to the order. */
  async function refused(c: ShopContext, title: string, message: string, status: 409 | 422 | 502) {
    return c.html(<ErrorPage ctx={await pageCtx(c, deps)} title={title} message={message} />, status);
  }

  async function answer(c: ShopContext, run: (staffId: string, disputeId: string) => Promise<unknown>) {
    const user = await staff(c);
    if (user instanceof Response) return user;
    const dispute = await getDispute(db, c.req.param('id') ?? '');
    if (!dispute) return denied(c, deps);
    try {
      await run(user.id, dispute.id);
    } catch (err) {
      if (isDomainError(err, 'dispute.not_open'))
        return refused(
          c,
          'The dispute is closed',
          'This dispute no longer awaits a response; the order page shows how it stands.',
          409,
        );
      if (isDomainError(err, 'upstream.unavailable'))
        return refused(c, 'The gateway did not answer', 'Nothing was sent. Try again in a moment.', 502);
      if (isDomainError(err, 'validation.failed'))
        return refused(c, 'That evidence cannot be sent', String(err.details?.reason ?? err.message), 422);
      return errorPage(c, deps, err);
    }
    return c.redirect(`/staff/orders/${dispute.orderId}#disputes`, 303);
  }

  app.get('/staff/disputes', async (c) => {
    const user = await staff(c);
    if (user instanceof Response) return user;
    const rows = await disputesByDeadline(db, ['needs_response', 'under_review']);
    return c.html(<StaffDisputesPage ctx={await pageCtx(c, deps)} rows={rows} now={deps.clock.now()} />);
  });

  app.post('/staff/disputes/:id/evidence', (c) =>
    answer(c, async (staffId, disputeId) => {
      const evidence = await readEvidence(await c.req.formData());
      if ('error' in evidence) throw new DomainError('validation.failed', { reason: evidence.error });
      await submitDisputeEvidence(respond, { disputeId, staffId, ...evidence });
    }),
  );

  app.post('/staff/disputes/:id/accept', (c) =>
    answer(c, async (staffId, disputeId) => {
      const form = await readForm(c);
      if (form.confirm !== 'yes')
        throw new DomainError('validation.failed', { reason: 'Tick the box to confirm that you accept the dispute.' });
      await acceptDispute(respond, { disputeId, staffId });
    }),
  );
}
