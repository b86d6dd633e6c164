/**
 * The agent's gRPC API (agent/proto/temper/v1/agent.proto), read-only, on a unix socket on the
 * node by default. Besides `temper.v1.Agent` it serves the standard health service
 * (`temper.v1.Agent` is SERVING once a first generation exists) and server reflection, so
 * `grpcurl -plaintext -unix /run/temper/agent.sock list` works without the proto.
 */
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation, protoPath as healthProtoPath } from 'grpc-health-check';
import { chmodSync, lstatSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { GenerationStore } from './generations.ts';
import type { AgentHandlers } from './proto/gen/temper/v1/Agent.ts';
import type { ProtoGrpcType } from './proto/gen/agent.ts';
import { AGENT_SERVICE, loadAgentProto } from './proto/load.ts';
import type { AgentStatus, Lookup, LookupFailure } from './views.ts';
import {
  currentGeneration, diffMessage, diffView, findDiff, findGeneration, generationMessage, generationView, parseGenerationNumber,
  statusMessage, summaryMessage, summaryView,
} from './views.ts';

export const DEFAULT_GRPC_ADDRESS = 'unix:///run/temper/agent.sock';
/** How long close() waits for calls in flight before cancelling them. */
export const DEFAULT_CLOSE_TIMEOUT_MS = 5000;

export interface GrpcServerOptions {
  readonly store: GenerationStore;
  readonly status: () => AgentStatus;
  /** `unix:///abs/path.sock` (default DEFAULT_GRPC_ADDRESS) or `host:port` (port 0 picks one). */
  readonly address?: string;
}

export interface GrpcServerHandle {
  /** The bound address: the unix URI as given, or `host:port` with the real port. */
  readonly address: string;
  /** Ends watch streams, stops accepting calls, waits for calls in flight up to `timeoutMs`, then cancels the rest. */
  close(timeoutMs?: number): Promise<void>;
}

/** A listen address that cannot be used, reported with the address. */
export class GrpcAddressError extends Error {
  override name = 'GrpcAddressError';
}

type Listen = { readonly kind: 'unix'; readonly path: string; readonly uri: string } | { readonly kind: 'tcp'; readonly hostPort: string };

function parseAddress(address: string): Listen {
  if (address.startsWith('unix:')) {
    const path = address.startsWith('unix://') ? address.slice('unix://'.length) : address.slice('unix:'.length);
    if (!isAbsolute(path)) throw new GrpcAddressError(`gRPC address ${address}: the socket path must be absolute (unix:///run/temper/agent.sock)`);
    return { kind: 'unix', path, uri: `unix://${path}` };
  }
  if (!/^(\[[0-9a-fA-F:.]+\]|[^:/\s]+):\d{1,5}$/.test(address)) {
    throw new GrpcAddressError(`gRPC address ${JSON.stringify(address)}: want unix:///abs/path.sock or host:port`);
  }
  return { kind: 'tcp', hostPort: address };
}

/** Removes a socket left by an agent that did not shut down cleanly; never anything else. */
function removeStaleSocket(path: string): void {
  let stat;
  try {
    stat = lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (!stat.isSocket()) throw new GrpcAddressError(`gRPC socket path ${path} exists and is not a socket; refusing to remove it`);
  rmSync(path);
}

const CODES: Readonly<Record<LookupFailure['kind'], grpc.status>> = {
  invalid: grpc.status.INVALID_ARGUMENT,
  'not-found': grpc.status.NOT_FOUND,
  unavailable: grpc.status.UNAVAILABLE,
};

const errorOf = (f: LookupFailure): Partial<grpc.ServiceError> => ({ code: CODES[f.kind], details: f.message });

/** Answers a unary call from a lookup; a thrown error becomes INTERNAL instead of crashing the agent. */
function answer<Req, Res, T>(compute: (request: Req) => Lookup<T>, render: (value: T) => Res): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    let result: Lookup<T>;
    try {
      result = compute(call.request);
    } catch (err) {
      callback({ code: grpc.status.INTERNAL, details: `internal error: ${(err as Error).message}` });
      return;
    }
    if (result.ok) callback(null, render(result.value));
    else callback(errorOf(result.failure));
  };
}

/** The bound port of `bindAsync`, promisified. */
function bind(server: grpc.Server, target: string): Promise<number> {
  return new Promise((resolvePort, reject) => {
    server.bindAsync(target, grpc.ServerCredentials.createInsecure(), (err, port) => (err === null ? resolvePort(port) : reject(err)));
  });
}

/** Starts the server and resolves once it listens. */
export async function startGrpcServer(options: GrpcServerOptions): Promise<GrpcServerHandle> {
  const { store, status } = options;
  const listen = parseAddress(options.address ?? DEFAULT_GRPC_ADDRESS);
  const packageDefinition = loadAgentProto();
  const proto = grpc.loadPackageDefinition(packageDefinition) as unknown as ProtoGrpcType;

  const server = new grpc.Server();
  const watchers = new Set<{ end: () => void }>();

  const handlers: AgentHandlers = {
    GetStatus: (_call, callback) => {
      try {
        callback(null, statusMessage(status()));
      } catch (err) {
        callback({ code: grpc.status.INTERNAL, details: `internal error: ${(err as Error).message}` });
      }
    },
    GetLayeredConfig: answer(() => currentGeneration(store), (g) => generationMessage(generationView(g))),
    ListGenerations: (_call, callback) => callback(null, { generations: store.list().map((g) => summaryMessage(summaryView(g))) }),
    GetGeneration: answer((req) => {
      const n = parseGenerationNumber(req.number, 'number');
      return n.ok ? findGeneration(store, n.value) : n;
    }, (g) => generationMessage(generationView(g))),
    DiffGenerations: answer((req) => {
      const from = parseGenerationNumber(req.from, 'from');
      if (!from.ok) return from;
      const to = parseGenerationNumber(req.to, 'to');
      if (!to.ok) return to;
      return findDiff(store, from.value, to.value);
    }, (d) => diffMessage(diffView(d))),
    WatchGenerations: (call) => {
      // record() notifies synchronously, so reading current() and subscribing in one tick misses nothing.
      const current = store.current();
      if (current !== null) call.write(generationMessage(generationView(current)));
      const unsubscribe = store.subscribe((g) => call.write(generationMessage(generationView(g))));
      watchers.add(call);
      const stop = (): void => {
        unsubscribe();
        watchers.delete(call);
      };
      call.on('cancelled', stop);
      call.on('close', stop);
      call.on('error', stop);
    },
  };
  server.addService(proto.temper.v1.Agent.service, handlers);

  const health = new HealthImplementation({ '': 'SERVING', [AGENT_SERVICE]: store.current() === null ? 'NOT_SERVING' : 'SERVING' });
  health.addToServer(server);
  const unsubscribeHealth = store.subscribe(() => health.setStatus(AGENT_SERVICE, 'SERVING'));

  const healthDefinition = loadSync('health/v1/health.proto', { includeDirs: [resolve(dirname(healthProtoPath), '..', '..')] });
  new ReflectionService({ ...packageDefinition, ...healthDefinition }).addToServer(server);

  let bound: string;
  try {
    if (listen.kind === 'unix') {
      mkdirSync(dirname(listen.path), { recursive: true });
      removeStaleSocket(listen.path);
      await bind(server, listen.uri);
      // Only the agent's own user (root) may connect. grpc-js creates the socket under the
      // process umask, so until this chmod the socket directory's permissions are the guard.
      chmodSync(listen.path, 0o600);
      bound = listen.uri;
    } else {
      const port = await bind(server, listen.hostPort);
      bound = listen.hostPort.replace(/:\d+$/, `:${port}`);
    }
  } catch (err) {
    unsubscribeHealth();
    server.forceShutdown();
    throw err;
  }

  let closing: Promise<void> | null = null;
  const close = (timeoutMs = DEFAULT_CLOSE_TIMEOUT_MS): Promise<void> => {
    closing ??= new Promise<void>((done) => {
      unsubscribeHealth();
      health.setStatus('', 'NOT_SERVING');
      health.setStatus(AGENT_SERVICE, 'NOT_SERVING');
      for (const call of watchers) call.end();
      watchers.clear();
      const force = setTimeout(() => server.forceShutdown(), timeoutMs);
      server.tryShutdown(() => {
        clearTimeout(force);
        if (listen.kind === 'unix') rmSync(listen.path, { force: true });
        done();
      });
    });
    return closing;
  };

  return { address: bound, close };
}
