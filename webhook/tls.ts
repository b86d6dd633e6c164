/**
 * The serving certificate, reloaded when its files change: cert-manager (or a helm upgrade)
 * renews the Secret, the kubelet swaps the volume's `..data` symlink, and new connections get
 * the new certificate without a restart. A pair that does not load (a half-written rotation, a
 * key that does not match) is refused and the previous one keeps serving.
 */
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { dirname } from 'node:path';
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from '../adapters/log.ts';

export interface CertPair {
  readonly cert: string;
  readonly key: string;
}

export interface ServingCertificate {
  current(): CertPair;
  /** Called with each newly loaded pair. */
  onChange(listener: (pair: CertPair) => void): void;
  /** Re-reads the files now (also done on every change in their directories and once a minute). */
  reload(): Promise<void>;
  stop(): void;
}

/** What the log and the expiry gauge say about a certificate (never the key). */
interface CertFacts {
  readonly subject: string;
  readonly notAfter: string;
  readonly expiresAt: number;
  readonly sha256: string;
}

/** Loads and checks a pair: throws with the reason when the certificate or key is unusable or they do not match. */
function checked(pair: CertPair): CertFacts {
  createSecureContext({ cert: pair.cert, key: pair.key }); // throws on a bad PEM or a key that does not match
  const x509 = new X509Certificate(pair.cert);
  return { subject: x509.subject.replace(/\n/g, ', '), notAfter: x509.validTo, expiresAt: Date.parse(x509.validTo) / 1000, sha256: x509.fingerprint256 };
}

const POLL_MS = 60_000;
const SETTLE_MS = 100;

export function watchServingCertificate(certFile: string, keyFile: string, log: Logger, registry?: Registry): ServingCertificate {
  let pair: CertPair = { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
  let facts = checked(pair);
  const listeners: ((p: CertPair) => void)[] = [];
  if (registry !== undefined) {
    new Gauge({
      name: 'temper_webhook_serving_certificate_expiry_timestamp_seconds', help: 'notAfter of the certificate the webhook serves (Unix seconds)',
      registers: [registry], collect() { this.set(facts.expiresAt); },
    });
  }

  let lastFailure = '';
  const reload = async (): Promise<void> => {
    let next: CertPair;
    try {
      next = { cert: await readFile(certFile, 'utf8'), key: await readFile(keyFile, 'utf8') };
    } catch (err) {
      const why = `cannot read ${certFile} or ${keyFile}: ${(err as Error).message}`;
      if (why !== lastFailure) log.error('serving certificate not reloaded', { error: why });
      lastFailure = why;
      return;
    }
    if (next.cert === pair.cert && next.key === pair.key) return;
    let nextFacts: CertFacts;
    try {
      nextFacts = checked(next);
    } catch (err) {
      const why = `${certFile}/${keyFile}: ${(err as Error).message}`;
      if (why !== lastFailure) log.error('serving certificate not reloaded; the previous one stays', { error: why });
      lastFailure = why;
      return;
    }
    lastFailure = '';
    pair = next;
    facts = nextFacts;
    for (const l of listeners) l(pair);
    log.info('serving certificate reloaded', { subject: facts.subject, notAfter: facts.notAfter, sha256: facts.sha256 });
  };

  // Watch the directories, not the files: the kubelet replaces the `..data` symlink, so the
  // files' own inodes never change. Events come in bursts; reload once they settle.
  let timer: NodeJS.Timeout | undefined;
  const soon = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => { void reload(); }, SETTLE_MS);
  };
  const watchers: FSWatcher[] = [...new Set([dirname(certFile), dirname(keyFile)])].map((dir) => {
    const w = watch(dir, { persistent: false }, soon);
    w.on('error', (err) => log.error('serving certificate watch failed; polling only', { dir, error: err.message }));
    return w;
  });
  // A missed event (some filesystems send none) is caught by the poll.
  const poll = setInterval(() => { void reload(); }, POLL_MS);
  poll.unref();
  log.info('serving certificate loaded', { subject: facts.subject, notAfter: facts.notAfter, sha256: facts.sha256 });

  return {
    current: () => pair,
    onChange: (l) => { listeners.push(l); },
    reload,
    stop: () => {
      clearTimeout(timer);
      clearInterval(poll);
      for (const w of watchers) w.close();
    },
  };
}
