/**
 * Task hints (`placement = "hints"`, docs/layers.md "Matching pods", decisions §26): the value
 * the agent writes into scx_layered's task hint map for each thread of a pod that the static
 * QoS matches would put in the wrong layer. The values are part of the product's contract and
 * never change: hints live in a pinned BPF map that outlives both the agent and the scheduler,
 * so a restarted agent, a restarted scheduler and an older agent must all read them alike.
 */
import type { LayerName } from './types.ts';

/** The layers a hint names: each tier's own layer, the system layer and the node-critical layer. */
export type HintedLayer = Exclude<LayerName, 'shared' | 'catchall'>;

/**
 * One fixed value per placement, keyed by the layer that normally holds it. A layer maps the
 * values of everything it holds: usually its own, and on small nodes the `shared` layer maps
 * the values of every tier it holds, so a pod's hint never depends on the node's layout and no
 * hint has to be rewritten when a generation adds or removes `shared`. 0 is left unused (a
 * zeroed value written by mistake maps nothing); scx_layered accepts 0..=1024.
 */
export const TASK_HINTS: Readonly<Record<HintedLayer, number>> = {
  system: 1,
  critical: 2,
  high: 3,
  normal: 4,
  low: 5,
  background: 6,
  nodecritical: 7,
};
