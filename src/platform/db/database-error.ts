// The database's own error behind one that wraps it (drizzle wraps pg's and PGlite's as `cause`): its
// SQLSTATE code, message and detail, for code that acts on what the database refused.

export interface DatabaseError {
  readonly code: string;
  readonly message: string;
  readonly detail: string | undefined;
}

/** The first error along the `cause` chain (at most 5 deep) that carries a SQLSTATE code; undefined if none. */
export function databaseError(err: unknown): DatabaseError | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, message, detail } = e as { code?: unknown; message?: unknown; detail?: unknown };
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code))
      return {
        code,
        message: typeof message === 'string' ? message : '',
        detail: typeof detail === 'string' ? detail : undefined,
      };
  }
  return undefined;
}
