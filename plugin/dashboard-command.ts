/**
 * `kubectl temper dashboard`: the node agent's read-only dashboard on a local port. A local HTTP
 * listener forwards GET and HEAD requests to the agent's HTTP server, which is reached exactly
 * as `kubectl temper config` reaches it (`--agent-url`, or a port-forward to the agent pod on
 * the node), and runs until Ctrl-C. Server-sent events (/api/v1/events) stream through.
 */
import { Agent as HttpAgent, createServer, request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, Server, ServerResponse } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { InvalidArgumentError, Option } from 'commander';
import type { Command } from 'commander';
import { hostHeaderName, isLoopback, isLoopbackHostHeader } from '../adapters/loopback.ts';
import type { AgentConnection, AgentLocator } from './agent-client.ts';
import { AgentApiError, connectAgent, getJson } from './agent-client.ts';
import { parseTimeout } from './live.ts';
import type { CliIo } from './options.ts';
import { agentLocatorOptions } from './options.ts';

export interface DashboardOptions extends AgentLocator {
  /** Local address to listen on; loopback by default. */
  address: string;
  /** Local port; 0 picks a free one. */
  port: number;
}

export interface RunningDashboard {
  /** The local URL to open, with a trailing slash. */
  readonly url: string;
  readonly node: string;
  /** Where the agent is, for messages. */
  readonly where: string;
  close(): Promise<void>;
}

function parseListenPort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) throw new InvalidArgumentError('want a TCP port (0–65535; 0 picks a free one)');
  return port;
}

// Hop-by-hop headers belong to one connection, not to the forwarded message.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);
// What a browser may usefully tell the agent; cookies and credentials are never forwarded.
const FORWARDED_REQUEST_HEADERS = ['accept', 'cache-control', 'if-none-match', 'if-modified-since', 'last-event-id', 'range', 'user-agent'];

function responseHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => !HOP_BY_HOP.has(k.toLowerCase())));
}

function sendError(res: ServerResponse, status: number, message: string, extra: OutgoingHttpHeaders = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...extra });
  res.end(`${JSON.stringify({ error: message }, null, 2)}\n`);
}

/**
 * Forwards one browser request to the agent under `root` (its origin and any path prefix).
 * Only GET and HEAD: the agent's HTTP API is read-only. When the listener is on loopback, a
 * Host header naming anything but loopback is refused, so a web page cannot reach the
 * dashboard through DNS rebinding.
 */
interface Upstream {
  /** The agent's origin and any path prefix, with a trailing slash. */
  readonly root: URL;
  readonly agent: AgentConnection;
  /** Its own connection pool, so closing the dashboard leaves no idle socket behind. */
  readonly pool: HttpAgent;
}

function forward(req: IncomingMessage, res: ServerResponse, { root, agent, pool }: Upstream, loopbackOnly: boolean, report: (line: string) => void): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendError(res, 405, `${req.method ?? '?'} ${req.url ?? ''}: the Temper dashboard is read-only (GET only)`, { allow: 'GET, HEAD' });
    return;
  }
  if (loopbackOnly && !isLoopbackHostHeader(req.headers.host)) {
    const host = hostHeaderName(req.headers.host) ?? req.headers.host ?? '';
    sendError(res, 403, `host ${JSON.stringify(host)} is not this machine: open the dashboard through localhost or 127.0.0.1`);
    return;
  }
  const asked = new URL(req.url ?? '/', 'http://dashboard.invalid');
  const target = new URL(`${root.pathname.replace(/\/+$/, '')}${asked.pathname}${asked.search}`, root.origin);
  const headers: OutgoingHttpHeaders = {};
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const value = req.headers[name];
    if (value !== undefined) headers[name] = value;
  }
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  let browserGone = false;
  const upstream = send(target, { method: req.method, headers, agent: pool }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, responseHeaders(answer.headers));
    answer.pipe(res);
    // The agent hung up mid-answer (an event stream when it stops): cut the browser's too, so
    // its EventSource reconnects instead of waiting on a dead stream.
    answer.on('error', () => res.destroy());
    answer.on('aborted', () => res.destroy());
  });
  upstream.on('error', (err: Error) => {
    if (browserGone) return; // we hung up on the agent ourselves
    const why = `cannot reach the Temper agent at ${agent.where}: ${agent.failure?.() ?? err.message}`;
    report(why);
    if (res.headersSent) res.destroy();
    else sendError(res, 502, why);
  });
  // The browser went away (closed tab, EventSource reconnect, Ctrl-C): stop the upstream too.
  res.on('close', () => {
    if (res.writableFinished) return;
    browserGone = true;
    upstream.destroy();
  });
  upstream.end();
}

const urlHost = (address: string): string => (address.includes(':') ? `[${address}]` : address);

/**
 * Reaches the agent, checks that it answers, and starts the local listener. The caller closes
 * it (the command does on Ctrl-C); closing also ends the port-forward.
 */
export async function startDashboard(opts: DashboardOptions, report: (line: string) => void = () => undefined): Promise<RunningDashboard> {
  const timeoutMs = parseTimeout(opts.requestTimeout);
  const agent = await connectAgent(opts);
  try {
    const status = await getJson(agent, '/status', timeoutMs) as { node?: unknown };
    if (typeof status !== 'object' || status === null || typeof status.node !== 'string') {
      throw new AgentApiError(`unexpected answer from the agent at ${agent.where}: not a status`);
    }
    const root = new URL(agent.baseUrl.replace(/\/api\/v1$/, '/'));
    const pool = root.protocol === 'https:' ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
    const loopbackOnly = isLoopback(opts.address);
    let lastReport = '';
    const reportOnce = (line: string): void => {
      if (line !== lastReport) report(line);
      lastReport = line;
    };
    const server: Server = createServer((req, res) => forward(req, res, { root, agent, pool }, loopbackOnly, reportOnce));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => reject(new AgentApiError(`cannot listen on ${urlHost(opts.address)}:${opts.port}: ${err.code ?? err.message}`)));
      server.listen(opts.port, opts.address, () => resolve());
    });
    const bound = server.address();
    const port = bound !== null && typeof bound === 'object' ? bound.port : opts.port;
    return {
      url: `http://${urlHost(opts.address)}:${port}/`,
      node: status.node,
      where: agent.where,
      close: async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections(); // event streams never end on their own
        });
        pool.destroy();
        await agent.close();
      },
    };
  } catch (err) {
    await agent.close();
    throw err;
  }
}

/** Resolves on the first Ctrl-C (SIGINT) or SIGTERM. */
function untilInterrupted(): Promise<string> {
  return new Promise((resolve) => {
    const done = (signal: string): void => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve(signal);
    };
    const onInt = (): void => done('SIGINT');
    const onTerm = (): void => done('SIGTERM');
    process.once('SIGINT', onInt);
    process.once('SIGTERM', onTerm);
  });
}

/** Adds `dashboard` to the kubectl-temper program. */
export function registerDashboardCommand(program: Command, io: CliIo): void {
  const command = program.command('dashboard')
    .description('serve the Temper agent\'s read-only dashboard for a node on a local port, until Ctrl-C')
    .option('--node <name>', 'the node whose agent to show (default: the only node of a one-node cluster)')
    .option('--address <ip>', 'local address to listen on', '127.0.0.1')
    .addOption(new Option('--port <port>', 'local port to listen on (0: any free port)').argParser(parseListenPort).default(0));
  agentLocatorOptions(command, 'HTTP server', 'give up on the first request to the agent after this long (0: never; e.g. 5s)')
    .action(async (opts: DashboardOptions) => {
      const dashboard = await startDashboard(opts, (line) => io.stderr(`error: ${line}\n`));
      if (!isLoopback(opts.address)) {
        io.stderr(`warning: listening on ${opts.address}: anyone who can reach it can read this node's dashboard\n`);
      }
      io.stdout(`Temper dashboard for node ${dashboard.node}: ${dashboard.url}\n  agent: ${dashboard.where}\nPress Ctrl-C to stop.\n`);
      await untilInterrupted();
      await dashboard.close();
    });
}
