#!/usr/bin/env node
// temper-webhook: serves POST /mutate over HTTPS until SIGTERM/SIGINT.
import { readFileSync } from 'node:fs';
import { loadKubeConfig } from '../adapters/kubeconfig.ts';
import { jsonLogger } from '../adapters/log.ts';
import { programArgs } from '../adapters/program-args.ts';
import { defaultPolicy, parsePolicy } from '../core/config.ts';
import { ConfigError } from '../core/errors.ts';
import { watchClasses } from './classes.ts';
import { listenWebhook } from './server.ts';

const values = programArgs('temper-webhook', 'The QoS-defaulting admission webhook: serves POST /mutate over HTTPS until SIGTERM.', {
  config: { type: 'string', arg: 'file', help: 'Temper configuration (TOML); defaults apply when omitted' },
  'tls-cert': { type: 'string', arg: 'file', default: '/etc/temper/tls/tls.crt', help: 'serving certificate (PEM)' },
  'tls-key': { type: 'string', arg: 'file', default: '/etc/temper/tls/tls.key', help: 'serving key (PEM)' },
  host: { type: 'string', arg: 'address', default: '0.0.0.0', help: 'address to listen on' },
  port: { type: 'string', arg: 'port', default: '8443', help: 'HTTPS port' },
  'metrics-port': { type: 'string', arg: 'port', help: 'plain-HTTP port for /metrics (unset: /metrics on the HTTPS port)' },
  kubeconfig: { type: 'string', arg: 'file', help: 'kubeconfig (default: in-cluster, $KUBECONFIG or ~/.kube/config)' },
  // Send Critical pods to this scheduler (the chart's scheduler.setSchedulerName); empty: never.
  'critical-scheduler-name': { type: 'string', arg: 'name', default: '', help: 'send Critical pods to this scheduler (empty: never)' },
});
const log = jsonLogger('webhook');

try {
  const policy = values.config === undefined ? defaultPolicy() : parsePolicy(readFileSync(values.config, 'utf8'), values.config);
  const kc = loadKubeConfig({ kubeconfig: values.kubeconfig });
  const classes = watchClasses(kc, log);
  const tls = { certFile: values['tls-cert'], keyFile: values['tls-key'] };
  const server = await listenWebhook({ policy, catalog: classes, ready: classes.synced, log, criticalSchedulerName: values['critical-scheduler-name'] || null }, tls, values.host, Number(values.port), values['metrics-port'] === undefined ? null : Number(values['metrics-port']));
  log.info('webhook listening', { host: values.host, port: server.port, metricsPort: server.metricsPort });
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
