/**
 * The loopback check every listener of Temper uses: a bind address, or the name in a request's
 * Host header, that means this machine only. A loopback-bound server still answers pages on
 * other sites through DNS rebinding (their name resolving to 127.0.0.1), so such servers also
 * refuse requests whose Host header is not loopback.
 */
import { isIP } from 'node:net';

const LOOPBACK_NAMES = new Set(['localhost', '::1', '[::1]']);

/** Whether `host` (a bind address or a host name, no port) is loopback: localhost, ::1 or 127.0.0.0/8. */
export function isLoopback(host: string): boolean {
  return LOOPBACK_NAMES.has(host) || (isIP(host) === 4 && host.startsWith('127.'));
}

/** The name of a Host header without its port (lower-cased), or null when absent or malformed. */
export function hostHeaderName(header: string | undefined): string | null {
  if (header === undefined) return null;
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:]+)(?::\d+)?$/.exec(header);
  return m?.[1]?.toLowerCase() ?? null;
}

/** Whether a request's Host header names a loopback address. */
export function isLoopbackHostHeader(header: string | undefined): boolean {
  const name = hostHeaderName(header);
  return name !== null && isLoopback(name);
}
