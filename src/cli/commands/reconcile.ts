// `countersign reconcile [--dry-run]`: one reconciliation of the shop with its gateway, now, through
// the shop's operator API (POST /ops/reconcile; the shop owns its database, the CLI never opens it).
// Prints what differs: paid in the shop but not captured at the gateway, and the reverse.
import { type Command, InvalidArgumentError } from 'commander';
import { EXIT } from '../exit-codes.ts';
import { shopOpsJson } from '../http.ts';
import { withProgress } from '../output.ts';
import { action, type RunIo } from '../program.ts';

interface Finding {
  kind: 'paid_here_not_there' | 'paid_there_not_here';
  why: string;
  invoice_id: string;
  order_id: string;
  session_id: string;
  amount: { minor: string; currency: string };
  shop: { invoice_status: string; attempt_status: string };
  gateway: { status: string };
  fixed: boolean;
}

interface Report {
  dry_run: boolean;
  scope: { since: string; days: number; limit: number; compared: number };
  polled: number;
  events_read: number;
  events_waiting: { count: number; more: boolean } | null;
  status_reads: number;
  findings: Finding[];
  remaining: number;
}

const KIND = { paid_here_not_there: 'paid here, not there', paid_there_not_here: 'paid there, not here' } as const;

function bounded(max: number) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new InvalidArgumentError(`expected a number 1..${max}`);
    return n;
  };
}

function print(out: { line(text: string): void }, r: Report): void {
  const scope = `${r.scope.compared} attempt(s) compared (created since ${r.scope.since} or still open, at most ${r.scope.limit})`;
  out.line(r.dry_run ? `dry run: nothing changed; ${scope}` : scope);
  if (r.dry_run)
    out.line(
      `a cycle would poll ${r.polled} stale attempt(s) and read ${r.events_waiting?.count ?? 0}${r.events_waiting?.more ? '+' : ''} waiting event(s)`,
    );
  else
    out.line(
      `cycle: ${r.polled} stale attempt(s) polled, ${r.events_read} event(s) read, ${r.status_reads} session(s) re-read`,
    );
  for (const f of r.findings) {
    const mark = f.fixed ? 'fixed' : r.dry_run ? 'found' : 'LEFT ';
    out.line(
      `${mark}  ${KIND[f.kind].padEnd(20)} ${f.invoice_id}  ${f.session_id}  ${f.amount.minor} ${f.amount.currency}  shop ${f.shop.invoice_status}/${f.shop.attempt_status}, gateway ${f.gateway.status}`,
    );
    out.line(`       ${f.why}`);
  }
  if (r.remaining === 0)
    out.line(r.findings.length ? 'both sides agree now' : 'nothing differs: the shop and the gateway agree');
  else
    out.line(
      r.dry_run
        ? `${r.remaining} difference(s); \`countersign reconcile\` (without --dry-run) takes the news the shop missed`
        : `${r.remaining} difference(s) left for you: refund or void at the gateway, or check the order in the staff console`,
    );
}

/** Adds `reconcile`. */
export function registerReconcile(program: Command, io: RunIo): void {
  program
    .command('reconcile')
    .description(
      'reconcile the shop with its gateway now and print what differs (paid here but not captured there, and the reverse)',
    )
    .option('--dry-run', 'compare only: change nothing, read no news into the shop')
    .option('--days <n>', 'compare attempts created in the last n days (and all still open)', bounded(90), 7)
    .option('--limit <n>', 'compare at most n attempts, newest first', bounded(1000), 200)
    .addHelpText(
      'after',
      `
What it does: asks the shop (POST <shop>/ops/reconcile with the operator token) to compare its payment
attempts of the last --days days (and every one still open), newest first, at most --limit, with
their sessions at the gateway (one status read each). Without --dry-run it first runs one cycle of the
shop's reconciliation job (stale attempts polled, the gateway's event feed read) and re-reads each
difference whose attempt is still open, all through the shop's webhook path; a difference it cannot
fix (money captured for an expired invoice, a paid invoice voided at the gateway) is left for you.
Exit 0 when nothing differs (after the fixes), 1 when differences remain, 3 when the shop (or its
gateway) cannot be reached. The operator token: --operator-token, COUNTERSIGN_OPERATOR_TOKEN, or
<data-dir>/secrets.json.`,
    )
    .action(
      action(io, async (ctx, flags: { dryRun?: boolean; days: number; limit: number }) => {
        const report = await withProgress(ctx.out, 'reconciling the shop with the gateway', () =>
          shopOpsJson<Report>(ctx, 'POST', '/reconcile', {
            dry_run: flags.dryRun === true,
            days: flags.days,
            limit: flags.limit,
          }),
        );
        ctx.out.result(report);
        print(ctx.out, report);
        return report.remaining === 0 ? EXIT.ok : EXIT.problem;
      }),
    );
}
