// `countersign`: the command line of the system (the `bin` of package.json; `npm start` runs
// `countersign start`). Each subcommand is one file of commands/; this file only assembles them.
import { CommanderError } from 'commander';
import { isMain } from '../platform/service.ts';
import { registerAudit } from './commands/audit.ts';
import { registerDoctor } from './commands/doctor.ts';
import { registerEvents } from './commands/events.ts';
import { registerLedger } from './commands/ledger.ts';
import { registerListen } from './commands/listen.ts';
import { registerReconcile } from './commands/reconcile.ts';
import { registerSecrets } from './commands/secrets.ts';
import { registerStart } from './commands/start.ts';
import { registerTrigger } from './commands/trigger.ts';

import { EXIT } from './exit-codes.ts';
import { finish, rootProgram, type RunIo } from './program.ts';

/** Runs the command line `argv` (without node and the script); resolves with the exit code. */
export async function runCli(argv: readonly string[], io: Partial<RunIo> = {}): Promise<number> {
  const full: RunIo = {
    env: io.env ?? process.env,
    out: io.out ?? ((t) => process.stdout.write(t)),
    err: io.err ?? ((t) => process.stderr.write(t)),
  };
  const program = rootProgram(full);
  registerStart(program, full);
  registerAudit(program, full);
  registerEvents(program, full);
  registerTrigger(program, full);
  registerListen(program, full);
  registerReconcile(program, full);
  registerDoctor(program, full);
  registerSecrets(program, full);
  registerLedger(program, full);

  finish(program);
  process.exitCode = undefined;
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    throw err;
  }
  return Number(process.exitCode ?? EXIT.ok);
}

if (isMain(import.meta.url)) {
  const code = await runCli(process.argv.slice(2));
  process.exitCode = code;
}
