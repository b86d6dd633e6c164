/** `kubectl temper explain pod`: a pod's tier, layer and the reasons, in words. */
import type { Policy } from './config.ts';
import type { LayerPlan, PlanWarning } from './layers.ts';
import { LAYER_DEFAULTS, layerOverrides, podCgroupPath, qosCgroupPrefix } from './layers.ts';
import type { PlacedPod, Plan } from './plan.ts';
import { formatCpuMillis } from './quantity.ts';
import { matchTask } from './scx-match.ts';
import { exclusionOf } from './tier.ts';
import type { PodInfo } from './types.ts';

/** The plan warnings about one pod's workload profile (core/plan.ts planProfiles). */
const PROFILE_WARNING_CODES: readonly string[] = ['profile-degraded', 'profile-annotation'];

function row(label: string, value: string): string {
  return `${`${label}:`.padEnd(13)}${value}`;
}

function flags(l: { protected: boolean; preempt: boolean; exclusive: boolean }): string {
  const on = (['protected', 'preempt', 'exclusive'] as const).filter((f) => l[f]);
  return on.length === 0 ? 'not protected, no preemption, shared cores' : on.join(', ');
}

/**
 * With `placement = "hints"`: what puts the pod in its layer, the static QoS match or the task
 * hint the agent writes, and (when the node's config is known) where a thread whose hint is not
 * written yet lands, by the scx_layered matching model (core/scx-match.ts).
 */
function hintsMatch(policy: Policy, placed: PlacedPod, plan: Plan | null): string {
  const a = placed.assignment;
  const driver = policy.node.cgroupDriver;
  const prefix = qosCgroupPrefix(driver, a.qosClass);
  if (a.hint === null) {
    return `static match (QoS fallback): CgroupPrefix ${prefix} takes every ${a.qosClass} pod without a task hint (${driver} driver); no clause of its own`;
  }
  const written = `task hint ${a.hint} written by the agent for each of its threads (HintEquals ${a.hint})`;
  if (plan === null) return `${written}; until a thread's hint is written, the static matches place it`;
  const unhinted = matchTask(plan.config, { cgroupPath: podCgroupPath(driver, a.qosClass, placed.pod.uid), comm: '', hint: null });
  const where = unhinted.layer === a.layer ? 'this layer too' : `layer ${unhinted.layer}`;
  const by = unhinted.layer === 'catchall' ? 'no static match takes it, so it is in' : `the static match (${a.qosClass} prefix ${prefix}) puts it in`;
  return `${written}; until a thread's hint is written, ${by} ${where}`;
}

function layerRows(policy: Policy, placed: PlacedPod, layer: LayerPlan | null, plan: Plan | null): string[] {
  const a = placed.assignment;
  const hints = policy.node.placement === 'hints';
  const lines = [row('Layer', a.layer)];
  if (layer === null) {
    const d = LAYER_DEFAULTS[a.layer];
    const o = layerOverrides(policy, a.layer);
    lines.push(
      row('  kind', `${d.kind} (${flags({ protected: o.protected ?? d.protected, preempt: o.preempt ?? d.preempt, exclusive: o.exclusive ?? d.exclusive })})`),
      row('  slice', `${o.slice_us ?? d.sliceUs}µs`),
      row('  sizing', 'depends on the node; pass --node NODE (offline) to see the layer as rendered'),
    );
    if (hints) lines.push(row('  match', hintsMatch(policy, placed, null)));
    return lines;
  }
  lines.push(row('  kind', `${layer.kind} (${flags(layer)})`), row('  slice', `${layer.sliceUs}µs`));
  const cpus = layer.cpusRange === null ? 'no CPU allocation (Open: runs on idle CPUs)' : `${layer.cpusRange[0]}–${layer.cpusRange[1]} CPUs`;
  const util = layer.utilRange === null ? '' : `, utilisation target ${layer.utilRange[0]}–${layer.utilRange[1]}`;
  lines.push(row('  cpus', `${cpus}${util}, weight ${layer.weight}`));
  if (layer.tier !== null) {
    const limits = layer.limitMillis === null ? 'limits unbounded' : `limits ${formatCpuMillis(layer.limitMillis)}`;
    lines.push(row('  tier load', `${layer.pods} pod${layer.pods === 1 ? '' : 's'}, requests ${formatCpuMillis(layer.requestMillis)}, ${limits}`));
  }
  if (hints) {
    lines.push(row('  match', hintsMatch(policy, placed, plan)));
  } else if (a.layer === 'catchall') {
    lines.push(row('  match', 'none of its own: the catch-all layer takes every task no earlier layer matched'));
  } else {
    const path = podCgroupPath(policy.node.cgroupDriver, a.qosClass, placed.pod.uid);
    const how = layer.match === 'cgroup-regex' ? 'one CgroupRegex for the whole tier (more pods than 32 OR blocks allow), covering' : 'CgroupPrefix';
    lines.push(row('  match', `${how} ${path} (${policy.node.cgroupDriver} driver)`));
  }
  lines.push(row('Demotion', layer.demoted ? (layer.notes.find((n) => n.startsWith('demoted')) ?? 'demoted to Grouped') : 'none'));
  const other = layer.notes.filter((n) => !n.startsWith('demoted'));
  for (const n of other) lines.push(row('Note', n));
  return lines;
}

/**
 * One warning as a line for people: `warning: [code] message`, what `render` prints on stderr and
 * `explain` under the pod's layer.
 */
export function formatWarning(w: PlanWarning): string {
  return `warning: [${w.code}] ${w.message}`;
}

/** The warnings that concern a pod of `tier`: its tier's and the node's own. */
export function warningsFor(warnings: readonly PlanWarning[], tier: string): PlanWarning[] {
  return warnings.filter((w) => w.tier === null || w.tier === tier);
}

/**
 * Explains one pod. `placed` is its classification (null when it takes no part); `plan` is its
 * node's plan when known, which adds the rendered layer's parameters and any demotion.
 * `profileLines` (explainProfile's, core/profiles-render.ts) follow the layer; when given, the
 * plan's profile warnings are left out: they say nothing about this pod its Profile lines do not,
 * and other pods' are not about it.
 */
export function explainPod(policy: Policy, pod: PodInfo, placed: PlacedPod | null, plan: Plan | null, profileLines: readonly string[] = []): string {
  const lines = [row('Pod', `${pod.namespace}/${pod.name}`), row('UID', pod.uid === '' ? '(none)' : pod.uid), row('Node', pod.nodeName ?? '(not scheduled)')];
  const excluded = exclusionOf(pod);
  if (placed === null || excluded !== null) {
    lines.push(row('Tier', 'none'), row('Reason', excluded ?? 'not classified'));
    return `${lines.join('\n')}\n`;
  }
  const a = placed.assignment;
  const prioritySource = pod.priority !== null ? 'spec.priority' : pod.priorityClassName !== null ? `PriorityClass ${pod.priorityClassName}` : 'unset, taken as 0';
  lines.push(
    row('Priority', `${a.priority} (${prioritySource})`),
    row('Class', pod.priorityClassName ?? '(none)'),
    row('QoS class', `${a.qosClass} (${pod.statusQosClass !== null ? 'status.qosClass' : 'computed from the spec'})`),
    row('CPU', `requests ${formatCpuMillis(placed.requestMillis)}, limits ${placed.limitMillis === null ? 'none' : formatCpuMillis(placed.limitMillis)}`),
    row('Tier', a.tier),
    row('Rule', `${a.rule}: ${a.reason}`),
  );
  const layer = plan?.layers.find((l) => l.name === a.layer) ?? null;
  lines.push(...layerRows(policy, placed, layer, plan), ...profileLines);
  if (plan !== null) {
    const shown = warningsFor(plan.warnings, a.tier).filter((x) => profileLines.length === 0 || !PROFILE_WARNING_CODES.includes(x.code));
    for (const w of shown) lines.push(row('Warning', `[${w.code}] ${w.message}`));
    lines.push(row('Config', `sha256 ${plan.configSha256.slice(0, 12)} (node ${plan.node})`));
  }
  return `${lines.join('\n')}\n`;
}
