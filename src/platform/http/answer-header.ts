// Headers a middleware adds to the answer after the routes below it made it: no-store, HSTS, the
// page headers.
import type { Context } from 'hono';

/**
 * Sets `name` on the response the handlers already made. Hono's c.header() at that point first copies
 * the response (new Response(res.body, res)); on @hono/node-server, reading `body` builds a web
 * Response and its stream for an answer otherwise written straight from its string (1.4% of the
 * shop's CPU under load, for its no-store header alone). The headers of a response the app made
 * (c.html, c.json, c.body, c.redirect) are mutable and set in place; a response whose headers are
 * immutable (one from fetch()) still goes through Hono's copy.
 */
export function setAnswerHeader(c: Context, name: string, value: string): void {
  try {
    c.res.headers.set(name, value);
  } catch {
    c.header(name, value);
  }
}
