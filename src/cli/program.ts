// The `countersign` command line: one commander program, the options every subcommand shares, and
// one place that turns what a command threw into its message and exit code.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../platform/project-root.ts';
import { Command, CommanderError } from 'commander';
import { createContext, type CliContext, type GlobalOptions } from './context.ts';
import { CliError, EXIT, EXIT_CODES_HELP } from './exit-codes.ts';

const pkg = JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as { version: string };

/** A subcommand's body: gets the run's context and its own arguments; resolves with the exit code. */
export type Handler<A extends unknown[]> = (ctx: CliContext, ...args: A) => Promise<number | void>;

/** Where a run reports (a test passes its own). */
export interface RunIo {
  readonly env: Record<string, string | undefined>;
  readonly err: (text: string) => void;
  readonly out: (text: string) => void;
}

/** Wraps a handler as a commander action: the context from the global options, errors to exit codes. */
export function action<A extends unknown[]>(io: RunIo, handler: Handler<A>) {
  return async (...raw: unknown[]) => {
    const command = raw.at(-1) as Command;
    const args = raw.slice(0, -1) as A;
    const globals = command.optsWithGlobals<GlobalOptions>();
    try {
      const ctx = createContext(globals, io.env);
      process.exitCode = (await handler(ctx, ...args)) ?? EXIT.ok;
    } catch (err) {
      process.exitCode = report(err, globals.json === true, io);
    }
  };
}

/** Prints a failure (a JSON `{ error }` on stdout with --json, a line on stderr otherwise); returns its exit code. */
export function report(err: unknown, json: boolean, io: RunIo): number {
  const known = err instanceof CliError;
  const code = known ? err.exitCode : EXIT.problem;
  const message = err instanceof Error ? err.message : String(err);
  if (json)
    io.out(
      `${JSON.stringify({ error: { code: known ? err.code : 'internal', message, exit_code: code } }, null, 2)}\n`,
    );
  else io.err(`countersign: ${message}\n`);
  return code;
}

/** The root program with the shared options; subcommands are added by `register`. */
export function rootProgram(io: RunIo): Command {
  const program = new Command('countersign')
    .description('Run, drive and check a countersign system (shop, gateway, bank) from the terminal.')
    .version(pkg.version)
    .option('--json', 'print one JSON document (for programs) instead of lines for a human')
    .option(
      '--gateway-url <url>',
      'the gateway (default: COUNTERSIGN_GATEWAY_URL, GATEWAY_PUBLIC_URL, or port GATEWAY_PORT/3001)',
    )
    .option('--shop-url <url>', 'the shop (default: COUNTERSIGN_SHOP_URL, SHOP_PUBLIC_URL, or port SHOP_PORT/3000)')
    .option('--bank-url <url>', 'the bank (default: COUNTERSIGN_BANK_URL, BANK_PUBLIC_URL, or port BANK_PORT/3002)')
    .option(
      '--api-key <key>',
      "the merchant's secret API key (default: COUNTERSIGN_API_KEY, or the demo merchant's in <data-dir>/secrets.json)",
    )
    .option(
      '--operator-token <token>',
      "the shop's operator token, for reconcile, doctor and secrets rotate (default: COUNTERSIGN_OPERATOR_TOKEN, or the one in <data-dir>/secrets.json)",
    )
    .option('--data-dir <dir>', 'where `countersign start` keeps its data (default: DATA_DIR or ./data)')
    .showSuggestionAfterError(true)
    .configureOutput({ writeOut: io.out, writeErr: io.err });
  return program;
}

/** Every command: exit codes listed in its help, usage errors exit 2 instead of commander's 1. */
export function finish(program: Command): Command {
  const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)];
  for (const c of all(program)) {
    c.addHelpText('after', `\n${EXIT_CODES_HELP}`);
    c.exitOverride((err: CommanderError) => {
      const quiet = ['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(err.code);
      throw new CommanderError(quiet ? EXIT.ok : EXIT.usage, err.code, err.message);
    });
    c.configureOutput(program.configureOutput());
  }
  return program;
}
