// The real node agent (agent/main.ts) as a process, for `npm start`: its HTTP API on a free
// loopback port, its gRPC on a unix socket, its state in a throwaway directory.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import type { ProtoGrpcType } from '../../agent/proto/gen/agent.ts';
import { loadAgentProto } from '../../agent/proto/load.ts';
import { stopperOf } from './child.ts';

const repo = join(import.meta.dirname, '..', '..');

export interface AgentProcess {
  /** The agent's HTTP base URL (health, metrics, /api/v1, the dashboard at /). */
  readonly url: string;
  /** Its gRPC address, `unix://…` (mode 0600). */
  readonly grpcAddress: string;
  readonly log: () => string;
  readonly stop: () => Promise<number | null>;
}

/** The scx_layered that bpf/install-scx.sh built, if it did; else the path the chart uses. */
export async function cachedScxLayered(): Promise<string> {
  const versions = await readFile(join(repo, 'bpf', 'VERSIONS'), 'utf8');
  const version = /^SCX_LAYERED_VERSION=(\S+)/m.exec(versions)?.[1] ?? '';
  const cached = join(process.env.TEMPER_CACHE || join(homedir(), '.cache', 'temper'), 'scx', version, 'bin', 'scx_layered');
  return existsSync(cached) ? cached : '/usr/local/bin/scx_layered';
}

/**
 * Starts `node agent/main.ts` for `nodeName` against the cluster of `kubeconfig`, with the host's
 * own sched_ext directory: on a kernel without sched_ext the agent reports `unavailable`.
 */
export async function startAgentProcess(opts: { kubeconfig: string; nodeName: string; scxBinary?: string; schedExtDir?: string }): Promise<AgentProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'temper-agent-'));
  const grpcAddress = `unix://${join(dir, 'agent.sock')}`;
  const args = [join(repo, 'agent', 'main.ts'), '--kubeconfig', opts.kubeconfig, '--node', opts.nodeName,
    '--scx-binary', opts.scxBinary ?? await cachedScxLayered(), '--state-dir', join(dir, 'state'), '--task-hint-map', join(dir, 'hints'),
    '--grpc-address', grpcAddress, '--http-port', '0', '--stop-scheduler-on-exit',
    ...(opts.schedExtDir === undefined ? [] : ['--sched-ext-dir', opts.schedExtDir])];
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`agent did not start within 60 s:\n${log}`)), 60_000);
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      log += chunk;
      const m = /"msg":"agent running".*?"http":"([^"]+)"/.exec(log);
      if (m?.[1] !== undefined) { clearTimeout(timer); resolve(m[1]); }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`agent exited with ${code}:\n${log}`)); });
  });
  return {
    url, grpcAddress, log: () => log,
    stop: stopperOf(child, dir),
  };
}

/** Polls `fn` every 200 ms until it returns a value, or throws after `ms` naming `what`. */
export async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms / 1000} s waiting for ${what}`);
    await sleep(200);
  }
}

/** The agent's current config over gRPC (GetLayeredConfig): generation number, sha256 and the config JSON. */
export async function grpcLayeredConfig(address: string): Promise<{ number: string; sha256: string; configJson: string }> {
  const proto = grpc.loadPackageDefinition(loadAgentProto()) as unknown as ProtoGrpcType;
  const client = new proto.temper.v1.Agent(address, grpc.credentials.createInsecure());
  try {
    return await new Promise((resolve, reject) => {
      client.GetLayeredConfig({}, { deadline: Date.now() + 10_000 }, (err, v) => (err !== null || v === undefined ? reject(err ?? new Error('empty answer')) : resolve(v)));
    });
  } finally {
    client.close();
  }
}
