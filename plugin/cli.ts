/**
 * `kubectl temper`: the command-line adapter. Offline commands read manifests from files and
 * call core; errors are one clear line each on stderr with a non-zero exit code.
 */
import { Command, CommanderError, Option } from 'commander';
import type { Policy } from '../core/config.ts';
import { InputError, ProblemsError, UnresolvedPriorityError, problemAt } from '../core/errors.ts';
import { explainPod, formatWarning } from '../core/explain.ts';
import type { Plan } from '../core/plan.ts';
import { explainProfile } from '../core/profiles-render.ts';
import { classifyPods, plan, serializeDistribution, tierRowOf } from '../core/plan.ts';
import type { NodeShape, ProfileCatalog } from '../core/profiles.ts';
import type { CgroupDriver, NodeInfo, PodInfo, PriorityClassInfo } from '../core/types.ts';
import { CGROUP_DRIVERS } from '../core/types.ts';
import { DEFAULT_AGENT_PORT } from './agent-client.ts';
import { registerConfigCommand } from './config-command.ts';
import { withAgentThreads } from './explain-threads.ts';
import { registerDashboardCommand } from './dashboard-command.ts';
import { registerMigrateCommand } from './migrate-command.ts';
import type { Cluster, ClusterFlags } from './live.ts';
import { ClusterError, clusterPolicy, connect, getNode, getPod, listPods } from './live.ts';
import type { Manifests } from './manifests.ts';
import { loadManifests, loadNode, readPolicy } from './manifests.ts';
import type { CliIo, ProfileFlags } from './options.ts';
import { clusterOptions, configOption, outputOption, parsePortArg, profileOptions } from './options.ts';
import type { OutputFormat } from './output.ts';
import { formatTierRows } from './output.ts';
import { dependsOnNodeLine, loadProfileCatalog, nodeShapeOf, profileCell, registerProfilesCommand, selectWithoutNode } from './profiles-command.ts';
import { parseSelector, SelectorError } from './selector.ts';
import packageJson from '../package.json' with { type: 'json' };

/** A usage problem the user can fix by changing the command line. */
class UsageError extends Error {}

interface TiersOptions extends ClusterFlags, ProfileFlags {
  fromFile?: string;
  selector?: string;
  headers: boolean;
  namespace?: string;
  allNamespaces?: boolean;
  node?: string;
  output: OutputFormat;
  config?: string;
}

interface ExplainOptions extends ClusterFlags, ProfileFlags {
  namespace?: string;
  fromFile?: string;
  node?: string;
  config?: string;
  /** Ask the pod's node agent for the threads in each profile group. */
  threads?: boolean;
  agentUrl?: string;
  agentPort: number;
}

/** The pod's profile lines, with each group's threads from its node agent when `--threads` asks for them. */
async function profileSection(opts: ExplainOptions, pod: PodInfo, lines: string[]): Promise<string[]> {
  if (opts.threads !== true) return lines;
  if (lines.length === 0 || lines[0]?.startsWith('Profile:     none') === true) return lines;
  return withAgentThreads(lines, pod, opts);
}

/**
 * The node's plan, when every pod on it can be planned: the CLI refuses to print a config that
 * leaves pods out. Pods without a UID are reported together, else the first unresolved class.
 */
function planEvery(policy: Policy, node: NodeInfo, pods: readonly PodInfo[], classes: readonly PriorityClassInfo[], catalog: ProfileCatalog): Plan {
  const result = plan(policy, node, pods, classes, catalog);
  const missingUid = result.skipped.filter((s) => s.reason === 'missing-uid');
  if (missingUid.length > 0) throw new InputError(missingUid.map((s) => s.problem));
  const first = result.skipped[0];
  if (first !== undefined) throw new UnresolvedPriorityError([first.problem]);
  return result;
}

async function explainOffline(name: string, opts: ExplainOptions, file: string, io: CliIo): Promise<string> {
  const namespace = opts.namespace ?? 'default';
  const policy = readPolicy(opts.config);
  const objects = await readInput(file, io);
  const pod = objects.pods.find((p) => p.name === name && p.namespace === namespace);
  if (pod === undefined) throw new InputError([problemAt([], `pods "${name}" not found in namespace ${namespace} (${file})`)]);
  const node = opts.node === undefined ? null : await loadNode(opts.node);
  if (node !== null && pod.nodeName !== node.name) {
    throw new InputError([problemAt(`pod ${namespace}/${name}`, `is on node ${pod.nodeName ?? '(none)'}, not ${node.name}`)]);
  }
  const catalog = loadProfileCatalog(opts);
  const nodePlan = node === null ? null : planEvery(policy, node, objects.pods, objects.priorityClasses, catalog);
  const placed = nodePlan !== null
    ? (nodePlan.pods.find((p) => p.pod === pod) ?? null)
    : (classifyPods(policy, [pod], objects.priorityClasses)[0] ?? null);
  return explainPod(policy, pod, placed, nodePlan, await profileSection(opts, pod, profileLines(policy, pod, nodePlan, catalog)));
}

/**
 * The pod's profile section: the node plan's selection and group placements, or without a node
 * the selection every node shape would give (or the candidates, when shapes disagree).
 */
function profileLines(policy: Policy, pod: PodInfo, nodePlan: Plan | null, catalog: ProfileCatalog): string[] {
  if (nodePlan !== null) {
    const selected = nodePlan.profiles.selections.find((s) => s.uid === pod.uid);
    if (selected === undefined) return [];
    return explainProfile(selected.selection, nodePlan.profiles.rendering.pods.find((p) => p.uid === pod.uid) ?? null);
  }
  const s = selectWithoutNode(policy, pod, catalog);
  return s.kind === 'selected' ? explainProfile(s.selection, null) : [dependsOnNodeLine(s.variants)];
}

/** Live explain: the pod, and when it is scheduled, its node's plan (skipped if not readable). */
async function explainLive(name: string, opts: ExplainOptions): Promise<string> {
  const cluster = connect(opts);
  const policy = await clusterPolicy(cluster, opts.config === undefined ? null : readPolicy(opts.config));
  const catalog = loadProfileCatalog(opts);
  const pod = await getPod(cluster, opts.namespace ?? cluster.namespace, name);
  let nodePlan = null;
  if (pod.nodeName !== null) {
    try {
      nodePlan = planEvery(policy, await getNode(cluster, pod.nodeName), await listPods(cluster, null, pod.nodeName), [], catalog);
    } catch (err) {
      if (!(err instanceof ClusterError && err.message.startsWith('forbidden'))) throw err;
    }
  }
  const placed = nodePlan?.pods.find((p) => p.pod.uid === pod.uid) ?? classifyPods(policy, [pod])[0] ?? null;
  return explainPod(policy, pod, placed, nodePlan, await profileSection(opts, pod, profileLines(policy, pod, nodePlan, catalog)));
}

/**
 * Live `tiers -o wide`'s PROFILE cells: a pod's profile rarely depends on its node's shape (only
 * a profile file's variant for some shapes makes it so), and only then is its Node read.
 */
async function liveProfileCells(cluster: Cluster, policy: Policy, pods: readonly PodInfo[], catalog: ProfileCatalog): Promise<string[]> {
  const cells = pods.map((p) => profileCell(policy, p, catalog, null));
  const shapes = new Map<string, NodeShape | null>();
  for (const [i, pod] of pods.entries()) {
    if (cells[i] !== '?' || pod.nodeName === null) continue;
    if (!shapes.has(pod.nodeName)) {
      try {
        shapes.set(pod.nodeName, nodeShapeOf(policy, await getNode(cluster, pod.nodeName)));
      } catch (err) {
        if (!(err instanceof ClusterError && /forbidden|not found/.test(err.message))) throw err;
        shapes.set(pod.nodeName, null); // the cell stays `?`
      }
    }
    cells[i] = profileCell(policy, pod, catalog, shapes.get(pod.nodeName) ?? null);
  }
  return cells;
}

/** Reads a PODS input, telling the user on stderr what was noticed about it (duplicates). */
async function readInput(path: string, io: CliIo): Promise<Manifests> {
  const objects = await loadManifests(path);
  for (const note of objects.notes) io.stderr(`warning: ${note}\n`);
  return objects;
}

/** The pods `render`/`distribution` use, after telling the user on stderr about those they cannot place. */
function nodeInputs(objects: Manifests, node: NodeInfo, file: string, io: CliIo): void {
  const unscheduled = objects.pods.filter((p) => p.nodeName === null);
  if (unscheduled.length > 0) {
    const names = unscheduled.map((p) => `${p.namespace}/${p.name}`);
    const shown = names.length > 5 ? [...names.slice(0, 5), `and ${names.length - 5} more`] : names;
    io.stderr(`warning: ${file}: ${unscheduled.length} pod(s) without spec.nodeName (not scheduled) are not on node ${node.name}, left out: ${shown.join(', ')}\n`);
  }
  if (objects.workloads.length > 0) {
    io.stderr(`warning: ${file}: ${objects.workloads.length} workload template(s) are not pods on a node, left out (preview them with tiers --from-file)\n`);
  }
}

/** kubectl's resource name for a row: `pod/NAME`, or the workload's `deployment.apps/NAME`. */
function resourceName(kind: string | undefined, name: string): string {
  if (kind === undefined) return `pod/${name}`;
  const group = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet'].includes(kind) ? '.apps' : ['Job', 'CronJob'].includes(kind) ? '.batch' : '';
  return `${kind.toLowerCase()}${group}/${name}`;
}

function selectorOf(text: string | undefined): (labels: Readonly<Record<string, string>>) => boolean {
  try {
    return parseSelector(text ?? '');
  } catch (err) {
    if (err instanceof SelectorError) throw new UsageError(err.message);
    throw err;
  }
}

/** Node names are DNS subdomains: a slash or a manifest suffix means the user gave a file. */
function nodeNameArg(value: string | undefined): string | undefined {
  if (value !== undefined && (value.includes('/') || /\.(ya?ml|json)$/i.test(value))) {
    throw new UsageError(`tiers --node takes a node name (e.g. worker-1), not a file ("${value}"); a Node manifest goes to render/distribution --node FILE`);
  }
  return value;
}

function withPolicy(configPath: string | undefined, driver?: string): Policy {
  const policy = readPolicy(configPath);
  if (driver === undefined) return policy;
  return { ...policy, node: { ...policy.node, cgroupDriver: driver as CgroupDriver } };
}

function build(io: CliIo): Command {
  const program = new Command('kubectl-temper')
    .description('Temper: each pod\'s QoS tier and scx_layered layer, and why')
    .version(`kubectl-temper ${packageJson.version}`, '--version', 'print the version and exit')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError(false);

  profileOptions(clusterOptions(configOption(program.command('tiers'))))
    .description('list pods with their effective tier and layer')
    .option('--from-file <pods>', 'read pods from a manifest file (YAML or JSON, - for stdin) instead of the cluster')
    .option('-n, --namespace <ns>', 'only pods in this namespace (live default: the context\'s namespace)')
    .option('-A, --all-namespaces', 'pods in every namespace (the default for --from-file)')
    .option('--node <name>', 'only pods scheduled to this node (a node name, not a file)')
    .option('-l, --selector <selector>', 'only pods (or workload templates) whose labels match, e.g. app=web,tier!=low')
    .option('--no-headers', 'omit the table header')
    .addOption(outputOption())
    .action(async (opts: TiersOptions) => {
      const fromFile = opts.config === undefined ? null : readPolicy(opts.config);
      const all = opts.allNamespaces === true;
      const nodeName = nodeNameArg(opts.node);
      const matches = selectorOf(opts.selector);
      const noHeaders = !opts.headers;
      const catalog = loadProfileCatalog(opts);
      const wide = opts.output === 'wide';
      if (opts.fromFile !== undefined) {
        const policy = fromFile ?? readPolicy(undefined);
        const objects = await readInput(opts.fromFile, io);
        // Workload templates are previews of pods not yet scheduled: --node leaves them out.
        const kindOf = new Map<PodInfo, string>(objects.workloads.map((w) => [w.pod, w.kind]));
        const candidates = [...objects.pods, ...(nodeName === undefined ? objects.workloads.map((w) => w.pod) : [])];
        const pods = candidates.filter((p) =>
          (opts.namespace === undefined || all || p.namespace === opts.namespace) &&
          (nodeName === undefined || p.nodeName === nodeName) && matches(p.labels));
        const placed = classifyPods(policy, pods, objects.priorityClasses);
        const resources = placed.map((p) => resourceName(kindOf.get(p.pod), p.pod.name));
        // A pod's node shape is known when its Node is in the same input.
        const nodes = new Map(objects.nodes.map((n) => [n.name, nodeShapeOf(policy, n)]));
        const profiles = wide ? placed.map((p) => profileCell(policy, p.pod, catalog, nodes.get(p.pod.nodeName ?? '') ?? null)) : undefined;
        io.stdout(formatTierRows(placed.map(tierRowOf), opts.output, { showNamespace: opts.namespace === undefined || all, noHeaders, resources, profiles }));
        return;
      }
      const cluster = connect(opts);
      const policy = await clusterPolicy(cluster, fromFile);
      const namespace = all ? null : (opts.namespace ?? cluster.namespace);
      const placed = classifyPods(policy, await listPods(cluster, namespace, nodeName, opts.selector));
      const profiles = wide ? await liveProfileCells(cluster, policy, placed.map((p) => p.pod), catalog) : undefined;
      io.stdout(formatTierRows(placed.map(tierRowOf), opts.output, { showNamespace: namespace === null, noHeaders, profiles }));
    });

  profileOptions(configOption(program.command('render')))
    .description('print the exact scx_layered config (a JSON array) for a node and its pods')
    .requiredOption('--node <node-file>', 'the Node object (YAML or JSON)')
    .requiredOption('--pods <pods-file>', 'the pods (YAML or JSON); those with spec.nodeName = the node are used')
    .addOption(new Option('--cgroup-driver <driver>', 'kubelet cgroup driver (overrides the config)').choices([...CGROUP_DRIVERS]))
    .action(async (opts: ProfileFlags & { node: string; pods: string; config?: string; cgroupDriver?: string }) => {
      const policy = withPolicy(opts.config, opts.cgroupDriver);
      const catalog = loadProfileCatalog(opts);
      const node = await loadNode(opts.node);
      const objects = await readInput(opts.pods, io);
      nodeInputs(objects, node, opts.pods, io);
      const result = planEvery(policy, node, objects.pods, objects.priorityClasses, catalog);
      io.stdout(result.configJson);
      // stdout stays the exact config bytes; what the node cannot guarantee goes to stderr
      for (const w of result.warnings) io.stderr(`${formatWarning(w)}\n`);
    });

  configOption(program.command('distribution'))
    .description('print the qos-distribution node annotation value for a node and its pods')
    .requiredOption('--node <node-file>', 'the Node object (YAML or JSON)')
    .requiredOption('--pods <pods-file>', 'the pods (YAML or JSON)')
    .action(async (opts: { node: string; pods: string; config?: string }) => {
      const policy = withPolicy(opts.config);
      const node = await loadNode(opts.node);
      const objects = await readInput(opts.pods, io);
      nodeInputs(objects, node, opts.pods, io);
      io.stdout(`${serializeDistribution(planEvery(policy, node, objects.pods, objects.priorityClasses, loadProfileCatalog({})).distribution)}\n`);
    });

  profileOptions(clusterOptions(configOption(program.command('explain'))))
    .description('explain a pod\'s tier and layer: kubectl temper explain pod NAME')
    .argument('<kind>', 'the resource kind; only "pod" is supported')
    .argument('<name>', 'the pod name')
    .option('-n, --namespace <ns>', 'the pod\'s namespace (live default: the context\'s namespace; offline: default)')
    .option('--from-file <pods>', 'read pods from a manifest file instead of the cluster')
    .option('--node <node-file>', 'offline: the Node object, to show the layer as rendered for that node')
    .option('--threads', 'also list the threads the pod\'s node agent last saw in each workload-profile group (GET /api/v1/pods on the agent)')
    .option('--agent-url <url>', 'with --threads: reach the node agent here (e.g. http://127.0.0.1:8080) instead of port-forwarding to its pod on the pod\'s node')
    .addOption(new Option('--agent-port <port>', 'with --threads: the agent pod\'s HTTP port').argParser(parsePortArg).default(DEFAULT_AGENT_PORT))
    .action(async (kind: string, name: string, opts: ExplainOptions) => {
      if (!['pod', 'pods', 'po'].includes(kind)) throw new UsageError(`explain: unsupported kind "${kind}"; use: explain pod NAME`);
      io.stdout(opts.fromFile === undefined ? await explainLive(name, opts) : await explainOffline(name, opts, opts.fromFile, io));
    });

  registerProfilesCommand(program, io, (message) => new UsageError(message));
  registerConfigCommand(program, io);
  registerDashboardCommand(program, io);
  registerMigrateCommand(program, io);
  return program;
}

/** Runs the CLI with `argv` (arguments after the program name) and returns the exit code. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const program = build(io);
  if (argv.length === 0) {
    io.stdout(program.helpInformation());
    return 0;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander has already printed its message (or the help text for --help/--version).
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof ProblemsError) {
      for (const line of err.lines) io.stderr(`error: ${line}\n`);
      return 1;
    }
    if (err instanceof UsageError || err instanceof ClusterError) {
      io.stderr(`error: ${err.message}\n`);
      return err instanceof UsageError ? 2 : 1;
    }
    throw err;
  }
}
