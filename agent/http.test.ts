// The agent's HTTP app as a real server on loopback: the Host-header guard against DNS rebinding.
import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../adapters/log.ts';
import { isLoopback } from '../adapters/loopback.ts';
import { defaultPolicy } from '../core/config.ts';
import { Agent } from './agent.ts';
import { type RunningHttp, listenHttp, listenProbes } from './http.ts';

const dir = mkdtempSync(join(tmpdir(), 'temper-http-'));
let http: RunningHttp;
let agent: Agent;

function get(path: string, host: string, on: RunningHttp = http): Promise<number> {
  const url = new URL(on.url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname: url.hostname, port: url.port, path, headers: { host } }, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
    req.on('error', reject);
    req.end();
  });
}

describe('agent HTTP on loopback', () => {
  beforeAll(async () => {
    // Never started: no watch, no scheduler; only the HTTP surface is under test.
    agent = new Agent({ kc: new KubeConfig(), nodeName: 'n', policy: defaultPolicy(), log: silentLogger, scheduler: { binary: '/bin/false', args: [], stateDir: join(dir, 'state'), schedExtDir: join(dir, 'none') } });
    http = await listenHttp(agent, '127.0.0.1', 0);
  });
  afterAll(async () => {
    await http.close();
    await agent.stop(true);
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(['127.0.0.1', `127.0.0.1:8080`, 'localhost:8080', 'LOCALHOST', '[::1]:8080'])('serves Host %s', async (host) => {
    expect(await get('/healthz', host)).toBe(200);
  });

  it.each(['evil.example', 'evil.example:8080', '10.0.0.5:8080', 'localhost.evil.example', '127.evil.example:8080'])('refuses Host %j (DNS rebinding)', async (host) => {
    expect(await get('/api/v1/status', host)).toBe(403);
  });

  it('knows loopback bind addresses', () => {
    expect(['127.0.0.1', '127.0.0.53', 'localhost', '::1'].every(isLoopback)).toBe(true);
    expect(['0.0.0.0', '10.1.2.3', '::'].some(isLoopback)).toBe(false);
  });
});

describe('agent probe listener (the only port off loopback)', () => {
  let probes: RunningHttp;
  beforeAll(async () => {
    probes = await listenProbes(agent, '127.0.0.1', 0);
  });
  afterAll(async () => { await probes.close(); });

  it('answers the kubelet\'s probes for any Host', async () => {
    expect(await get('/healthz', '10.0.0.5:8081', probes)).toBe(200);
    expect(await get('/readyz', '10.0.0.5:8081', probes)).toBe(503); // never started, so not ready
  });

  it.each(['/api/v1/status', '/api/v1/pods', '/metrics', '/', '/index.html'])('serves nothing else: %s', async (path) => {
    expect(await get(path, '10.0.0.5:8081', probes)).toBe(404);
  });
});
