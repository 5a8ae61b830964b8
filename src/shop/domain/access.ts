/**
 * Who may see what (seed 002): an order, its invoice and its receipt answer only their owner or the
 * shop's staff. Anyone else is told nothing — not even that the thing exists.
 */

export type Role = 'customer' | 'staff';

/** The logged-in person, as the rules need them. */
export interface Viewer {
  readonly id: string;
  readonly role: Role;
}

/** Whether `viewer` may see a resource owned by `ownerId`. */
export function canView(viewer: Viewer, ownerId: string): boolean {
  return viewer.role === 'staff' || viewer.id === ownerId;
}

// Any origin will do for resolving: only the path that comes out is used, and it is checked after
// the parser has normalised it (dot segments, %2e, backslashes), which is what a browser will follow.
const BASE = 'http://shop.invalid';

/**
 * The path a login may return to: a path on the shop's own origin ("/orders/ord_1?x=y"). The target
 * is judged after the URL parser has normalised it: "/.//evil", "/a/..//evil" and "/%2e//evil" all
 * normalise to "//evil", which a browser reads as another host. Anything that is not plainly a path
 * on this origin — absolute URLs, "//" or "/\\" starts before or after normalisation, control
 * characters, backslashes — becomes "/".
 */
export function safeNextPath(next: unknown): string {
  if (typeof next !== 'string' || next.length === 0 || next.length > 512) return '/';
  // The raw form is already a path (no scheme, no host) and free of what parsers disagree about.
  if (!next.startsWith('/') || /[\\\u0000-\u001f\u007f]/.test(next)) return '/';
  const path = normalisedPath(next);
  // What we emit must be read the same way again: a path, not a network path, and stable.
  if (path === undefined || !isPlainPath(path) || normalisedPath(path) !== path) return '/';
  return path;
}

function normalisedPath(target: string): string | undefined {
  try {
    const url = new URL(target, BASE);
    return url.origin === BASE ? `${url.pathname}${url.search}${url.hash}` : undefined;
  } catch {
    return undefined;
  }
}

function isPlainPath(path: string): boolean {
  return path.startsWith('/') && !path.startsWith('//') && !/[\\\u0000-\u001f\u007f]/.test(path);
}

/** Whether a path of the shop is only for a logged-in owner (a visitor sent to log in from it was refused). */
export function isPrivatePath(path: string): boolean {
  return /^\/(orders|invoices|staff|api)(\/|\?|$)/.test(path);
}
