// `countersign ledger verify`: the operator's check of the gateway's double-entry books across every
// merchant (src/gateway/storage/ledger-verify.ts). An operator's view, so it is not an API a
// merchant's key reaches: like `audit verify` for the shop, it opens the gateway's own database
// (never creating one) from the gateway's variables, reads, and prints every difference.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { openExistingDatabase, type Database } from '../../platform/db/database.ts';
import { parseServiceBase } from '../../platform/service.ts';
import { CliError, EXIT } from '../exit-codes.ts';
import { action, type RunIo } from '../program.ts';

async function openGatewayDatabase(env: Record<string, string | undefined>): Promise<Database> {
  const base = parseServiceBase('gateway', 3001, env);
  if (!base.databaseUrl && !existsSync(join(base.dataDir, 'PG_VERSION')))
    throw new CliError(
      EXIT.unavailable,
      `no gateway database at ${base.dataDir} (set GATEWAY_DATABASE_URL, GATEWAY_DATA_DIR or DATA_DIR to the gateway's); nothing was created`,
      'ledger.no_database',
    );
  // Loaded here, not at the top: the rest of the command line does not pay for the gateway's modules.
  const { gatewayDatabaseSpec } = await import('../../gateway/main.ts');
  try {
    return await openExistingDatabase(
      gatewayDatabaseSpec,
      base.databaseUrl
        ? { engine: 'postgres', url: base.databaseUrl, poolSize: 1 }
        : { engine: 'pglite', dataDir: base.dataDir },
    );
  } catch (err) {
    throw new CliError(
      EXIT.unavailable,
      `cannot open the gateway's database: ${(err as Error).message}`,
      'ledger.no_database',
    );
  }
}

/** Adds `ledger verify`. */
export function registerLedger(program: Command, io: RunIo): void {
  const ledger = program.command('ledger').description("the gateway's double-entry ledger");
  ledger
    .command('verify')
    .description(
      "check the gateway's books across every merchant: every transfer balanced, every currency summing to zero, no account below zero that must not be, every capture posted once, every void voided, no reservation left open, every refund recorded",
    )
    .addHelpText(
      'after',
      `
The gateway's database is found from the gateway's variables: GATEWAY_DATABASE_URL (PostgreSQL),
else GATEWAY_DATA_DIR or <data-dir>/gateway (embedded PGlite: stop the gateway first, it allows one
process). Read only. Exit 0 when the books agree, 1 with every difference listed, 3 when the database
cannot be opened.`,
    )
    .action(
      action(io, async (ctx) => {
        const database = await openGatewayDatabase({ ...ctx.env, DATA_DIR: ctx.dataDir });
        const { verifyLedger } = await import('../../gateway/storage/ledger-verify.ts');
        try {
          const report = await verifyLedger(database.db).catch((err: Error) => {
            throw new CliError(EXIT.unavailable, `cannot read the ledger: ${err.message}`, 'ledger.unreadable');
          });
          ctx.out.result({ ...report, verdict: report.findings.length === 0 ? 'clean' : 'differences' });
          ctx.out.line(
            `checked ${report.accounts} account(s), ${report.transfers} transfer(s), ${report.sessions} payment session(s)`,
          );
          for (const f of report.findings) ctx.out.line(`DIFF  ${f.check.padEnd(20)} ${f.subject}  ${f.detail}`);
          ctx.out.line(
            report.findings.length === 0
              ? 'OK: the books balance and agree with every payment'
              : `${report.findings.length} difference(s)`,
          );
          return report.findings.length === 0 ? EXIT.ok : EXIT.problem;
        } finally {
          await database.close();
        }
      }),
    );
}
