// `countersign`: the command line of the system (the `bin` of package.json; `npm start` runs
// `countersign start`). Each subcommand is one file of commands/; this file only assembles them.
import { type Command, CommanderError } from 'commander';
import { isMain } from '../platform/service.ts';
import { EXIT } from './exit-codes.ts';
import { finish, rootProgram, type RunIo } from './program.ts';

type Register = (program: Command, io: RunIo) => void;

// Each subcommand's module, loaded only when needed: `countersign start` (the launcher `npm start`
// leaves running beside the parties) loaded every command's dependencies (drizzle, pg, PGlite, the
// shop's and gateway's modules), 80 MB of its ~100 MB resident. The order is the order of the help.
const COMMANDS: Record<string, () => Promise<Register>> = {
  start: async () => (await import('./commands/start.ts')).registerStart,
  audit: async () => (await import('./commands/audit.ts')).registerAudit,
  events: async () => (await import('./commands/events.ts')).registerEvents,
  trigger: async () => (await import('./commands/trigger.ts')).registerTrigger,
  listen: async () => (await import('./commands/listen.ts')).registerListen,
  reconcile: async () => (await import('./commands/reconcile.ts')).registerReconcile,
  doctor: async () => (await import('./commands/doctor.ts')).registerDoctor,
  secrets: async () => (await import('./commands/secrets.ts')).registerSecrets,
  ledger: async () => (await import('./commands/ledger.ts')).registerLedger,
};

/**
 * The subcommand `argv` names, if it names one: its first word that is not an option or the value of
 * a global option (`--shop-url X`). Anything else (help, a typo, no command) gets every command, for
 * the full help and commander's suggestions.
 */
export function namedCommand(argv: readonly string[], program: Command): string | undefined {
  const takesValue = new Set(program.options.filter((o) => o.required || o.optional).map((o) => o.long));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') return undefined;
    if (arg.startsWith('-')) {
      if (takesValue.has(arg)) i++;
      continue;
    }
    return Object.hasOwn(COMMANDS, arg) ? arg : undefined;
  }
  return undefined;
}

/** Runs the command line `argv` (without node and the script); resolves with the exit code. */
export async function runCli(argv: readonly string[], io: Partial<RunIo> = {}): Promise<number> {
  const full: RunIo = {
    env: io.env ?? process.env,
    out: io.out ?? ((t) => process.stdout.write(t)),
    err: io.err ?? ((t) => process.stderr.write(t)),
  };
  const program = rootProgram(full);
  const named = namedCommand(argv, program);
  for (const name of named ? [named] : Object.keys(COMMANDS)) (await COMMANDS[name]!())(program, full);
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
