#!/usr/bin/env node
// temper-webhook: serves POST /mutate over HTTPS until SIGTERM/SIGINT.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadKubeConfig } from '../adapters/kubeconfig.ts';
import { jsonLogger } from '../adapters/log.ts';
import { defaultPolicy, parsePolicy } from '../core/config.ts';
import { ConfigError } from '../core/errors.ts';
import { watchClasses } from './classes.ts';
import { listenWebhook } from './server.ts';

const log = jsonLogger('webhook');
const { values } = parseArgs({
  options: {
    config: { type: 'string' },
    'tls-cert': { type: 'string', default: '/etc/temper/tls/tls.crt' },
    'tls-key': { type: 'string', default: '/etc/temper/tls/tls.key' },
    host: { type: 'string', default: '0.0.0.0' },
    port: { type: 'string', default: '8443' },
    kubeconfig: { type: 'string' },
    // Send Critical pods to this scheduler (the chart's scheduler.setSchedulerName); empty: never.
    'critical-scheduler-name': { type: 'string', default: '' },
  },
});

try {
  const policy = values.config === undefined ? defaultPolicy() : parsePolicy(readFileSync(values.config, 'utf8'), values.config);
  const kc = loadKubeConfig({ kubeconfig: values.kubeconfig });
  const classes = watchClasses(kc, log);
  const tls = { cert: readFileSync(values['tls-cert'], 'utf8'), key: readFileSync(values['tls-key'], 'utf8') };
  const server = await listenWebhook({ policy, catalog: classes, ready: classes.synced, log, criticalSchedulerName: values['critical-scheduler-name'] || null }, tls, values.host, Number(values.port));
  log.info('webhook listening', { host: values.host, port: server.port });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    void Promise.all([server.close(), classes.stop()]).then(() => process.exit(0));
    setTimeout(() => process.exit(0), 10_000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
} catch (err) {
  const message = err instanceof ConfigError ? err.lines.join('; ') : err instanceof Error ? err.message : String(err);
  log.error('webhook failed to start', { error: message });
  process.exit(1);
}
