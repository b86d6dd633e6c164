// A fault-injecting HTTPS proxy in front of a real kube-apiserver, for tests of how a client copes
// with an apiserver that sheds load or fails. It forwards every request, watch streams included
// (long-lived chunked responses, piped as they come), with the upstream credentials it was given;
// on command it answers 429 Too Many Requests with a Retry-After header (as API Priority and
// Fairness does) or 500 with a Kubernetes Status body, for every request or an even share of
// them, and cuts the watch streams open when a fault starts.
//
// Its clients authenticate with a random bearer token of its own (in the kubeconfig it hands
// out), which it never forwards; its serving key lives in memory only. Nothing here logs: the
// caller reads counts and the request record (method, path, status; no headers).
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { ClientRequest, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { Agent as HttpsAgent, type RequestOptions, createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { type CertFiles, createCA, issueCert } from '../pki.ts';

export interface Fault {
  readonly status: 429 | 500;
  /** Share of requests answered with the fault, spread evenly (0.5: every second one). Default 1. */
  readonly fraction?: number;
  /** The Retry-After of a 429, in seconds. Default 1, what API Priority and Fairness sends. */
  readonly retryAfterSeconds?: number;
}

/** One request as the proxy saw it: no headers, no body, no query values. */
export interface ProxiedRequest {
  /** Date.now() when it arrived. */
  readonly at: number;
  readonly method: string;
  /** The path without the query. */
  readonly path: string;
  readonly watch: boolean;
  /** The status the client got: the fault's, the apiserver's, 401 (bad token) or 503 (upstream unreachable). */
  readonly status: number;
  /** Answered by the fault, not forwarded. */
  readonly injected: boolean;
}

export interface FaultProxy {
  /** https://127.0.0.1:<port> */
  readonly url: string;
  /** A kubeconfig for clients: this proxy as the server, its CA, its token. Write it with mode 0600. */
  kubeconfig(): string;
  /** Starts answering with `fault` (replacing any current one) and cuts every open watch stream. */
  fail(fault: Fault): void;
  /** Forwards everything again. Watches opened meanwhile are left alone. */
  heal(): void;
  /** Every request so far, in the order they were answered. */
  requests(): readonly ProxiedRequest[];
  /** Watch streams cut by fail() so far. */
  cutWatches(): number;
  close(): Promise<void>;
}

interface Exchange {
  readonly res: ServerResponse;
  upstream: ClientRequest | null;
  readonly watch: boolean;
}

// Hop-by-hop headers (RFC 9110 §7.6.1) and the client's credentials are not forwarded.
const NOT_FORWARDED = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host', 'authorization']);

function forwardable(headers: IncomingMessage['headers']): OutgoingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => !NOT_FORWARDED.has(k.toLowerCase())));
}

function statusBody(code: number, reason: string, message: string, details?: Record<string, unknown>): string {
  return `${JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details === undefined ? {} : { details }), code })}\n`;
}

/**
 * Starts the proxy on a free loopback port in front of `upstream`'s current cluster, forwarding
 * as `upstream`'s current user (client certificate or token).
 */
export async function startFaultProxy(upstream: KubeConfig): Promise<FaultProxy> {
  const server = upstream.getCurrentCluster()?.server;
  if (server === undefined || !server.startsWith('https://')) throw new Error(`fault proxy: the upstream kubeconfig's server must be https:// (got ${server ?? 'none'})`);
  const target = new URL(server);
  const creds: RequestOptions = {};
  await upstream.applyToHTTPSOptions(creds);
  const upstreamAgent = new HttpsAgent({ keepAlive: true, ca: creds.ca, cert: creds.cert, key: creds.key });
  const upstreamHeaders = (creds.headers ?? {}) as OutgoingHttpHeaders;

  // A throwaway CA and serving certificate; the files are removed as soon as they are read.
  const pkiDir = await mkdtemp(join(tmpdir(), 'temper-fault-proxy-'));
  const [ca, serving] = await (async (): Promise<[CertFiles, CertFiles]> => {
    try {
      const authority = await createCA(pkiDir, 'ca', 'temper-fault-proxy-ca');
      return [authority, await issueCert(pkiDir, authority, { name: 'serving', commonName: 'temper-fault-proxy', dnsNames: ['localhost'], ips: ['127.0.0.1'], usage: 'server' })];
    } finally {
      await rm(pkiDir, { recursive: true, force: true });
    }
  })();
  const token = randomBytes(32).toString('base64url');
  const expected = Buffer.from(`Bearer ${token}`);
  const authorized = (header: string | undefined): boolean => {
    const got = Buffer.from(header ?? '');
    return got.length === expected.length && timingSafeEqual(got, expected);
  };

  let fault: Fault | null = null;
  let inWindow = 0;
  let cut = 0;
  const record: ProxiedRequest[] = [];
  const open = new Set<Exchange>();

  /** Whether the next request of the current window gets the fault: evenly spread, exact over time. */
  const hit = (f: Fault): boolean => {
    const share = f.fraction ?? 1;
    const k = inWindow++;
    return Math.floor((k + 1) * share) > Math.floor(k * share);
  };

  const answer = (res: ServerResponse, code: number, body: string, headers: OutgoingHttpHeaders = {}): void => {
    res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
    res.end(body);
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'https://proxy.invalid');
    const watch = url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1';
    const seen = { at: Date.now(), method: req.method ?? 'GET', path: url.pathname, watch };
    if (!authorized(req.headers.authorization)) {
      req.resume();
      record.push({ ...seen, status: 401, injected: false });
      answer(res, 401, statusBody(401, 'Unauthorized', 'Unauthorized'));
      return;
    }
    const f = fault;
    if (f !== null && hit(f)) {
      req.resume(); // drain the body so the connection can be reused
      record.push({ ...seen, status: f.status, injected: true });
      if (f.status === 429) {
        const seconds = f.retryAfterSeconds ?? 1;
        answer(res, 429, statusBody(429, 'TooManyRequests', 'Too many requests, please try again later.', { retryAfterSeconds: seconds }), { 'retry-after': String(seconds) });
      } else {
        answer(res, 500, statusBody(500, 'InternalError', 'Internal error occurred: injected by the test fault proxy', { causes: [{ message: 'injected by the test fault proxy' }] }));
      }
      return;
    }
    const exchange: Exchange = { res, upstream: null, watch };
    open.add(exchange);
    res.on('close', () => {
      open.delete(exchange);
      exchange.upstream?.destroy(); // the client went away (or was cut): so does the upstream request
    });
    const up = request({
      agent: upstreamAgent, host: target.hostname, port: target.port, path: `${url.pathname}${url.search}`, method: req.method,
      headers: { ...forwardable(req.headers), ...upstreamHeaders, host: target.host },
    }, (upRes) => {
      record.push({ ...seen, status: upRes.statusCode ?? 0, injected: false });
      res.writeHead(upRes.statusCode ?? 502, forwardable(upRes.headers));
      res.flushHeaders(); // a watch's headers come before its first event, which may take minutes
      upRes.pipe(res);
      upRes.on('error', () => res.destroy());
    });
    exchange.upstream = up;
    up.on('error', (err) => {
      if (res.headersSent) { res.destroy(); return; }
      record.push({ ...seen, status: 503, injected: false });
      answer(res, 503, statusBody(503, 'ServiceUnavailable', `fault proxy: upstream request failed: ${err.message}`));
    });
    req.pipe(up);
  };

  const proxy = createServer({ cert: serving.certPem, key: serving.keyPem }, handle);
  await new Promise<void>((resolve, reject) => {
    proxy.once('error', reject);
    proxy.listen(0, '127.0.0.1', resolve);
  });
  const url = `https://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  const caPem = ca.certPem;

  return {
    url,
    kubeconfig: () => stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'fault-proxy', cluster: { server: url, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } }],
      users: [{ name: 'fault-proxy', user: { token } }],
      contexts: [{ name: 'fault-proxy', context: { cluster: 'fault-proxy', user: 'fault-proxy' } }],
      'current-context': 'fault-proxy',
    }),
    fail: (f) => {
      fault = f;
      inWindow = 0;
      for (const x of [...open]) {
        if (!x.watch) continue;
        cut++;
        x.upstream?.destroy();
        x.res.destroy(); // the client sees its stream end mid-body, as when an apiserver goes away
      }
    },
    heal: () => { fault = null; },
    requests: () => record,
    cutWatches: () => cut,
    close: async () => {
      fault = null;
      for (const x of [...open]) { x.upstream?.destroy(); x.res.destroy(); }
      proxy.closeAllConnections();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      upstreamAgent.destroy();
    },
  };
}
