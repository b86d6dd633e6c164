/**
 * How much of a node Temper's owned layers may cover. scx_layered gives Open layers only the
 * CPUs no Confined/Grouped layer owns; when owned layers cover the node, every Open layer (the
 * system layer, the catch-all, Low, Background) is left with none and its tasks go to the low
 * fallback queue, which every CPU drains, a protected Critical CPU included
 * (docs/decisions.md §12). So the owned layers' `cpus_range` maxima together must always leave
 * at least one whole core owned by nobody. This module is the single place that arithmetic
 * lives; sizing (core/layers.ts) and placement checks (issue 13) both use it.
 */
import type { Policy } from './config.ts';
import type { NodeInfo } from './types.ts';

/** A node's CPUs as owned layers see them. All counts are whole numbers. */
export interface FenceCapacity {
  /** `floor(status.capacity.cpu)`, at least 1. */
  readonly cpus: number;
  /** SMT threads per physical core (`node.threads_per_core`); scx_layered allocates whole cores. */
  readonly threadsPerCore: number;
  /** Whole physical cores: `floor(cpus / threadsPerCore)`. */
  readonly cores: number;
  /** Cores owned by no layer at any moment: `node.reserved_cpus` rounded up to cores, at least 1. */
  readonly unownedCores: number;
  /** Cores the owned layers may cover together, maxima summed: `cores − unownedCores`, ≥ 0. */
  readonly ownableCores: number;
}

/**
 * The node's fence capacity under `policy`. `node.reserved_cpus` is the number of CPUs kept out
 * of every owned layer for the Open layers; it is rounded up to whole cores and is never less
 * than one core, whatever its value, so the Open layers always have a CPU of their own.
 */
export function fenceCapacity(node: NodeInfo, policy: Policy): FenceCapacity {
  const cpus = Math.max(1, Math.floor(node.cpuCapacityMillis / 1000));
  const threadsPerCore = policy.node.threadsPerCore;
  const cores = Math.floor(cpus / threadsPerCore);
  const unownedCores = Math.min(cores, Math.max(1, Math.ceil(policy.node.reservedCpus / threadsPerCore)));
  return { cpus, threadsPerCore, cores, unownedCores, ownableCores: Math.max(0, cores - unownedCores) };
}

/** Whole physical cores that hold `cpuMillis` of CPU (a request or a limit), at least 1. */
export function coresNeeded(cpuMillis: number, threadsPerCore: number): number {
  return Math.max(1, Math.ceil(cpuMillis / (1000 * threadsPerCore)));
}

/** Whole cores scx_layered allocates for a layer of `cpus` CPUs (it rounds up to cores). */
export function coresOf(cpus: number, threadsPerCore: number): number {
  return Math.ceil(cpus / threadsPerCore);
}

/**
 * True when a Critical tier requesting `requestMillis` in total can be fenced (Confined on
 * exclusive whole cores) on a node of this capacity: its whole-core request fits in the ownable
 * cores. Critical is sized first, so nothing else competes for them.
 */
export function criticalFits(capacity: FenceCapacity, requestMillis: number): boolean {
  return coresNeeded(requestMillis, capacity.threadsPerCore) <= capacity.ownableCores;
}
