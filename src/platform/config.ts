// Each service parses its environment once, at start, into a frozen typed object, and refuses to
// start with a message that names the variable at fault.
import { z } from 'zod';

/** Raised when the environment is wrong; the message names every bad variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses `env` against a zod object whose keys are the variable names; returns a frozen result. */
export function parseEnv<S extends z.ZodRawShape>(
  service: string,
  shape: S,
  env: Record<string, string | undefined> = process.env,
): Readonly<z.infer<z.ZodObject<S>>> {
  const result = z.object(shape).safeParse(env);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const name = issue.path.join('.');
      const raw = env[name];
      const shown = raw === undefined ? 'unset' : `"${raw.length > 40 ? `${raw.slice(0, 40)}…` : raw}"`;
      // Never echo values of variables that hold secrets.
      const safe = /SECRET|KEY|PASSWORD|TOKEN|URL/.test(name) && raw !== undefined ? '(value hidden)' : shown;
      return `  ${name}: ${issue.message} (got ${safe})`;
    });
    throw new ConfigError(`${service}: invalid configuration:\n${lines.join('\n')}`);
  }
  return Object.freeze(result.data);
}

/** A TCP port: 0 asks the OS for a free one. */
export const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);

/** A PostgreSQL URL, or unset for the embedded default. */
export const databaseUrl = z
  .string()
  .refine((v) => /^postgres(ql)?:\/\//.test(v), 'must be a postgres:// URL')
  .optional();

/** A positive integer count of seconds, milliseconds or minor units. */
export const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/** Log level names pino knows. */
export const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info');
