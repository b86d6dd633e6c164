/**
 * Differences between two config generations: which layers changed and how (structured), which
 * pods moved between tiers, and a unified text diff of the config bytes. diff(x, x) is empty.
 */
import { comparePods } from './pod-order.ts';
import type { LayerSpec, LayeredConfig } from './scx.ts';
import type { TierName } from './types.ts';

export interface FieldChange {
  /** Dotted path inside the layer spec, e.g. `kind.Grouped.cpus_range`. */
  readonly path: string;
  readonly before: unknown;
  readonly after: unknown;
}

export interface LayerChange {
  readonly layer: string;
  readonly change: 'added' | 'removed' | 'changed';
  readonly fields: readonly FieldChange[];
}

/** A pod that entered, left or changed tier between two generations. */
export interface TierMove {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  /** null: the pod was not on the node (or not live) before. */
  readonly from: TierName | null;
  /** null: the pod is gone (deleted, finished, moved away). */
  readonly to: TierName | null;
}

export interface PodTier {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly tier: TierName;
}

function leafChanges(before: unknown, after: unknown, path: string, out: FieldChange[]): void {
  if (JSON.stringify(before) === JSON.stringify(after)) return;
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObj(before) && isObj(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
    for (const k of keys) leafChanges(before[k], after[k], path === '' ? k : `${path}.${k}`, out);
    return;
  }
  out.push({ path, before: before ?? null, after: after ?? null });
}

/**
 * Per-layer changes from `a` to `b`, by layer name, in `b`'s order then removed layers. Arrays
 * (ranges, match lists) are compared whole; a kind change shows as `kind.<Old>` removed and
 * `kind.<New>` added.
 */
export function diffLayers(a: LayeredConfig, b: LayeredConfig): LayerChange[] {
  const before = new Map<string, LayerSpec>(a.map((l) => [l.name, l]));
  const after = new Set(b.map((l) => l.name));
  const out: LayerChange[] = [];
  for (const layer of b) {
    const old = before.get(layer.name);
    if (old === undefined) {
      out.push({ layer: layer.name, change: 'added', fields: [] });
      continue;
    }
    const fields: FieldChange[] = [];
    leafChanges(old, layer, '', fields);
    if (fields.length > 0) out.push({ layer: layer.name, change: 'changed', fields });
  }
  for (const layer of a) if (!after.has(layer.name)) out.push({ layer: layer.name, change: 'removed', fields: [] });
  return out;
}

/** Pods whose tier differs between two assignment lists (keyed by uid), in pod order (core/pod-order.ts). */
export function tierMoves(a: readonly PodTier[], b: readonly PodTier[]): TierMove[] {
  const before = new Map(a.map((p) => [p.uid, p]));
  const after = new Map(b.map((p) => [p.uid, p]));
  const out: TierMove[] = [];
  for (const p of b) {
    const old = before.get(p.uid);
    if (old?.tier !== p.tier) out.push({ namespace: p.namespace, name: p.name, uid: p.uid, from: old?.tier ?? null, to: p.tier });
  }
  for (const p of a) if (!after.has(p.uid)) out.push({ namespace: p.namespace, name: p.name, uid: p.uid, from: p.tier, to: null });
  return out.sort(comparePods);
}

type Op = { kind: ' ' | '-' | '+'; line: string };

/** Line edit script from `a` to `b` by longest common subsequence (configs are a few thousand lines at most). */
function editScript(a: readonly string[], b: readonly string[]): Op[] {
  // Trim the common prefix and suffix first: generations usually differ in a few lines.
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) { endA--; endB--; }
  const n = endA - start;
  const m = endB - start;
  const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      const row = lcs[i] as Uint32Array;
      const next = lcs[i + 1] as Uint32Array;
      row[j] = a[start + i] === b[start + j] ? (next[j + 1] ?? 0) + 1 : Math.max(next[j] ?? 0, row[j + 1] ?? 0);
    }
  }
  const ops: Op[] = a.slice(0, start).map((line) => ({ kind: ' ', line }));
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[start + i] === b[start + j]) {
      ops.push({ kind: ' ', line: a[start + i] ?? '' });
      i++; j++;
    } else if (i < n && (j === m || (lcs[i + 1]?.[j] ?? 0) >= (lcs[i]?.[j + 1] ?? 0))) {
      ops.push({ kind: '-', line: a[start + i] ?? '' }); // deletions first, as diff -u prints them
      i++;
    } else {
      ops.push({ kind: '+', line: b[start + j] ?? '' });
      j++;
    }
  }
  for (const line of a.slice(endA)) ops.push({ kind: ' ', line });
  return ops;
}

/**
 * A unified diff (as `diff -u` prints it, with `context` lines around each change) from
 * `aText` to `bText`. Identical texts give the empty string.
 */
export function unifiedDiff(aText: string, bText: string, aName: string, bName: string, context = 3): string {
  if (aText === bText) return '';
  const split = (t: string): string[] => (t.endsWith('\n') ? t.slice(0, -1) : t).split('\n');
  const ops = editScript(split(aText), split(bText));
  const changed = ops.map((o, k) => (o.kind !== ' ' ? k : -1)).filter((k) => k >= 0);
  const hunks: [number, number][] = [];
  for (const k of changed) {
    const lo = Math.max(0, k - context);
    const hi = Math.min(ops.length - 1, k + context);
    const last = hunks.at(-1);
    if (last !== undefined && lo <= last[1] + 1) last[1] = hi;
    else hunks.push([lo, hi]);
  }
  const out = [`--- ${aName}`, `+++ ${bName}`];
  for (const [lo, hi] of hunks) {
    const before = ops.slice(0, lo);
    const aStart = before.filter((o) => o.kind !== '+').length + 1;
    const bStart = before.filter((o) => o.kind !== '-').length + 1;
    const body = ops.slice(lo, hi + 1);
    const aLen = body.filter((o) => o.kind !== '+').length;
    const bLen = body.filter((o) => o.kind !== '-').length;
    out.push(`@@ -${aLen === 0 ? aStart - 1 : aStart},${aLen} +${bLen === 0 ? bStart - 1 : bStart},${bLen} @@`);
    for (const o of body) out.push(`${o.kind}${o.line}`);
  }
  return `${out.join('\n')}\n`;
}
