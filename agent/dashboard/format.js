// Words and numbers as the dashboard shows them: tiers, states, CPU, times, match summaries.
import { h, srOnly } from './dom.js';

/** Tier order, highest first; `system` (node-critical and Temper's own pods) last. */
export const TIERS = ['critical', 'high', 'normal', 'low', 'background'];
export const TIER_ORDER = [...TIERS, 'system'];

export const tierRank = (tier) => {
  const i = TIER_ORDER.indexOf(tier);
  return i === -1 ? TIER_ORDER.length : i;
};

export const capitalise = (s) => (s === '' ? s : s[0].toUpperCase() + s.slice(1));

/** A coloured tier label; `null` (a pod not on the node before / gone after) reads as a dash. */
export function tierBadge(tier, extra) {
  if (tier === null || tier === undefined) return h('span', { class: 'muted' }, extra ?? '—');
  return h('span', { class: `tier tier-${tier}` }, tier);
}

/** What each enforcement state means (docs/agent.md), shown under the state itself. */
export const STATE_MEANING = {
  enforcing: 'scx_layered runs the current generation and sched_ext reports it enabled.',
  degraded: 'scx_layered crashed and is being restarted, or sched_ext did not report enabled: tiers are not enforced right now.',
  'safe-mode': 'Safe mode was requested on the node: scx_layered is stopped and the kernel runs its default scheduler.',
  unavailable: 'The kernel has no sched_ext: pods are tiered and published, nothing is enforced.',
  starting: 'The agent has not rendered a config for its node yet.',
};

/** CPU millicores the way Temper prints them everywhere: whole CPUs as a number, else millicores. */
export const cpu = (millis) => (millis === null || millis === undefined ? '—' : millis % 1000 === 0 ? String(millis / 1000) : `${millis}m`);

export const plural = (n, one, many = `${one}s`) => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

export const shortHash = (sha) => (sha === null || sha === undefined ? '—' : sha.slice(0, 12));

const timeOnly = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const dateTime = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });

/** Local clock time (with the date when not today). */
export function clock(iso) {
  const d = new Date(iso);
  return d.toDateString() === new Date().toDateString() ? timeOnly.format(d) : dateTime.format(d);
}

/** "just now", "42 s ago", "3 min ago", "2 h ago", "4 d ago". */
export function ago(iso, now = Date.now()) {
  const s = Math.max(0, Math.round((now - new Date(iso).getTime()) / 1000));
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/** A <time> that app.js refreshes every few seconds ("3 min ago"), with the exact time on hover. */
export function relativeTime(iso) {
  return h('time', { datetime: iso, title: new Date(iso).toLocaleString(), dataset: { relative: '' } }, ago(iso));
}

/**
 * How a layer matches its tasks, in words, from the layer view and its spec in the config:
 * "3 pods by cgroup prefix", "regex over 1,200 pods (2 clauses)", "everything else".
 */
export function matchSummary(layer, spec) {
  if (layer.match === 'catch-all') return 'everything else';
  const blocks = spec?.matches ?? [];
  const comms = blocks.flat().filter((m) => m.PcommPrefix !== undefined).map((m) => m.PcommPrefix);
  const parts = [];
  if (comms.length > 0) parts.push(`${comms.join(', ')} by command name`);
  if (layer.match === 'cgroup-regex') {
    const clauses = blocks.flat().filter((m) => m.CgroupRegex !== undefined).length;
    parts.push(`regex over ${plural(layer.pods, 'pod')}${clauses > 1 ? ` (${clauses} clauses)` : ''}`);
  } else if (layer.pods > 0 || comms.length === 0) {
    parts.push(`${plural(layer.pods, 'pod')} by cgroup prefix`);
  }
  return parts.join(' + ');
}

/**
 * Tier moves as people read them: a pod deleted and recreated under the same name (a new uid)
 * is one move, "normal → high (recreated)", not a departure and an arrival.
 */
export function mergeMoves(moves) {
  const out = [];
  const byName = new Map();
  for (const m of moves) {
    const key = `${m.namespace}/${m.name}`;
    const other = byName.get(key);
    if (other !== undefined && ((other.from === null) !== (m.from === null)) && ((other.to === null) !== (m.to === null))) {
      const [gone, arrived] = other.to === null ? [other, m] : [m, other];
      other.from = gone.from;
      other.to = arrived.to;
      other.recreated = true;
      continue;
    }
    const row = { namespace: m.namespace, name: m.name, from: m.from, to: m.to, recreated: false };
    byName.set(key, row);
    out.push(row);
  }
  return out;
}

/** "1 pod moved, 2 entered, 1 left" for a generation's moves. */
export function movesSummary(moves) {
  const merged = mergeMoves(moves);
  const entered = merged.filter((m) => m.from === null).length;
  const left = merged.filter((m) => m.to === null).length;
  const moved = merged.length - entered - left;
  const parts = [];
  if (moved > 0) parts.push(`${plural(moved, 'pod')} moved`);
  if (entered > 0) parts.push(`${plural(entered, 'pod')} entered`);
  if (left > 0) parts.push(`${plural(left, 'pod')} left`);
  return parts.length === 0 ? 'no pod moved (sizing or configuration)' : parts.join(', ');
}

/** One move as "ns/name  normal → high". */
export function moveLine(m) {
  return h('span', { class: 'move' },
    h('span', { class: 'pod-name' }, `${m.namespace}/${m.name}`), ' ',
    m.from === null ? h('span', { class: 'muted' }, 'new') : tierBadge(m.from),
    h('span', { class: 'arrow', 'aria-hidden': 'true' }, ' → '), srOnly(' to '),
    m.to === null ? h('span', { class: 'muted' }, 'gone') : tierBadge(m.to),
    m.recreated ? h('span', { class: 'muted' }, ' (recreated)') : null);
}

/** Threads of hinted pods not carrying their tier's task hint (the status' `placement`; 0 without one). */
export function misplacedTotal(placement) {
  return Object.values(placement?.misplacedThreads ?? {}).reduce((sum, n) => sum + n, 0);
}

/** "not enforced: safe-mode" beside anything that shows the config while the scheduler is not running it. */
export function notEnforcedBadge(status) {
  if (status === null || status.state === 'enforcing') return null;
  return h('span', { class: `badge badge-state state-${status.state}`, dataset: { notEnforced: status.state } }, `not enforced: ${status.state}`);
}
