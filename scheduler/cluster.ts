/**
 * The extender's own view of the cluster, kept from its Node, Pod and PriorityClass watches:
 * each node's allocatable CPU and its agent's report (parsed once per change, stamped with when
 * the extender saw it change), and each node's demand by tier, summed from the pods bound to it
 * and classified by core. Updated per object, so a filter call costs O(candidate nodes).
 */
import type { V1Node, V1Pod, V1PriorityClass } from '@kubernetes/client-node';
import { classInfos } from '../adapters/priority-classes.ts';
import type { Policy } from '../core/config.ts';
import { InputError } from '../core/errors.ts';
import { readPrefixes } from '../core/names.ts';
import type { NodeReport } from '../core/node-report.ts';
import { parseNodeReport } from '../core/node-report.ts';
import { nodeFromObject, podFromObject } from '../core/objects.ts';
import type { CandidateNode, TierMillis } from '../core/placement.ts';
import { NO_DEMAND } from '../core/placement.ts';
import { classifyAll } from '../core/plan.ts';
import type { PodInfo, PriorityClassInfo, Tier, TierName } from '../core/types.ts';

interface NodeEntry {
  readonly allocatableMillis: number;
  readonly reportText: string | null;
  readonly report: NodeReport | null;
  /** Why the annotation was not usable; null when there is none or it parsed. */
  readonly reportProblem: string | null;
  /** When this extender saw the report change; null when it was already there at first sight. */
  readonly changedAt: number | null;
}

interface PodEntry {
  readonly node: string;
  readonly tier: Tier;
  readonly millis: number;
}

/** What a pod is for placement: its tier and effective CPU request; null when core cannot classify it. */
export interface Classified {
  readonly tier: TierName;
  readonly requestMillis: number;
}

export class ClusterView {
  private readonly nodes = new Map<string, NodeEntry>();
  private readonly pods = new Map<string, PodEntry>();
  private readonly demand = new Map<string, Record<Tier, number>>();
  private classes: PriorityClassInfo[] = [];
  /** The annotation keys read, in order: the configured prefix first, then the other honoured ones (migration). */
  private readonly annotations: readonly string[];
  /** Counters the extender exports as metrics. */
  readonly stats = { podsNotUnderstood: 0, nodesNotUnderstood: 0 };

  private readonly policy: Policy;
  private readonly clock: () => number;
  private readonly onSettled: (uid: string) => void;

  /** `onSettled` is told when a pod is seen bound to a node or gone (its in-flight margin ends). */
  constructor(policy: Policy, clock: () => number, onSettled: (uid: string) => void = () => {}) {
    this.policy = policy;
    this.clock = clock;
    this.onSettled = onSettled;
    this.annotations = readPrefixes(policy).map((p) => `${p}/qos-distribution`);
  }

  nodeEvent(verb: 'add' | 'update' | 'delete', obj: V1Node): void {
    const name = obj.metadata?.name;
    if (name === undefined) return;
    if (verb === 'delete') {
      this.nodes.delete(name);
      return;
    }
    let allocatableMillis: number;
    try {
      allocatableMillis = nodeFromObject({ ...obj, kind: 'Node' }, `node ${name}`).cpuAllocatableMillis;
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      this.stats.nodesNotUnderstood++;
      allocatableMillis = 0;
    }
    const own = obj.metadata?.annotations ?? {};
    const text = this.annotations.map((k) => own[k]).find((v) => v !== undefined) ?? null;
    const before = this.nodes.get(name);
    if (before !== undefined && before.reportText === text) {
      this.nodes.set(name, { ...before, allocatableMillis });
      return;
    }
    const parsed = text === null ? null : parseNodeReport(text);
    this.nodes.set(name, {
      allocatableMillis, reportText: text,
      report: parsed?.ok === true ? parsed.report : null,
      reportProblem: parsed !== null && !parsed.ok ? parsed.reason : null,
      changedAt: before === undefined ? null : this.clock(),
    });
  }

  podEvent(verb: 'add' | 'update' | 'delete', obj: V1Pod): void {
    const uid = obj.metadata?.uid;
    if (uid === undefined) return;
    this.forgetPod(uid);
    const phase = obj.status?.phase;
    const node = obj.spec?.nodeName;
    if (verb === 'delete' || phase === 'Succeeded' || phase === 'Failed') {
      this.onSettled(uid);
      return;
    }
    if (node === undefined || node === '') return;
    this.onSettled(uid);
    const c = this.classifyObject(obj);
    if (c === null || c.tier === 'system') return;
    this.pods.set(uid, { node, tier: c.tier, millis: c.requestMillis });
    const d = this.demand.get(node) ?? { ...NO_DEMAND };
    d[c.tier] += c.requestMillis;
    this.demand.set(node, d);
  }

  /**
   * The PriorityClasses, for pods without spec.priority (possible only with the Priority admission
   * plugin off; admitted pods carry it, so bound pods need no re-classifying).
   */
  setClasses(list: readonly V1PriorityClass[]): void {
    this.classes = classInfos(list);
  }

  private forgetPod(uid: string): void {
    const old = this.pods.get(uid);
    if (old === undefined) return;
    this.pods.delete(uid);
    const d = this.demand.get(old.node);
    if (d !== undefined) d[old.tier] -= old.millis;
  }

  /** The pod's tier and request by core's classifier; null (and counted) when it is not understood. */
  classifyObject(obj: unknown): Classified | null {
    let pod: PodInfo;
    try {
      pod = podFromObject(obj, 'pod');
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      this.stats.podsNotUnderstood++;
      return null;
    }
    return this.classify(pod);
  }

  /** A parsed pod's tier and request; null when its priority cannot be resolved or it is finished. */
  classify(pod: PodInfo): Classified | null {
    const [placed] = classifyAll(this.policy, [pod], this.classes).placed;
    return placed === undefined ? null : { tier: placed.assignment.tier, requestMillis: placed.requestMillis };
  }

  /** A node as the policy sees it, with `margin` for pods just placed; unknown nodes have no report. */
  candidate(name: string, margin: TierMillis): CandidateNode {
    const n = this.nodes.get(name);
    const demand = this.demand.get(name) ?? NO_DEMAND;
    if (n === undefined) return { name, allocatableMillis: 0, report: null, reportAgeMs: null, demand, margin };
    return { name, allocatableMillis: n.allocatableMillis, report: n.report, reportAgeMs: this.ageOf(n), demand, margin };
  }

  /**
   * How old a report is: since this extender saw it change (immune to clock skew between nodes),
   * or, for a value already there when the extender started, since its `at`.
   */
  private ageOf(n: NodeEntry): number | null {
    if (n.report === null) return null;
    const now = this.clock();
    if (n.changedAt !== null) return now - n.changedAt;
    const at = Date.parse(n.report.at);
    return Number.isNaN(at) ? null : Math.max(0, now - at);
  }

  /** Nodes by what their annotation is: usable, absent (no agent) or not understood. */
  reportCounts(): { ok: number; absent: number; unreadable: number } {
    const out = { ok: 0, absent: 0, unreadable: 0 };
    for (const n of this.nodes.values()) {
      if (n.report !== null) out.ok++;
      else if (n.reportText === null) out.absent++;
      else out.unreadable++;
    }
    return out;
  }

  /** Why a node's annotation is not usable, for logs; null when usable or absent. */
  reportProblem(name: string): string | null {
    return this.nodes.get(name)?.reportProblem ?? null;
  }

  get nodeCount(): number {
    return this.nodes.size;
  }

  get podCount(): number {
    return this.pods.size;
  }
}
