// What `countersign`'s exit status means, the same for every subcommand (listed in `--help`), so a
// script can tell "the check failed" from "I could not check" from "you typed it wrong".

export const EXIT = {
  /** Done; the check passed. */
  ok: 0,
  /** Done, and it found a problem: a broken audit chain, a failed doctor check, a payment that did not end as asked. */
  problem: 1,
  /** The command line was wrong: unknown command or option, a missing or malformed argument. */
  usage: 2,
  /** Could not check: a service unreachable, no database, no checkpoint. */
  unavailable: 3,
  /** The service refused the API key (missing, unknown or revoked). */
  refused: 4,
  /** No such id (event, delivery, payment session) for this merchant. */
  notFound: 5,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The exit codes as `--help` lists them. */
export const EXIT_CODES_HELP = `Exit codes:
  0  done; the check passed
  1  done, and it found a problem (broken audit chain, failed doctor check, payment not in the asked state)
  2  usage error (unknown command or option, bad argument)
  3  could not check: a service unreachable, no database, no checkpoint
  4  the API key or the operator token was refused
  5  no such id`;

/** A failure the command reports with its exit code (message to stderr, or `{ error }` with --json). */
export class CliError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string,
    readonly code: string = 'cli.failed',
  ) {
    super(message);
  }
}
