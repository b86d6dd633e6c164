/**
 * Which layer scx_layered puts a task in, given a config: a pure model of the pinned 1.1.4
 * matching (bpf/SCHEMA.md), so placement can be property-tested without a kernel. File:line
 * references are to the crate's `src/` (M = main.rs, B = bpf/main.bpf.c, U = bpf/util.bpf.c).
 *
 * Two moments matter:
 * - a full re-match (B:3334-3385 `maybe_refresh_layer`, run from `layered_runnable` B:3562 once
 *   a fork/exec, cgroup move, rename or nice change flagged the task, B:850-1004, B:3812): the
 *   layers are tried in config order, each layer's OR blocks in order, and the first block whose
 *   conditions all hold wins (B:3207-3276 `match_layer`); HintEquals is one condition among
 *   others there (B:3133-3139);
 * - every wake-up afterwards (B:1683 select_cpu, B:1904 enqueue): a task whose hint value is
 *   mapped to a layer is switched straight into it (B:784-830), whatever the re-match chose; a
 *   value above 1024 counts as no hint (B:751-753), and an unmapped value changes nothing
 *   (B:796-798). Which layer maps which value is built once at start (M:4643-4844, M:2964-2990).
 * So a task's steady layer is its hint's layer when that is mapped, else the full re-match's.
 */
import type { LayeredConfig, LayerMatch } from './scx.ts';
import { SCX_LIMITS } from './scx.ts';

/** A task as scx_layered's matchers see it. */
export interface TaskView {
  /**
   * Its cgroup-v2 path as the BPF side formats it (U:43-87): relative to the root, no leading
   * slash, a trailing slash (`kubepods.slice/…/cri-containerd-1.scope/`); the root is `/`.
   */
  readonly cgroupPath: string;
  /** The thread's comm (CommPrefix). The kernel keeps at most 15 bytes. */
  readonly comm: string;
  /** The thread group leader's comm (PcommPrefix); defaults to `comm`. */
  readonly pcomm?: string;
  /** Its value in the task hint map, or null when none was written. */
  readonly hint: number | null;
}

/** Where a task lands and what put it there. */
export interface TaskPlacement {
  readonly layer: string;
  /** Index of the layer in the config. */
  readonly index: number;
  /** `hint`: a mapped task hint (steady state); `match`: the first matching layer. */
  readonly by: 'hint' | 'match';
}

/** The kernel's TASK_COMM_LEN is 16 including the NUL byte. */
const COMM_BYTES = SCX_LIMITS.maxCommBytes;

function truncateBytes(s: string, max: number): string {
  const bytes = new TextEncoder().encode(s);
  return bytes.length <= max ? s : new TextDecoder().decode(bytes.slice(0, max));
}

/** scx_layered tests CgroupRegex in userspace against `/sys/fs/cgroup/…` without a trailing slash (M:4258-4280). */
function absoluteCgroupPath(cgroupPath: string): string {
  const rel = cgroupPath === '/' ? '' : cgroupPath.replace(/\/$/, '');
  return rel === '' ? '/sys/fs/cgroup' : `/sys/fs/cgroup/${rel}`;
}

function conditionHolds(m: LayerMatch, task: TaskView): boolean {
  // String matchers are plain byte prefixes (U:94-144).
  if ('CgroupPrefix' in m) return task.cgroupPath.startsWith(m.CgroupPrefix);
  if ('CgroupRegex' in m) return new RegExp(m.CgroupRegex, 'u').test(absoluteCgroupPath(task.cgroupPath));
  if ('CommPrefix' in m) return truncateBytes(task.comm, COMM_BYTES).startsWith(m.CommPrefix);
  if ('PcommPrefix' in m) return truncateBytes(task.pcomm ?? task.comm, COMM_BYTES).startsWith(m.PcommPrefix);
  if ('HintEquals' in m) return task.hint !== null && task.hint <= SCX_LIMITS.maxHint && task.hint === m.HintEquals;
  throw new Error(`scx-match: unsupported match ${JSON.stringify(m)}`);
}

/**
 * The layer a full re-match puts `task` in: the first layer in config order with an OR block
 * whose conditions all hold (an empty block always holds). Throws when no layer matches, as
 * scx_layered reports an error (B:3377-3380); a valid config's catch-all always matches.
 */
export function rematchTask(config: LayeredConfig, task: TaskView): TaskPlacement {
  for (const [index, spec] of config.entries()) {
    if (spec.matches.some((block) => block.every((m) => conditionHolds(m, task)))) return { layer: spec.name, index, by: 'match' };
  }
  throw new Error(`scx-match: no layer matches ${JSON.stringify(task)}`);
}

/**
 * Hint value → index of the layer that maps it, as scx_layered builds hint_to_layer_id_map
 * (M:4773-4790): from every HintEquals block, the first layer naming a value owning it (a valid
 * config never maps one value twice).
 */
export function hintLayers(config: LayeredConfig): ReadonlyMap<number, number> {
  const out = new Map<number, number>();
  for (const [index, spec] of config.entries()) {
    for (const block of spec.matches) {
      for (const m of block) if ('HintEquals' in m && !out.has(m.HintEquals)) out.set(m.HintEquals, index);
    }
  }
  return out;
}

/**
 * The layer `task` settles in under `config`: its hint's layer when the hint is mapped (it wins
 * at every wake-up), otherwise the layer a full re-match chooses. This is the steady state;
 * right after a re-match a hinted task may sit in `rematchTask`'s layer until it next wakes.
 */
export function matchTask(config: LayeredConfig, task: TaskView): TaskPlacement {
  if (task.hint !== null && task.hint <= SCX_LIMITS.maxHint) {
    const index = hintLayers(config).get(task.hint);
    const spec = index === undefined ? undefined : config[index];
    if (index !== undefined && spec !== undefined) return { layer: spec.name, index, by: 'hint' };
  }
  return rematchTask(config, task);
}
