// The offline demo (npm run demo:offline): the example node and pods under
// manifests/examples/, rendered into tiers, the scx_layered config and the node annotation.
import { join } from 'node:path';
import { defaultPolicy } from '../core/config.ts';
import { formatWarning } from '../core/explain.ts';
import { distributionAnnotation } from '../core/names.ts';
import { plan, serializeDistribution, tierRowOf } from '../core/plan.ts';
import { readManifests, readNode } from '../plugin/manifests.ts';
import { formatTierRows } from '../plugin/output.ts';

const examples = join(import.meta.dirname, '..', 'manifests', 'examples');
const policy = defaultPolicy();
const node = readNode(join(examples, 'node.yaml'));
const objects = readManifests(join(examples, 'pods.yaml'));
const result = plan(policy, node, objects.pods, objects.priorityClasses);

const say = (s: string): boolean => process.stdout.write(s);
say(`Temper offline demo: node ${node.name} (${node.cpuCapacityMillis / 1000} CPUs), ${result.pods.length} live pods\n\n`);
const profiles = result.profiles.selections.map((s) => s.selection.profile?.profile.name ?? '-'); // in pod order, like result.pods
say(formatTierRows(result.pods.map(tierRowOf), 'wide', { showNamespace: true, profiles }));
say(`\nLayers:\n`);
for (const l of result.layers) {
  const cpus = l.cpusRange === null ? 'no allocation' : `cpus ${l.cpusRange[0]}-${l.cpusRange[1]}`;
  say(`  ${l.name.padEnd(11)} ${l.kind.padEnd(9)} ${cpus.padEnd(14)} slice ${String(l.sliceUs).padStart(5)}us  weight ${String(l.weight).padStart(5)}  ${l.pods} pods${l.demoted ? '  DEMOTED' : ''}\n`);
}
say(result.warnings.length === 0 ? '  (every tier gets its guarantee on this node)\n' : result.warnings.map((w) => `  ${formatWarning(w)}\n`).join(''));
say(`\n${distributionAnnotation(policy)}: ${serializeDistribution(result.distribution)}\n`);
say(`\nscx_layered config (sha256 ${result.configSha256}):\n${result.configJson}`);
say(`\nTry: npx kubectl-temper explain pod payments-api-0 -n shop --from-file manifests/examples/pods.yaml --node manifests/examples/node.yaml\n`);
