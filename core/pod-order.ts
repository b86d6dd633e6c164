/** Temper's one pod order, used for every list of pods it builds (plans, tier moves, skipped pods). */

/** What identifies a pod for ordering. */
export interface PodKey {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

/** Orders pods by (namespace, name, uid) with plain code-unit comparison, independent of locale. */
export function comparePods(a: PodKey, b: PodKey): number {
  const ka = [a.namespace, a.name, a.uid];
  const kb = [b.namespace, b.name, b.uid];
  for (let i = 0; i < 3; i++) {
    const x = ka[i] ?? '';
    const y = kb[i] ?? '';
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}
