// Where a merchant's webhooks may go. A webhook carries payment news the merchant acts on, signed but
// readable: over plain http anyone on the path reads every payment and can delay or drop it. So an
// endpoint must be https, except on this machine's loopback (development, tests) or when the operator
// says so explicitly (GATEWAY_ALLOW_HTTP_WEBHOOKS, for a closed test network).

/** True for hosts that never leave the machine: localhost, *.localhost, 127.0.0.0/8 and ::1. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  return (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    host === '::1' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
  );
}

/** Why a webhook URL is refused, or undefined when it is acceptable. */
export function webhookUrlProblem(url: string, allowHttp: boolean): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be a URL';
  }
  if (parsed.protocol === 'https:') return undefined;
  if (parsed.protocol !== 'http:') return 'must be an https:// URL';
  if (allowHttp || isLoopbackHost(parsed.hostname)) return undefined;
  return `must be https:// (plain http is allowed only to localhost/127.0.0.1, or with GATEWAY_ALLOW_HTTP_WEBHOOKS=true)`;
}
