// Overview: the enforcement state (prominent and truthful), the current generation, and how
// the node's pods and CPU requests split across the five tiers.
import { fill, h } from './dom.js';
import {
  STATE_MEANING, TIERS, TIER_ORDER, clock, cpu, mergeMoves, misplacedTotal, moveLine, movesSummary, notEnforcedBadge, plural, relativeTime, shortHash, tierBadge,
} from './format.js';

function stateCard(status, stale) {
  const st = status?.state ?? 'unknown';
  return h('article', { class: ['card', 'state-card', `state-${st}`, stale && status !== null ? 'stale' : ''], 'aria-labelledby': 'ov-state-title' },
    h('h2', { class: 'card-label', id: 'ov-state-title' }, 'Enforcement'),
    h('p', { class: 'state-big', id: 'ov-state', dataset: { state: st } },
      h('span', { class: 'dot', 'aria-hidden': 'true' }), status?.state ?? 'connecting…'),
    h('p', { class: 'meaning' }, STATE_MEANING[st] ?? 'Waiting for the agent.'),
    status === null || status.message === '' ? null : h('p', { class: 'message' }, h('span', { class: 'muted' }, 'Agent: '), h('span', { id: 'ov-message' }, status.message)),
    stale && status !== null ? h('p', { class: 'stale-note' }, 'Not live: this is the last state received.') : null);
}

function generationCard(g) {
  if (g === null) {
    return h('article', { class: 'card', 'aria-labelledby': 'ov-gen-title' },
      h('h2', { class: 'card-label', id: 'ov-gen-title' }, 'Generation'),
      h('p', { class: 'big muted' }, 'none yet'),
      h('p', { class: 'muted' }, 'The agent renders its first config once it has listed the node and its pods.'));
  }
  return h('article', { class: 'card', 'aria-labelledby': 'ov-gen-title' },
    h('h2', { class: 'card-label', id: 'ov-gen-title' }, 'Generation'),
    h('p', { class: 'big' }, h('span', { id: 'ov-generation' }, `#${g.number}`)),
    h('p', {}, h('span', { class: 'muted' }, 'sha256 '), h('code', { class: 'hash', id: 'ov-sha', title: g.sha256 }, shortHash(g.sha256))),
    h('p', {}, h('span', { class: 'muted' }, 'created '), clock(g.createdAt), h('span', { class: 'muted' }, ' · '), relativeTime(g.createdAt)),
    h('p', { class: 'muted' }, movesSummary(g.moves)));
}

/** How pods reach their layers: a cgroup clause each (the status has no `placement`), or task hints and the placer's counts. */
function placementLine(placement) {
  if (placement === undefined) return h('p', { class: 'muted', id: 'ov-placement', dataset: { mode: 'cgroup' } }, 'placed by cgroup: a match per pod');
  const misplaced = misplacedTotal(placement);
  return h('p', { id: 'ov-placement', dataset: { mode: placement.mode } },
    h('span', { class: 'muted' }, 'placed by '), 'task hints',
    h('span', { class: 'muted' }, `: ${plural(placement.hintedPods, 'pod')}, ${plural(placement.hintedThreads, 'thread')} hinted`),
    misplaced > 0 ? h('span', { class: 'badge badge-warn' }, `${plural(misplaced, 'thread')} misplaced`) : null);
}

function podsCard(state) {
  const system = state.pods.filter((p) => p.tier === 'system').length;
  const layers = state.current?.layers.length ?? 0;
  return h('article', { class: 'card', 'aria-labelledby': 'ov-pods-title' },
    h('h2', { class: 'card-label', id: 'ov-pods-title' }, 'Pods on the node'),
    h('p', { class: 'big' }, String(state.pods.length)),
    h('p', { class: 'muted' }, `${plural(state.pods.length - system, 'tiered pod')}, ${system} system`),
    h('p', { class: 'muted' }, `${plural(layers, 'scx_layered layer')}`),
    state.status === null ? null : placementLine(state.status.placement));
}

/**
 * Hints placement: threads of hinted pods that do not carry their tier's hint (a write that
 * failed, or a read-back that differed and could not be rewritten). The static QoS match or a
 * stale hint places them, so the tiers below do not hold for them; the agent keeps retrying.
 */
function misplacedCallout(placement) {
  const total = misplacedTotal(placement);
  if (total === 0) return null;
  const tiers = TIER_ORDER.filter((t) => (placement.misplacedThreads[t] ?? 0) > 0);
  return h('div', { class: 'callout callout-warn', role: 'note', id: 'ov-misplaced' },
    h('strong', {}, `${plural(total, 'thread')} misplaced.`),
    ' A thread of a hinted pod without its tier\'s task hint may run outside the tier\'s layer. The agent keeps rewriting the hints; its log names the pods.',
    h('ul', { class: 'warnings' }, tiers.map((t) => h('li', { dataset: { tier: t } }, tierBadge(t), ` ${plural(placement.misplacedThreads[t], 'thread')}`))));
}

/** The layer a tier runs in, in a few words: "Confined · 2–2 CPUs". */
function layerWords(layer) {
  if (layer === undefined) return h('span', { class: 'muted' }, 'no layer (no pods)');
  const range = layer.cpusRange === null ? 'idle CPUs' : `${layer.cpusRange.min}–${layer.cpusRange.max} CPUs`;
  return h('span', {}, layer.kind, h('span', { class: 'muted' }, ` · ${range} · weight ${layer.weight}`));
}

/**
 * What this node cannot guarantee under the generation (the plan's warnings: node too small,
 * Critical not fenced, a tier owning no CPU, clamped or capped sizes), each in the agent's words.
 */
function warningsCallout(warnings) {
  if (warnings.length === 0) return null;
  return h('div', { class: 'callout callout-warn', role: 'note', id: 'ov-warnings' },
    h('strong', {}, warnings.length === 1 ? 'One guarantee this node cannot give:' : `${warnings.length} guarantees this node cannot give:`),
    h('ul', { class: 'warnings' }, warnings.map((w) => h('li', { dataset: { code: w.code, tier: w.tier ?? 'node' } },
      h('span', { class: 'badge badge-warn' }, w.code), ' ', w.message))));
}

function tiersCard(g, status) {
  if (g === null) return null;
  const total = TIERS.reduce((sum, t) => sum + g.distribution[t].cpuMillis, 0);
  const warnings = g.warnings ?? [];
  const misplaced = status?.placement?.misplacedThreads ?? {};
  const rows = TIERS.map((tier) => {
    const load = g.distribution[tier];
    const layer = g.layers.find((l) => l.name === tier);
    const share = total === 0 ? 0 : load.cpuMillis / total;
    const bar = h('span', { class: `bar bar-${tier}` });
    bar.style.width = `${(share * 100).toFixed(1)}%`;
    return h('tr', { dataset: { tier }, class: load.pods === 0 ? 'empty' : null },
      h('th', { scope: 'row' }, tierBadge(tier)),
      h('td', { class: 'num', dataset: { col: 'pods' } }, String(load.pods)),
      h('td', { class: 'num', dataset: { col: 'cpu' } }, cpu(load.cpuMillis)),
      h('td', { class: 'share' },
        h('span', { class: 'bar-track', role: 'img', 'aria-label': `${Math.round(share * 100)}% of requested CPU` }, bar),
        h('span', { class: 'muted share-num' }, `${Math.round(share * 100)}%`)),
      h('td', {}, layerWords(layer),
        tier === 'critical' && load.demoted ? h('span', { class: 'badge badge-warn', id: 'ov-demoted' }, `rendered as ${layer?.kind ?? 'Grouped'}`) : null,
        warnings.some((w) => w.tier === tier && w.code === 'tier-unowned') ? h('span', { class: 'badge badge-warn', dataset: { unowned: tier } }, 'owns no CPU') : null,
        misplaced[tier] > 0 ? h('span', { class: 'badge badge-warn', dataset: { misplaced: tier } }, `${plural(misplaced[tier], 'thread')} misplaced`) : null));
  });
  return h('section', { class: 'card', 'aria-labelledby': 'ov-tiers-title' },
    h('h2', { id: 'ov-tiers-title' }, 'Tiers', notEnforcedBadge(status)),
    warningsCallout(warnings),
    h('table', { class: 'data tiers', id: 'ov-tiers' },
      h('caption', { class: 'sr-only' }, 'Pods and CPU requests per tier in the current generation'),
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, 'Tier'),
        h('th', { scope: 'col', class: 'num' }, 'Pods'),
        h('th', { scope: 'col', class: 'num' }, 'CPU requested'),
        h('th', { scope: 'col' }, 'Share of requests'),
        h('th', { scope: 'col' }, 'Layer'))),
      h('tbody', {}, rows)),
    h('p', { class: 'muted small' }, `CPU is the tiers' summed effective requests (whole CPUs or millicores), as published in the node's qos-distribution annotation.`));
}

function changesCard(g) {
  if (g === null) return null;
  const moves = mergeMoves(g.moves);
  return h('section', { class: 'card', 'aria-labelledby': 'ov-changes-title' },
    h('h2', { id: 'ov-changes-title' }, `What changed in generation ${g.number}`),
    moves.length === 0
      ? h('p', { class: 'muted' }, 'No pod changed tier: the layers were resized or the configuration changed. See Generations for the diff.')
      : h('ul', { class: 'moves', id: 'ov-moves' }, moves.slice(0, 12).map((m) => h('li', {}, moveLine(m))),
        moves.length > 12 ? h('li', { class: 'muted' }, `and ${moves.length - 12} more (Generations shows all)`) : null));
}

export function overviewView(panel) {
  return {
    update(state) {
      const g = state.current;
      fill(panel,
        h('h1', { class: 'sr-only' }, 'Overview'),
        misplacedCallout(state.status?.placement),
        h('div', { class: 'cards' }, stateCard(state.status, state.connection !== 'live'), generationCard(g), podsCard(state)),
        tiersCard(g, state.status),
        changesCard(g));
    },
  };
}
