#!/usr/bin/env node
// temper-scheduler-extender: the sidecar of the `temper-scheduler` kube-scheduler. Serves the
// filter and prioritize verbs on loopback until SIGTERM (docs/scheduling.md).
import { parseArgs } from 'node:util';
import { KubeConfigError, loadKubeConfig } from '../adapters/kubeconfig.ts';
import { jsonLogger } from '../adapters/log.ts';
import { policyFromFlag } from '../adapters/program-args.ts';
import { DEFAULT_MARGIN_TTL_MS, DEFAULT_STALE_AFTER_MS, startExtender } from './run.ts';

const log = jsonLogger('scheduler-extender');

function fail(message: string): never {
  log.error('extender failed to start', { error: message });
  process.stderr.write(`temper-scheduler-extender: ${message}\n`);
  process.exit(1);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      config: { type: 'string', default: process.env.TEMPER_CONFIG },
      kubeconfig: { type: 'string' },
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '10270' },
      'stale-after-seconds': { type: 'string', default: String(DEFAULT_STALE_AFTER_MS / 1000) },
      'margin-ttl-ms': { type: 'string', default: String(DEFAULT_MARGIN_TTL_MS) },
    },
  }));
} catch (err) {
  fail((err as Error).message);
}

/** A whole number from a flag, or a clear refusal naming the flag. */
function wholeNumber(flag: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) fail(`--${flag} must be a whole number between ${min} and ${max} (got ${JSON.stringify(text)})`);
  return n;
}

const port = wholeNumber('port', values.port, 0, 65535);
const staleAfterMs = wholeNumber('stale-after-seconds', values['stale-after-seconds'], 1, 7 * 24 * 3600) * 1000;
const marginTtlMs = wholeNumber('margin-ttl-ms', values['margin-ttl-ms'], 0, 600_000);
const policy = policyFromFlag(values.config, fail);
let kc;
try {
  kc = loadKubeConfig({ kubeconfig: values.kubeconfig });
} catch (err) {
  if (err instanceof KubeConfigError) fail(err.message);
  throw err;
}

const extender = await startExtender({ kc, policy, log, host: values.host, port, staleAfterMs, marginTtlMs }).catch((err: unknown) => fail(`cannot listen on ${values.host}:${port}: ${(err as Error).message}`));
log.info('extender listening', { host: values.host, port: extender.port, staleAfterSeconds: staleAfterMs / 1000, marginTtlMs });

let stopping = false;
function shutdown(signal: string): void {
  if (stopping) return;
  stopping = true;
  log.info('shutting down', { signal });
  setTimeout(() => process.exit(0), 10_000).unref();
  void extender.close().then(() => process.exit(0));
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
