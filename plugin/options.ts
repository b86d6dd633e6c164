/** What every kubectl-temper command shares: its I/O, kubectl's connection flags, and option parsers. */
import { InvalidArgumentError, Option } from 'commander';
import type { Command } from 'commander';
import { DEFAULT_AGENT_PORT } from './agent-client.ts';
import { OUTPUT_FORMATS } from './output.ts';

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

/** kubectl's connection flags: --kubeconfig, --context, --request-timeout (see live.ts). */
export function clusterOptions(cmd: Command, timeoutHelp = 'give up on a server request after this long (0: never; e.g. 5s, 1m)'): Command {
  return cmd
    .option('--kubeconfig <file>', 'path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
    .option('--context <name>', 'the kubeconfig context to use')
    .option('--request-timeout <duration>', timeoutHelp, '0');
}

export function configOption(cmd: Command, help = 'Temper configuration file (TOML); defaults apply when omitted'): Command {
  return cmd.option('--config <file>', help);
}

export function outputOption(): Option {
  return new Option('-o, --output <format>', 'output format').choices([...OUTPUT_FORMATS]).default('table');
}

export function parsePortArg(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65535) throw new InvalidArgumentError('want a TCP port (1–65535)');
  return port;
}

/**
 * How a command finds a node's agent (plugin/agent-client.ts): `--agent-url`, else a
 * port-forward to the agent pod in Temper's namespace (from `--config`), through the cluster
 * flags. `what` says what the agent URL serves, for the help text.
 */
export function agentLocatorOptions(cmd: Command, what: string, timeoutHelp: string): Command {
  cmd
    .option('--agent-url <url>', `reach the agent's ${what} here (e.g. http://127.0.0.1:8080) instead of port-forwarding to its pod`)
    .addOption(new Option('--agent-port <port>', 'the agent pod\'s HTTP port').argParser(parsePortArg).default(DEFAULT_AGENT_PORT));
  return clusterOptions(configOption(cmd, 'Temper configuration file (TOML); its naming.namespace is where the agent runs'), timeoutHelp);
}

/** The workload-profile files a command reads besides the built-ins (profileOptions). */
export interface ProfileFlags {
  readonly profilesDir?: string;
  readonly profiles?: readonly string[];
}

/**
 * --profiles-dir and --profiles: workload-profile files besides the built-ins, read here (the
 * node agent reads its own directory on each node, which these do not change).
 */
export function profileOptions(cmd: Command): Command {
  return cmd
    .option('--profiles-dir <dir>', 'also read every *.toml workload-profile file in this directory (default: built-in profiles only; the node agent reads its own directory, /etc/temper/profiles unless configured otherwise)')
    .option('--profiles <file>', 'also read this workload-profile file (TOML); repeatable', (value: string, previous: string[] | undefined) => [...(previous ?? []), value]);
}
