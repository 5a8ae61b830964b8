// Verifies the shop's hash-chained audit log (seeds 001, 002): walks every entry from the first,
// recomputing each hash over the previous one, and checks the chain against the signed checkpoints
// the shop keeps outside its database, so that an edited, inserted or deleted entry, entries cut from
// the end, and a chain rewritten from scratch are all named.
//
//   npx tsx scripts/verify-audit.ts [--allow-no-checkpoint]
//
// It finds the shop's database from the same variables as the shop: SHOP_DATABASE_URL (PostgreSQL),
// otherwise SHOP_DATA_DIR or DATA_DIR/shop (embedded PGlite: stop the shop first, PGlite allows one
// process per directory), and never creates one. The checkpoints: SHOP_AUDIT_CHECKPOINT_DIR (default
// DATA_DIR/audit-checkpoints), checked with SHOP_AUDIT_PUBLIC_KEY, else the shop's
// SHOP_AUDIT_SIGNING_KEY, else the key `npm start` keeps in DATA_DIR/secrets.json.
// Exit code 0 when intact, 1 when broken, 2 when it could not check (no database, no checkpoint).
// The logic is src/shop/audit/verify-command.ts.
import { isMain } from '../src/platform/service.ts';
import { verifyAuditCommand } from '../src/shop/audit/verify-command.ts';

export { verifyShopAudit, type AuditVerdict } from '../src/shop/audit/verify.ts';

/** Runs the command: prints the verdict and returns the exit code. */
export function main(
  env: Record<string, string | undefined> = process.env,
  out: (line: string) => void = console.log,
  argv: readonly string[] = process.argv.slice(2),
): Promise<number> {
  return verifyAuditCommand(argv, env, out);
}

if (isMain(import.meta.url)) process.exitCode = await main();
