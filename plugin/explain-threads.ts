/**
 * `kubectl temper explain pod --threads`: the threads the pod's node agent last saw in each of
 * its workload-profile groups (GET /api/v1/pods on the agent), under each group's line.
 */
import type { PodInfo } from '../core/types.ts';
import type { AgentLocator } from './agent-client.ts';
import { AgentApiError, connectAgent, getJson } from './agent-client.ts';
import { parseTimeout } from './live.ts';

/** At most this many threads are named per group; the rest are counted. */
const SHOWN = 12;

interface ThreadBody { readonly tid: number; readonly comm: string }
interface GroupBody { readonly group: string; readonly threads: readonly ThreadBody[] | null }

const isThread = (t: unknown): t is ThreadBody => typeof t === 'object' && t !== null && typeof (t as ThreadBody).tid === 'number' && typeof (t as ThreadBody).comm === 'string';

/** One group's threads in words: `812 connection, 813 connection, … (14 threads)`. */
export function describeThreads(threads: readonly ThreadBody[] | null): string {
  if (threads === null) return 'not read by the agent (it reads them with placement "hints", or from the pod cgroup when it can see the pod\'s threads)';
  if (threads.length === 0) return 'none seen';
  const named = threads.slice(0, SHOWN).map((t) => `${t.tid} ${t.comm}`).join(', ');
  const more = threads.length > SHOWN ? `, and ${threads.length - SHOWN} more` : '';
  return `${named}${more} (${threads.length} thread${threads.length === 1 ? '' : 's'})`;
}

/** The pod's groups as the agent reports them; throws AgentApiError when the agent does not know the pod or answers out of shape. */
function groupsOf(body: unknown, pod: PodInfo, where: string): GroupBody[] | null {
  if (!Array.isArray(body)) throw new AgentApiError(`unexpected answer from ${where} (GET /api/v1/pods): not a list of pods`);
  const row: unknown = body.find((r: unknown) => typeof r === 'object' && r !== null && (r as { uid?: unknown }).uid === pod.uid);
  if (row === undefined) throw new AgentApiError(`the agent at ${where} does not list pod ${pod.namespace}/${pod.name} (uid ${pod.uid}); it lists the pods of its node's current plan`);
  const profile = (row as { profile?: unknown }).profile;
  if (profile === null || profile === undefined) return null;
  const groups = (profile as { groups?: unknown }).groups;
  if (!Array.isArray(groups)) throw new AgentApiError(`unexpected answer from ${where} (GET /api/v1/pods): pod ${pod.namespace}/${pod.name}'s profile has no groups list`);
  return groups.map((g: unknown): GroupBody => {
    const name = (g as { group?: unknown }).group;
    const threads = (g as { threads?: unknown }).threads;
    if (typeof name !== 'string' || !(threads === null || (Array.isArray(threads) && threads.every(isThread)))) {
      throw new AgentApiError(`unexpected answer from ${where} (GET /api/v1/pods): a group of pod ${pod.namespace}/${pod.name}'s profile is out of shape`);
    }
    return { group: name, threads: threads as readonly ThreadBody[] | null };
  });
}

/**
 * The profile lines of `explain pod` (core/profiles-render.ts explainProfile: a `Profile:` line,
 * then one `  group (treatment): …` line per group) with a `threads:` line under each group, as
 * the pod's node agent reports them. A pod the agent gives no profile gets one line saying so.
 */
export async function withAgentThreads(lines: readonly string[], pod: PodInfo, locator: Omit<AgentLocator, 'node'> & { readonly requestTimeout?: string }): Promise<string[]> {
  if (pod.nodeName === null) throw new AgentApiError(`pod ${pod.namespace}/${pod.name} is not scheduled: no node agent knows its threads`);
  const agent = await connectAgent({ ...locator, node: pod.nodeName });
  let groups: GroupBody[] | null;
  try {
    groups = groupsOf(await getJson(agent, '/pods', parseTimeout(locator.requestTimeout ?? '0')), pod, agent.where);
  } finally {
    await agent.close();
  }
  if (groups === null) return [...lines, `Threads:     the agent on ${pod.nodeName} applies no profile to this pod`];
  const out: string[] = [];
  for (const line of lines) {
    out.push(line);
    const g = groups.find((x) => line.startsWith(`  ${x.group} (`));
    if (g !== undefined) out.push(`      threads: ${describeThreads(g.threads)}`);
  }
  return out;
}
