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

/**
 * The path a login may return to: same-origin and relative only ("/orders/ord_1?x=y"). Anything else
 * — absolute URLs, protocol-relative "//evil", backslash tricks, control characters — becomes "/".
 */
export function safeNextPath(next: unknown): string {
  if (typeof next !== 'string' || next.length === 0 || next.length > 512) return '/';
  if (!next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/';
  if (/[\\\u0000-\u001f\u007f]/.test(next)) return '/';
  // The URL parser is the judge: resolved against a dummy origin it must stay on that origin.
  try {
    const url = new URL(next, 'http://shop.invalid');
    if (url.origin !== 'http://shop.invalid') return '/';
    return `${url.pathname}${url.search}${url.hash}`;
  } catch {
    return '/';
  }
}
