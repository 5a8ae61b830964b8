// The calls between the parties (gateway → bank, gateway → webhook endpoints, bank → gateway, shop →
// gateway) over node:http with keep-alive agents, instead of the web fetch. Each is a short request
// with a string body whose answer is read whole, and fetch's machinery for that was a fifth of the
// gateway's CPU under load: a web Request, an AbortSignal chain, and a request body always written
// from an async generator (headers and body in separate writes, chunked), then a ReadableStream for
// the answer. Here the headers and body go in one write, and the answer is one Buffer.
//
// Only a request that fits takes this path: a URL (not a Request), a string body or none, and
// `redirect: 'manual'` (a signed request is never re-sent to another URL). Anything else goes to the
// fetch given. What it returns is a web Response, as fetch's: status, headers, the URL, the body
// (read whole, at most MAX_ANSWER_BYTES: more is a failed request, so that an endpoint cannot make
// this process hold an unbounded answer). Failures look like fetch's: a TypeError 'fetch failed' whose
// cause carries the network error's code, or the signal's reason when it aborts.
//
// Written here rather than taken from undici's `request`: loading the undici package costs each
// process about 20 MB resident (see outbound.ts), node:http is already in every process, and the
// adapter is the few lines below.
import http from 'node:http';
import https from 'node:https';

/** The largest answer read, in bytes. */
export const MAX_ANSWER_BYTES = 8 * 1024 * 1024;

/** Agents with keep-alive; free sockets are closed after 4 s, before a Node server's 5 s would. */
export interface Agents {
  readonly http: http.Agent;
  readonly https: https.Agent;
}

/** Keep-alive agents; `connect` goes to every socket they open (a CA, a guarded lookup). */
export function keepAliveAgents(connect: https.AgentOptions = {}): Agents {
  const common = { keepAlive: true, timeout: 4_000, noDelay: true };
  return {
    http: new http.Agent({ ...common, ...(connect.lookup ? { lookup: connect.lookup } : {}) } as http.AgentOptions),
    https: new https.Agent({ ...common, ...connect }),
  };
}

const NULL_BODY = new Set([204, 205, 304]);

/** fetch's failure: a TypeError whose cause is what went wrong on the wire. */
export function fetchFailed(cause: unknown): TypeError {
  return new TypeError('fetch failed', { cause });
}

function fits(input: Parameters<typeof fetch>[0], init: RequestInit | undefined): init is RequestInit {
  if (!(typeof input === 'string' || input instanceof URL) || init?.redirect !== 'manual') return false;
  return init.body === undefined || init.body === null || typeof init.body === 'string';
}

function plainHeaders(given: HeadersInit | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (given === undefined) return out;
  const pairs: Iterable<readonly [string, string]> =
    given instanceof Headers || Array.isArray(given)
      ? (given as Iterable<readonly [string, string]>)
      : Object.entries(given as Record<string, string>);
  for (const [name, value] of pairs) {
    const key = name.toLowerCase();
    out[key] = key in out ? `${out[key]}, ${value}` : value;
  }
  return out;
}

function send(url: URL, init: RequestInit, agents: Agents): Promise<Response> {
  const signal = init.signal ?? undefined;
  if (signal?.aborted) return Promise.reject(signal.reason);
  const method = (init.method ?? 'GET').toUpperCase();
  const body = typeof init.body === 'string' ? init.body : undefined;
  const headers = plainHeaders(init.headers);
  headers.accept ??= '*/*';
  if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
  const secure = url.protocol === 'https:';
  return new Promise<Response>((resolve, reject) => {
    let done = false;
    const settle = (outcome: () => void) => {
      if (done) return;
      done = true;
      signal?.removeEventListener('abort', onAbort);
      outcome();
    };
    const fail = (err: unknown) => settle(() => reject(err));
    const onAbort = () => {
      request.destroy();
      fail(signal!.reason);
    };
    const request = (secure ? https : http).request(
      {
        protocol: url.protocol,
        hostname: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        method,
        headers,
        agent: secure ? agents.https : agents.http,
      },
      (answer) => {
        const chunks: Buffer[] = [];
        let size = 0;
        answer.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_ANSWER_BYTES) {
            answer.destroy();
            fail(fetchFailed(Object.assign(new Error('answer over the size limit'), { code: 'EANSWERTOOLARGE' })));
          } else chunks.push(chunk);
        });
        answer.on('error', (err) => fail(fetchFailed(err)));
        answer.on('close', () => {
          if (!answer.complete) fail(fetchFailed(Object.assign(new Error('answer cut short'), { code: 'ECONNRESET' })));
        });
        answer.on('end', () => {
          try {
            const status = answer.statusCode ?? 0;
            const answerHeaders = new Headers();
            const raw = answer.rawHeaders;
            for (let i = 0; i < raw.length; i += 2) answerHeaders.append(raw[i]!, raw[i + 1]!);
            const empty = NULL_BODY.has(status) || method === 'HEAD';
            const response = new Response(empty ? null : Buffer.concat(chunks, size), {
              status,
              statusText: answer.statusMessage ?? '',
              headers: answerHeaders,
            });
            Object.defineProperty(response, 'url', { value: url.href });
            settle(() => resolve(response));
          } catch (err) {
            // A status a web Response cannot carry (below 200 or over 599), or a header it refuses.
            fail(fetchFailed(err));
          }
        });
      },
    );
    signal?.addEventListener('abort', onAbort, { once: true });
    request.on('error', (err) => fail(fetchFailed(err)));
    request.end(body);
  });
}

/** A fetch that sends what fits (see above) over `agents`, and everything else through `fallback`. */
export function bufferedFetch(fallback: typeof fetch, agents: Agents): typeof fetch {
  return ((input: Parameters<typeof fetch>[0], init?: RequestInit) => {
    const url = fits(input, init) && URL.canParse(String(input)) ? new URL(String(input)) : undefined;
    return url && (url.protocol === 'http:' || url.protocol === 'https:')
      ? send(url, init!, agents)
      : fallback(input, init);
  }) as typeof fetch;
}
