// `countersign audit verify`: the shop's own admin tool for its hash-chained audit log. It imports the
// shop's verifier (src/shop/audit/verify-command.ts), which opens the shop's database read-only in
// spirit and never creates one: with no database it refuses, exit 3.
import type { Command } from 'commander';
import { verifyAuditCommand } from '../../shop/audit/verify-command.ts';
import { EXIT } from '../exit-codes.ts';
import { action, type RunIo } from '../program.ts';

/** Adds `audit verify`. */
export function registerAudit(program: Command, io: RunIo): void {
  const audit = program.command('audit').description("the shop's audit log");
  audit
    .command('verify')
    .description(
      "walk the shop's audit chain from its first entry and check it against the last signed checkpoint (an edited, inserted, deleted or cut entry is named)",
    )
    .option('--allow-no-checkpoint', 'without any checkpoint, check the links only (a cut end would not show)')
    .addHelpText(
      'after',
      `
The shop's database is found from the shop's variables: SHOP_DATABASE_URL (PostgreSQL), else
SHOP_DATA_DIR or <data-dir>/shop (embedded PGlite: stop the shop first, it allows one process).
Checkpoints: SHOP_AUDIT_CHECKPOINT_DIR (default <data-dir>/audit-checkpoints), checked with
SHOP_AUDIT_PUBLIC_KEY, else SHOP_AUDIT_SIGNING_KEY, else the key in <data-dir>/secrets.json.
Entries are chained by the shop's sealer moments after their commit; entries still unsealed after
SHOP_AUDIT_SEAL_STALE_SECONDS (default 60) are reported (exit 1, verdict "unsealed"): no sealer runs.`,
    )
    .action(
      action(io, async (ctx, flags: { allowNoCheckpoint?: boolean }) => {
        const lines: string[] = [];
        const code = await verifyAuditCommand(
          flags.allowNoCheckpoint ? ['--allow-no-checkpoint'] : [],
          { ...ctx.env, DATA_DIR: ctx.dataDir },
          (line) => {
            lines.push(line);
            if (line.startsWith('ERROR: ')) {
              if (!ctx.out.json) io.err(`countersign: ${line.slice('ERROR: '.length)}\n`);
            } else ctx.out.line(line);
          },
        );
        // The verifier's "could not check" is 2; the command line's is 3 (2 is a usage error here).
        const exit = code === 2 ? EXIT.unavailable : code;
        const stalled = lines.some((l) => l.startsWith('PROBLEM: '));
        const broken = lines.some((l) => l.startsWith('BROKEN: '));
        const verdict =
          exit === EXIT.ok
            ? 'intact'
            : exit === EXIT.problem
              ? broken || !stalled
                ? 'broken'
                : 'unsealed'
              : 'not_verified';
        ctx.out.result({ verdict, exit_code: exit, lines });
        return exit;
      }),
    );
}
