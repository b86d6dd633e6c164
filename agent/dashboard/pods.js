// Pods: every pod on the node with its tier and why; filter by text and tier, sort by any column.
// A pod with a workload profile gets a second row: the profile, why it applies, and each thread
// group with where it runs (or why it cannot) and the threads the agent last saw in it.
import { fill, h } from './dom.js';
import { TIER_ORDER, tierBadge, tierRank } from './format.js';

// Each column: its header, how it sorts (text by default) and its cell.
const COLUMNS = [
  { key: 'namespace', label: 'Namespace', cell: (r) => h('td', {}, r.namespace) },
  { key: 'name', label: 'Name', cell: (r) => h('td', { class: 'pod-name' }, r.name) },
  { key: 'tier', label: 'Tier', compare: (a, b) => tierRank(a.tier) - tierRank(b.tier), cell: (r) => h('td', {}, tierBadge(r.tier)) },
  { key: 'layer', label: 'Layer', cell: (r) => h('td', {}, r.layer) },
  { key: 'priority', label: 'Priority', numeric: true, compare: (a, b) => a.priority - b.priority, cell: (r) => h('td', { class: 'num' }, r.priority.toLocaleString('en-US')) },
  { key: 'qosClass', label: 'QoS class', cell: (r) => h('td', {}, r.qosClass) },
  { key: 'reason', label: 'Reason', cell: (r) => h('td', { class: 'reason' }, r.reason) },
];
/** Hints placement: the task hint the agent writes for the pod's threads; none when the static QoS match places it. */
const HINT = {
  key: 'hint', label: 'Hint', numeric: true, compare: (a, b) => (a.hint ?? -1) - (b.hint ?? -1),
  cell: (r) => h('td', { class: 'num', dataset: { col: 'hint' } }, (r.hint ?? null) === null ? h('span', { class: 'muted', title: 'no hint: the static QoS match places it' }, '—') : String(r.hint)),
};
// beside the QoS class, whose static match places the pods without a hint
const WITH_HINT = [...COLUMNS.slice(0, -1), HINT, ...COLUMNS.slice(-1)];

const STATUS_WORDS = { applied: 'applied', partial: 'partial', degraded: 'stays in the tier' };

/** One group's threads as `tid comm`, or why there are none to show. */
function threadList(threads) {
  if (threads === null) return h('span', { class: 'muted', title: 'the agent has not read this pod\'s threads' }, 'not read');
  if (threads.length === 0) return h('span', { class: 'muted' }, 'none seen');
  return h('ul', { class: 'threads' }, threads.map((t) => h('li', { dataset: { tid: String(t.tid) } }, h('span', { class: 'tid' }, String(t.tid)), ' ', h('code', {}, t.comm))));
}

/** The profile row under a profiled pod's row. */
function profileRow(r, span) {
  const p = r.profile;
  return h('tr', { class: 'profile-row', dataset: { profileOf: `${r.namespace}/${r.name}`, profile: p.name } },
    h('td', { colspan: span },
      h('div', { class: 'profile-head' },
        h('span', { class: 'card-label' }, 'Workload profile'), ' ', h('strong', { class: 'profile-name' }, p.name),
        h('span', { class: 'muted profile-reason' }, ` (${p.by}) ${p.reason}`)),
      h('table', { class: 'data groups' },
        h('thead', {}, h('tr', {}, ['Group', 'Treatment', 'Layer', 'Status', 'Hint', 'Threads'].map((l) => h('th', { scope: 'col' }, l)))),
        h('tbody', {}, p.groups.map((g) => h('tr', { dataset: { group: g.group, status: g.status } },
          h('th', { scope: 'row' }, g.group),
          h('td', {}, g.treatment),
          // a profile layer wears its tier's colour (`critical-latency`); yield's is Background's
          h('td', { dataset: { col: 'layer' } }, h('span', { class: ['layer-name', `layer-${g.layer.split('-')[0]}`] }, g.layer)),
          h('td', { dataset: { col: 'status' } },
            h('span', { class: ['badge', g.status === 'applied' ? 'badge-ok' : 'badge-warn'] }, STATUS_WORDS[g.status] ?? g.status),
            g.code === null ? null : h('code', { class: 'group-code' }, g.code),
            h('div', { class: 'muted small' }, g.reason)),
          h('td', { class: 'num', dataset: { col: 'hint' } }, g.hint === null ? h('span', { class: 'muted' }, '—') : String(g.hint)),
          h('td', { dataset: { col: 'threads' } }, threadList(g.threads))))))));
}

const byText = (key) => (a, b) => a[key].localeCompare(b[key]);
// Ties fall back to tier, namespace, name: the order `kubectl temper tiers` uses.
const fallback = (a, b) => tierRank(a.tier) - tierRank(b.tier) || a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name);

export function podsView(panel) {
  let rows = [];
  let sort = { key: 'tier', dir: 1 };
  let columns = COLUMNS;

  const search = h('input', {
    type: 'search', id: 'pods-filter', placeholder: 'Filter: namespace, name, tier, layer, reason, profile…',
    autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'pods-shown',
  });
  const tierSelect = h('select', { id: 'pods-tier' },
    h('option', { value: '' }, 'All tiers'),
    TIER_ORDER.map((t) => h('option', { value: t }, t)));
  const shown = h('p', { class: 'muted', id: 'pods-shown', role: 'status', 'aria-live': 'polite' });
  const headRow = h('tr');
  const tbody = h('tbody');
  const table = h('table', { class: 'data pods', id: 'pods-table' },
    h('caption', { class: 'sr-only' }, 'Pods on the node; column headers sort'),
    h('thead', {}, headRow), tbody);

  function renderHead() {
    fill(headRow, columns.map((c) => {
      const active = sort.key === c.key;
      const ariaSort = active ? (sort.dir === 1 ? 'ascending' : 'descending') : 'none';
      return h('th', { scope: 'col', 'aria-sort': ariaSort, class: c.numeric ? 'num' : null },
        h('button', { type: 'button', class: 'sort', dataset: { key: c.key }, on: { click: () => setSort(c.key) } },
          c.label, h('span', { class: 'sort-mark', 'aria-hidden': 'true' }, active ? (sort.dir === 1 ? '▲' : '▼') : '↕')));
    }));
  }

  function setSort(key) {
    sort = sort.key === key ? { key, dir: -sort.dir } : { key, dir: 1 };
    renderHead();
    renderBody();
  }

  function renderBody() {
    const words = search.value.toLowerCase().split(/\s+/).filter((w) => w !== '');
    const tier = tierSelect.value;
    const column = columns.find((c) => c.key === sort.key);
    const compare = column.compare ?? byText(column.key);
    const visible = rows
      .filter((r) => tier === '' || r.tier === tier)
      .filter((r) => {
        const text = `${r.namespace} ${r.name} ${r.namespace}/${r.name} ${r.tier} ${r.layer} ${r.priority} ${r.qosClass} ${r.reason} ${r.profile?.name ?? ''}`.toLowerCase();
        return words.every((w) => text.includes(w));
      })
      .sort((a, b) => sort.dir * compare(a, b) || fallback(a, b));
    fill(tbody, visible.length === 0
      ? h('tr', {}, h('td', { colspan: columns.length, class: 'muted empty-row' }, rows.length === 0 ? 'No pods on this node yet.' : 'No pod matches the filter.'))
      : visible.map((r) => [
        h('tr', { class: (r.profile ?? null) === null ? null : 'has-profile', dataset: { pod: `${r.namespace}/${r.name}`, tier: r.tier } }, columns.map((c) => c.cell(r))),
        (r.profile ?? null) === null ? null : profileRow(r, columns.length),
      ]));
    shown.textContent = visible.length === rows.length ? `${rows.length} pods` : `${visible.length} of ${rows.length} pods`;
  }

  search.addEventListener('input', renderBody);
  tierSelect.addEventListener('change', renderBody);
  // "/" focuses the filter, as in most tools with a search box.
  panel.ownerDocument.addEventListener('keydown', (e) => {
    if (e.key === '/' && !panel.hidden && !['INPUT', 'SELECT', 'TEXTAREA'].includes(e.target.tagName)) {
      e.preventDefault();
      search.focus();
    }
  });

  fill(panel,
    h('h1', { class: 'sr-only' }, 'Pods'),
    h('div', { class: 'toolbar' },
      h('label', { class: 'field grow' }, h('span', { class: 'field-label' }, 'Filter pods'), search),
      h('label', { class: 'field' }, h('span', { class: 'field-label' }, 'Tier'), tierSelect),
      shown),
    h('div', { class: 'card table-card' }, h('div', { class: 'scroll' }, table)));
  renderHead();
  renderBody();

  return {
    update(state) {
      rows = state.pods;
      const next = state.status?.placement === undefined ? COLUMNS : WITH_HINT;
      if (next !== columns) {
        columns = next;
        if (!columns.some((c) => c.key === sort.key)) sort = { key: 'tier', dir: 1 };
        renderHead();
      }
      renderBody();
    },
  };
}
