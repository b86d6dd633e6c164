/** Fixtures for the workload-profile tests: built-ins by name, profiled pods from a plan, thread placement. */
import type { Plan } from '../core/plan.ts';
import type { Profile } from '../core/profiles.ts';
import { builtinProfileCatalog } from '../core/profiles.ts';
import type { ProfiledPod, ProfileLayerSpec, ProfileMatch } from '../core/profiles-render.ts';
import type { PodInfo } from '../core/types.ts';

/** A built-in profile by name. */
export function builtin(name: string): Profile {
  const p = builtinProfileCatalog().builtins.find((x) => x.name === name);
  if (p === undefined) throw new Error(`no built-in profile ${name}`);
  return p;
}

/** The plan's pods that `profileOf` gives a profile, as renderProfiles takes them. */
export function profiledPods(p: Plan, profileOf: (pod: PodInfo) => Profile | null): ProfiledPod[] {
  return p.pods.flatMap((x) => {
    const profile = profileOf(x.pod);
    if (profile === null) return [];
    const a = x.assignment;
    return [{ namespace: x.pod.namespace, name: x.pod.name, uid: x.pod.uid, qosClass: a.qosClass, tier: a.tier, layer: a.layer, requestMillis: x.requestMillis, profile }];
  });
}

/** A thread as the scheduler's matchers see it. */
export interface MatchedThread {
  readonly cgroupPath: string;
  readonly comm: string;
  readonly pcomm: string;
  readonly hint: number | null;
}

function holds(m: ProfileMatch, t: MatchedThread): boolean {
  if ('CgroupPrefix' in m) return t.cgroupPath.startsWith(m.CgroupPrefix);
  if ('CgroupRegex' in m) return new RegExp(m.CgroupRegex, 'u').test(`/sys/fs/cgroup/${t.cgroupPath.replace(/\/$/, '')}`);
  if ('PcommPrefix' in m) return t.pcomm.startsWith(m.PcommPrefix);
  if ('CommPrefix' in m) return t.comm.startsWith(m.CommPrefix);
  return t.hint === m.HintEquals;
}

/**
 * The layer a thread settles in (core/scx-match.ts's model, with CommPrefix): a mapped hint's
 * layer, else the first layer with an OR block whose conditions all hold.
 */
export function placeThread(config: readonly ProfileLayerSpec[], t: MatchedThread): string {
  if (t.hint !== null) {
    const hinted = config.find((l) => l.matches.some((b) => b.some((m) => 'HintEquals' in m && m.HintEquals === t.hint)));
    if (hinted !== undefined) return hinted.name;
  }
  const layer = config.find((l) => l.matches.some((b) => b.every((m) => holds(m, t))));
  if (layer === undefined) throw new Error(`no layer matches ${JSON.stringify(t)}`);
  return layer.name;
}
