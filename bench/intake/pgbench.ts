// pgbench with bench/intake.sql: the SQL one accepted intake transaction runs, for pre-created
// invoices, at the same concurrency and duration as the shop was driven. Its tps is the database's
// own limit for that transaction on this machine; the shop's deliveries/s are compared to it.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const PGBENCH = process.env.COUNTERSIGN_PGBENCH ?? '/usr/lib/postgresql/15/bin/pgbench';
export const INTAKE_SQL = fileURLToPath(new URL('../intake.sql', import.meta.url));

/** SQL statements one run of bench/intake.sql sends (BEGIN and COMMIT included; meta-commands not). */
export function intakeScriptStatements(): number {
  const body = readFileSync(INTAKE_SQL, 'utf8')
    .split('\n')
    .filter((l) => !l.startsWith('--') && !l.startsWith('\\set'))
    .join('\n');
  return body.split(/;\s*$|\\gset\s*$/m).filter((part) => part.trim().length > 0).length;
}

export interface PgbenchResult {
  readonly tps: number;
  readonly latencyMs: number;
  readonly transactions: number;
  readonly failed: number;
}

/** Runs pgbench -n -f bench/intake.sql against `url`; `invoices` is how many rows of the batch tag exist. */
export async function runPgbench(input: {
  url: string;
  concurrency: number;
  seconds: number;
  tag: string;
  invoices: number;
  amountMinor: string;
  currency: string;
}): Promise<PgbenchResult> {
  const args = [
    '-n',
    '-c',
    String(input.concurrency),
    '-j',
    String(Math.min(2, input.concurrency)),
    '-T',
    String(Math.max(1, Math.round(input.seconds))),
    // Extended protocol, unnamed statements, parameters bound: what node-postgres does for the shop.
    '-M',
    'extended',
    '-D',
    `tag=${input.tag}`,
    '-D',
    `invoices=${input.invoices}`,
    '-D',
    `clients=${input.concurrency}`,
    '-D',
    'seq=0',
    '-D',
    `amount=${input.amountMinor}`,
    '-D',
    `currency=${input.currency}`,
    '-f',
    INTAKE_SQL,
    input.url,
  ];
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(PGBENCH, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (d) => (text += d));
    child.stderr.on('data', (d) => (text += d));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(text) : reject(new Error(`pgbench exited ${code}:\n${text.slice(-2000)}`)),
    );
  });
  const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(out);
  const latency = /latency average = ([\d.]+) ms/.exec(out);
  const processed = /number of transactions actually processed: (\d+)/.exec(out);
  const failed = /number of failed transactions: (\d+)/.exec(out);
  if (!tps || !latency) throw new Error(`pgbench: could not read tps/latency from:\n${out.slice(-2000)}`);
  return {
    tps: Number(tps[1]),
    latencyMs: Number(latency[1]),
    transactions: Number(processed?.[1] ?? 0),
    failed: Number(failed?.[1] ?? 0),
  };
}
