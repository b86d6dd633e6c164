// The webhook's serving certificate renewed under a running process, the way the kubelet updates
// a mounted Secret (cert-manager renewals, helm upgrades): files behind a `..data` symlink that is
// swapped atomically. New connections must present the new certificate with no restart.
import { X509Certificate } from 'node:crypto';
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type WebhookProcess, issueServingCert, startWebhookProcess } from '../dev/harness/webhook.ts';
import { type CertFiles, createCA } from '../dev/pki.ts';

const kubeconfig = inject('kubeconfig');
let dir: string;
let vol: string;
let ca: CertFiles;
let webhook: WebhookProcess;
let version = 0;
let v0: CertFiles;

/** Writes `pair` into the volume as the kubelet's atomic writer does: a new timestamped dir, then `..data` renamed over. */
async function project(pair: { certPem: string; keyPem: string }): Promise<void> {
  const ts = `..2026_12_02_00_00_0${version++}`;
  await mkdir(join(vol, ts));
  await writeFile(join(vol, ts, 'tls.crt'), pair.certPem);
  await writeFile(join(vol, ts, 'tls.key'), pair.keyPem);
  await symlink(ts, join(vol, '..data_tmp'));
  await rename(join(vol, '..data_tmp'), join(vol, '..data'));
}

/** The SHA-256 fingerprint of the certificate a fresh TLS connection is served. */
function servedFingerprint(port: number, caPem: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca: caPem }, () => {
      const fp = socket.getPeerCertificate().fingerprint256;
      socket.end();
      resolve(fp);
    });
    socket.on('error', reject);
  });
}

const fingerprint = (pem: string): string => new X509Certificate(pem).fingerprint256;

async function waitForFingerprint(want: string, caPem: string, ms = 10_000): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < ms) {
    // Until the swap is picked up the old certificate is served, which `caPem` may not verify.
    if (await servedFingerprint(webhook.port, caPem).catch(() => '') === want) return performance.now() - started;
    await sleep(50);
  }
  throw new Error(`the webhook did not serve certificate ${want} within ${ms} ms:\n${webhook.log()}`);
}

function get(agent: Agent, path: string): Promise<{ status: number; localPort: number | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(`${webhook.url}${path}`, { agent, ca: ca.certPem }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, localPort: req.socket?.localPort }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('webhook serving certificate rotation', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'temper-certs-'));
    vol = join(dir, 'volume');
    await mkdir(vol);
    ca = await createCA(dir, 'ca', 'temper-rotation-test-ca');
    v0 = await issueServingCert(dir, ca, 'v0');
    await project(v0);
    await symlink('..data/tls.crt', join(vol, 'tls.crt'));
    await symlink('..data/tls.key', join(vol, 'tls.key'));
    webhook = await startWebhookProcess({ kubeconfig, tls: { certFile: join(vol, 'tls.crt'), keyFile: join(vol, 'tls.key'), caPem: ca.certPem } });
  }, 60_000);

  afterAll(async () => {
    await webhook?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('new connections get the renewed certificate; open keep-alive connections keep working', async () => {
    expect(await servedFingerprint(webhook.port, ca.certPem)).toBe(fingerprint(v0.certPem));
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const before = await get(agent, '/healthz');
    const v1 = await issueServingCert(dir, ca, 'v1');
    expect(fingerprint(v1.certPem)).not.toBe(fingerprint(v0.certPem));
    await project(v1);
    const took = await waitForFingerprint(fingerprint(v1.certPem), ca.certPem);
    console.log(`renewed certificate served ${took.toFixed(0)} ms after the ..data swap`);
    const after = await get(agent, '/healthz');
    expect([before.status, after.status]).toEqual([200, 200]);
    expect(after.localPort).toBe(before.localPort); // the same connection, not a reconnect
    agent.destroy();
    expect(webhook.log()).toContain('"msg":"serving certificate reloaded"');
  });

  it('a certificate from a new CA is served once trusted (CA rotation)', async () => {
    const ca2 = await createCA(dir, 'ca2', 'temper-rotation-test-ca-2');
    const v2 = await issueServingCert(dir, ca2, 'v2');
    await project(v2);
    await waitForFingerprint(fingerprint(v2.certPem), ca2.certPem);
    await expect(servedFingerprint(webhook.port, ca.certPem)).rejects.toThrow(); // the old CA no longer vouches for it
    ca = ca2;
  });

  it('a pair that does not match is refused and the previous certificate keeps serving', async () => {
    const current = await servedFingerprint(webhook.port, ca.certPem);
    const a = await issueServingCert(dir, ca, 'mismatch-a');
    const b = await issueServingCert(dir, ca, 'mismatch-b');
    await project({ certPem: a.certPem, keyPem: b.keyPem });
    for (let i = 0; i < 100 && !webhook.log().includes('serving certificate not reloaded'); i++) await sleep(50);
    expect(webhook.log()).toMatch(/"msg":"serving certificate not reloaded; the previous one stays".*"error":/);
    expect(webhook.log()).not.toContain('PRIVATE KEY'); // the key never reaches the log
    expect(await servedFingerprint(webhook.port, ca.certPem)).toBe(current);
    await project(a); // fixed by the next renewal
    await waitForFingerprint(fingerprint(a.certPem), ca.certPem);
  });
});
