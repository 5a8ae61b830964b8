// The books at the end of a proof suite, as `countersign ledger verify` checks them: both ledgers and the
// three-way match. Work the suite started may still be settling (a capture's job, a webhook on its
// retry), so this reads them until they show what is expected (nothing, unless the suite planted a
// difference on purpose) or the time is up, and returns the last reading.
import { verifyBooks, type BooksFinding, type BooksReport } from '../../src/cli/books-verify.ts';
import type { Executor } from '../../src/platform/db/database.ts';

/** A finding as `party check subject`, for comparing with what a suite expects. */
export const findingKey = (f: BooksFinding) => `${f.party} ${f.check} ${f.subject}`;

export async function settledBooks(
  dbs: { gateway: Executor; bank: Executor; shop: Executor },
  options: { ms?: number; expected?: readonly string[] } = {},
): Promise<BooksReport> {
  const until = Date.now() + (options.ms ?? 30_000);
  const expected = JSON.stringify([...(options.expected ?? [])].sort());
  for (;;) {
    const report = await verifyBooks(dbs);
    if (JSON.stringify(report.findings.map(findingKey).sort()) === expected || Date.now() > until) return report;
    await new Promise((r) => setTimeout(r, 500));
  }
}
