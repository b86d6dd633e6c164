// `kubectl temper config` against a real agent HTTP API (express + apiRouter) started in-process.
// The port-forward path needs a kubelet and is not exercised here; see portForwardToAgent.
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import express from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiRouter } from '../agent/api.ts';
import { GenerationStore, KEPT_GENERATIONS } from '../agent/generations.ts';
import type { AgentStatus } from '../agent/views.ts';
import { plan } from '../core/plan.ts';
import { cgroupPolicy, node, pod, threePlans, uidOf } from '../test/builders.ts';
import { main } from './cli.ts';
import { agentPodName, onlyNodeName } from './agent-client.ts';
import { formatDiff } from './config-command.ts';

const policy = cgroupPolicy();
const worker = node('worker-1', '8');
const { plans, at } = threePlans();

interface Agent {
  readonly url: string;
  readonly store: GenerationStore;
  readonly server: Server;
}

async function startAgent(fill: (store: GenerationStore) => void, status: AgentStatus): Promise<Agent> {
  const store = new GenerationStore();
  fill(store);
  const app = express();
  app.use('/api/v1', apiRouter({ store, status: () => status }));
  const server = await new Promise<Server>((ok) => {
    const s = app.listen(0, '127.0.0.1', () => ok(s));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, store, server };
}

const stop = (a: Agent): Promise<unknown> => {
  a.server.closeAllConnections();
  return new Promise((ok) => a.server.close(ok));
};

let agent: Agent;
let empty: Agent;
beforeAll(async () => {
  agent = await startAgent((s) => plans.forEach((p, i) => s.record(p, at(i))), {
    node: 'worker-1', state: 'enforcing', message: 'scx_layered running', generation: 3, sha256: plans[2]?.configSha256 ?? null, warnings: [],
  });
  empty = await startAgent(() => undefined, { node: 'worker-1', state: 'starting', message: 'waiting', generation: null, sha256: null, warnings: [] });
});
afterAll(async () => {
  await stop(agent);
  await stop(empty);
});

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (t) => { out += t; }, stderr: (t) => { err += t; } });
  return { code, out, err };
}

describe('kubectl temper config --agent-url', () => {
  it('prints a one-line header and the current config', async () => {
    const r = await run('config', '--agent-url', agent.url);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const [first, ...rest] = r.out.split('\n');
    expect(first).toBe(`node: worker-1  generation: 3  sha256: ${plans[2]?.configSha256.slice(0, 12)}  created: ${at(2).toISOString()}  state: enforcing`);
    expect(rest.join('\n')).toBe(plans[2]?.configJson);
  });

  it('--generation N prints that generation and says which is current', async () => {
    const r = await run('config', '--agent-url', `${agent.url}/api/v1/`, '--generation', '1');
    expect(r.code).toBe(0);
    expect(r.out.split('\n')[0]).toBe(`node: worker-1  generation: 1 (current: 3)  sha256: ${plans[0]?.configSha256.slice(0, 12)}  created: ${at(0).toISOString()}  state: enforcing`);
    expect(r.out.slice(r.out.indexOf('\n') + 1)).toBe(plans[0]?.configJson);
  });

  it('--diff A..B prints the per-layer summary, the tier moves and the unified diff', async () => {
    const r = await run('config', '--agent-url', agent.url, '--diff', '2..3');
    expect(r.code).toBe(0);
    const text = agent.store.diff(2, 3)?.text ?? '';
    const lines = r.out.split('\n');
    expect(lines.slice(0, 2)).toEqual(['node: worker-1  diff: generation 2 → 3', 'layers:']);
    expect(lines[2]).toMatch(/^ {2}critical {2}changed: (.+; )?kind\.Confined\.cpus_range \[1,1\] → \[2,2\](; .+)?$/);
    expect(lines.slice(3, 8)).toEqual(['  high      added', '  normal    removed', 'tier moves:', '  shop/api  normal → high', '']);
    expect(lines.slice(8).join('\n')).toBe(text);
    expect(text).toMatch(/^--- generation 2 /);
    const same = await run('config', '--agent-url', agent.url, '--diff', '2..2');
    expect(same.out).toBe('node: worker-1  diff: generation 2 → 2\nno changes: generations 2 and 2 have the same config\n');
  });

  it('-o json prints the API\'s JSON as is; -o yaml the same as YAML', async () => {
    const direct = async (path: string): Promise<unknown> => (await fetch(`${agent.url}/api/v1${path}`)).json();
    const current = await run('config', '--agent-url', agent.url, '-o', 'json');
    expect(JSON.parse(current.out)).toEqual(await direct('/config'));
    const one = await run('config', '--agent-url', agent.url, '--generation', '2', '-o', 'json');
    expect(JSON.parse(one.out)).toEqual(await direct('/generations/2'));
    const diff = await run('config', '--agent-url', agent.url, '--diff', '1..3', '-o', 'yaml');
    expect(parse(diff.out)).toEqual(await direct('/diff?from=1&to=3'));
  });

  it('a generation no longer kept: one line on stderr, exit 1', async () => {
    const full = await startAgent((s) => {
      for (let i = 1; i <= KEPT_GENERATIONS + 1; i++) {
        s.record(plan(policy, worker, Array.from({ length: i }, (_, k) => pod({ name: `p${k}`, namespace: 'ns', uid: uidOf(100 + k), node: 'worker-1', qos: 'BestEffort' }))), at(i));
      }
    }, { node: 'worker-1', state: 'enforcing', message: '', generation: 51, sha256: null, warnings: [] });
    try {
      const r = await run('config', '--agent-url', full.url, '--generation', '1');
      expect(r).toEqual({ code: 1, out: '', err: 'error: generation 1 is no longer kept: the agent keeps the last 50 (now 2–51)\n' });
      const d = await run('config', '--agent-url', full.url, '--diff', '1..51');
      expect(d.err).toBe('error: generation 1 is no longer kept: the agent keeps the last 50 (now 2–51)\n');
    } finally {
      await stop(full);
    }
  });

  it('an unknown generation and an agent without a generation yet', async () => {
    expect(await run('config', '--agent-url', agent.url, '--generation', '9')).toEqual({ code: 1, out: '', err: 'error: generation 9 does not exist: the newest is 3\n' });
    expect(await run('config', '--agent-url', empty.url)).toEqual({ code: 1, out: '', err: 'error: no config generation yet: the agent has not rendered a config for its node\n' });
  });

  it('cannot connect: one line naming the address, exit 1', async () => {
    const gone = await startAgent(() => undefined, { node: 'x', state: 'starting', message: '', generation: null, sha256: null, warnings: [] });
    await stop(gone);
    const r = await run('config', '--agent-url', gone.url);
    expect(r).toEqual({ code: 1, out: '', err: `error: cannot connect to the Temper agent at ${gone.url}: ECONNREFUSED\n` });
  });

  it('something that is not the agent: one line, exit 1', async () => {
    const app = express();
    app.get('/api/v1/config', (_req, res) => res.type('text/html').send('<html>hello</html>'));
    const s = await new Promise<Server>((ok) => {
      const l = app.listen(0, '127.0.0.1', () => ok(l));
    });
    try {
      const url = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
      const r = await run('config', '--agent-url', url);
      expect(r.code).toBe(1);
      expect(r.err).toBe(`error: unexpected answer from ${url} (GET /api/v1/config): HTTP 200, not JSON; is this the Temper agent's HTTP port?\n`);
    } finally {
      s.closeAllConnections();
      await new Promise((ok) => s.close(ok));
    }
  });

  it('usage errors exit 2', async () => {
    for (const argv of [
      ['--diff', '3'],
      ['--diff', '0..2'],
      ['--generation', 'x'],
      ['--generation', '1', '--diff', '1..2'],
      ['-o', 'table'],
      ['--agent-port', '70000'],
    ]) {
      const r = await run('config', '--agent-url', agent.url, ...argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err.split('\n').filter((l) => l !== '')).toHaveLength(1);
    }
    expect((await run('config', '--agent-url', 'ftp://x')).err).toBe('error: invalid --agent-url ftp://x: want an http:// or https:// URL\n');
  });

  it('without --agent-url it goes to the cluster (and says so when there is none)', async () => {
    const r = await run('config', '--kubeconfig', '/nonexistent/kubeconfig');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error: cannot load kubeconfig \/nonexistent\/kubeconfig: /);
  });
});

describe('finding the agent', () => {
  const nodeObj = (name: string): V1Node => ({ metadata: { name } });
  const podObj = (name: string, phase: string, deleting = false): V1Pod => ({
    metadata: { name, namespace: 'temper-system', ...(deleting ? { deletionTimestamp: new Date() } : {}) },
    status: { phase },
  });

  it('defaults to the only node, else asks for --node', () => {
    expect(onlyNodeName([nodeObj('solo')])).toBe('solo');
    expect(() => onlyNodeName([])).toThrow('the cluster has no nodes');
    expect(() => onlyNodeName(['c', 'a', 'b'].map(nodeObj))).toThrow('the cluster has 3 nodes: pass --node NODE (a, b, c)');
  });

  it('picks the running agent pod and explains when there is none', () => {
    expect(agentPodName([podObj('old', 'Running', true), podObj('new', 'Running')], 'n1', 'temper-system')).toBe('new');
    expect(() => agentPodName([], 'n1', 'temper-system')).toThrow('no Temper agent pod on node n1 (namespace temper-system, label app.kubernetes.io/name=temper-agent): is Temper installed there?');
    expect(() => agentPodName([podObj('a-1', 'Pending')], 'n1', 'temper-system')).toThrow('the Temper agent pod temper-system/a-1 on node n1 is Pending, not Running');
    expect(() => agentPodName([podObj('a-1', 'Running', true)], 'n1', 'temper-system')).toThrow('is terminating, not Running');
  });

  it('formatDiff shortens long values', () => {
    const out = formatDiff('n', { from: 1, to: 2, layers: [{ layer: 'high', change: 'changed', fields: [{ path: 'matches', before: ['x'.repeat(100)], after: [] }] }], moves: [], text: '' });
    expect(out).toBe(`node: n  diff: generation 1 → 2\nlayers:\n  high  changed: matches ["${'x'.repeat(55)}… → []\n`);
  });
});
