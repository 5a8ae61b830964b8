// `countersign ledger verify`: the operator's check of the books — the gateway's double-entry ledger
// across every merchant, the bank's, and the match of the money across shop, gateway and bank
// (src/cli/books-verify.ts). An operator's view, so it is not an API a merchant's key reaches: like
// `audit verify` for the shop, it opens each party's own database (never creating one) from that
// party's variables, reads, and prints every difference.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { openExistingDatabase, type Database } from '../../platform/db/database.ts';
import { parseServiceBase } from '../../platform/service.ts';
import { CliError, EXIT } from '../exit-codes.ts';
import { action, type RunIo } from '../program.ts';

type Party = 'gateway' | 'bank' | 'shop';
const PORTS: Record<Party, number> = { shop: 3000, gateway: 3001, bank: 3002 };

// Loaded when needed, not at the top: the rest of the command line does not pay for the parties' modules.
async function specOf(party: Party) {
  if (party === 'gateway') return (await import('../../gateway/main.ts')).gatewayDatabaseSpec;
  if (party === 'bank') return (await import('../../bank/main.ts')).bankDatabaseSpec;
  return (await import('../../shop/main.ts')).shopDatabaseSpec;
}

/**
 * A party's database, from its variables: `<P>_DATABASE_URL`, else `<P>_DATA_DIR` or `<data-dir>/<party>`.
 * The gateway's is required. The bank's and the shop's are opened when named (`<P>_DATABASE_URL` or
 * `<P>_DATA_DIR`, then required), or when the gateway's was found in the data directory and theirs is
 * there beside it (npm start's layout); otherwise null: not checked.
 */
async function openParty(
  party: Party,
  env: Record<string, string | undefined>,
  gatewayFromDataDir: boolean,
): Promise<Database | null> {
  const P = party.toUpperCase();
  const base = parseServiceBase(party, PORTS[party], env);
  const named = base.databaseUrl !== undefined || env[`${P}_DATA_DIR`] !== undefined;
  const present = base.databaseUrl !== undefined || existsSync(join(base.dataDir, 'PG_VERSION'));
  if (party !== 'gateway' && !named && !(gatewayFromDataDir && present)) return null;
  if (!present)
    throw new CliError(
      EXIT.unavailable,
      `no ${party} database at ${base.dataDir} (set ${P}_DATABASE_URL, ${P}_DATA_DIR or DATA_DIR to the ${party}'s); nothing was created`,
      'ledger.no_database',
    );
  try {
    return await openExistingDatabase(
      await specOf(party),
      base.databaseUrl
        ? { engine: 'postgres', url: base.databaseUrl, poolSize: 1 }
        : { engine: 'pglite', dataDir: base.dataDir },
    );
  } catch (err) {
    throw new CliError(
      EXIT.unavailable,
      `cannot open the ${party}'s database: ${(err as Error).message}`,
      'ledger.no_database',
    );
  }
}

/** Adds `ledger verify`. */
export function registerLedger(program: Command, io: RunIo): void {
  const ledger = program.command('ledger').description('the double-entry books of the gateway and the bank');
  ledger
    .command('verify')
    .description(
      "check the books: the gateway's across every merchant (every transfer balanced, every currency summing to zero, no account below zero that must not be, every capture posted once, every void voided, no reservation left open, every refund and payout recorded), the bank's, and the three-way match of the shop's paid invoices, the gateway's captures and the bank's debits",
    )
    .addHelpText(
      'after',
      `
Each party's database is found from its variables: GATEWAY_DATABASE_URL (PostgreSQL), else
GATEWAY_DATA_DIR or <data-dir>/gateway (embedded PGlite: stop the services first, it allows one
process); the same with BANK_… and SHOP_…. The gateway's is required; the bank's and the shop's are
checked when named, or when they lie beside the gateway's in the data directory. Read only. Exit 0
when the books agree, 1 with every difference listed, 3 when a database cannot be opened.`,
    )
    .action(
      action(io, async (ctx) => {
        const env = { ...ctx.env, DATA_DIR: ctx.dataDir };
        const fromDataDir = parseServiceBase('gateway', PORTS.gateway, env).databaseUrl === undefined;
        const opened: Database[] = [];
        try {
          const open = async (party: Party) => {
            const db = await openParty(party, env, fromDataDir);
            if (db) opened.push(db);
            return db;
          };
          const gateway = (await open('gateway'))!;
          const bank = await open('bank');
          const shop = await open('shop');
          const { verifyBooks } = await import('../books-verify.ts');
          const report = await verifyBooks({
            gateway: gateway.db,
            bank: bank?.db ?? null,
            shop: shop?.db ?? null,
          }).catch((err: Error) => {
            throw new CliError(EXIT.unavailable, `cannot read the books: ${err.message}`, 'ledger.unreadable');
          });
          printReport(ctx.out, report);
          return report.findings.length === 0 ? EXIT.ok : EXIT.problem;
        } finally {
          for (const db of opened) await db.close();
        }
      }),
    );
}

type Out = { result(v: unknown): void; line(s: string): void };

function printReport(out: Out, report: Awaited<ReturnType<typeof import('../books-verify.ts').verifyBooks>>): void {
  out.result({ ...report, verdict: report.findings.length === 0 ? 'clean' : 'differences' });
  out.line(
    `gateway: checked ${report.accounts} account(s), ${report.transfers} transfer(s), ${report.sessions} payment session(s)`,
  );
  out.line(
    report.bank
      ? `bank: checked ${report.bank.accounts} account(s), ${report.bank.transfers} transfer(s); ${report.matched.bankCaptures} capture(s) matched against the gateway's ${report.matched.gatewayCaptures}`
      : 'bank: not checked (no bank database named)',
  );
  out.line(
    report.matched.shopPaid === null
      ? 'shop: not checked (no shop database named)'
      : `shop: ${report.matched.shopPaid} paid invoice(s) matched against the gateway's captures`,
  );
  for (const f of report.findings) out.line(`DIFF  ${`${f.party} ${f.check}`.padEnd(32)} ${f.subject}  ${f.detail}`);
  out.line(
    report.findings.length === 0
      ? 'OK: the books balance and agree with every payment'
      : `${report.findings.length} difference(s)`,
  );
}
