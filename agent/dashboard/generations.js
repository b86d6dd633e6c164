// Generations: the kept history (newest first) and a diff between any two of them: the tier
// moves, the layer-level changes and the highlighted unified diff of the config bytes.
import { unifiedDiffBlock } from './code.js';
import { fill, h } from './dom.js';
import { clock, mergeMoves, moveLine, movesSummary, plural, relativeTime, shortHash, tierBadge } from './format.js';

const MAX_VALUE = 90;
/** A field's JSON value, shortened for the table (the unified diff below has it whole). */
function valueCell(v) {
  const text = v === null ? '(absent)' : JSON.stringify(v);
  return h('code', { class: v === null ? 'muted' : null, title: text.length > MAX_VALUE ? text : null }, text.length > MAX_VALUE ? `${text.slice(0, MAX_VALUE - 1)}…` : text);
}

function movesPreview(moves) {
  const merged = mergeMoves(moves);
  if (merged.length === 0 || merged.length > 3) return h('span', { class: 'muted' }, movesSummary(moves));
  return h('ul', { class: 'moves compact' }, merged.map((m) => h('li', {}, moveLine(m))));
}

function diffResult(d) {
  const moves = mergeMoves(d.moves);
  if (d.layers.length === 0 && moves.length === 0 && d.text === '') {
    return h('p', { class: 'muted', id: 'diff-empty' }, `No changes: generations ${d.from} and ${d.to} have the same config.`);
  }
  return [
    h('p', { class: 'diff-summary', id: 'diff-summary' },
      `Generation ${d.from} → ${d.to}: ${plural(moves.length, 'pod')} changed tier, ${plural(d.layers.length, 'layer')} changed.`),
    h('div', { class: 'diff-grid' },
      h('section', { 'aria-labelledby': 'diff-moves-title' },
        h('h3', { id: 'diff-moves-title' }, 'Tier moves'),
        moves.length === 0 ? h('p', { class: 'muted' }, 'No pod changed tier.')
          : h('table', { class: 'data', id: 'diff-moves' },
            h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Pod'), h('th', { scope: 'col' }, 'From'), h('th', { scope: 'col' }, 'To'))),
            h('tbody', {}, moves.map((m) => h('tr', { dataset: { pod: `${m.namespace}/${m.name}` } },
              h('td', { class: 'pod-name' }, `${m.namespace}/${m.name}`, m.recreated ? h('span', { class: 'muted' }, ' (recreated)') : null),
              h('td', {}, tierBadge(m.from, 'not on node')),
              h('td', {}, tierBadge(m.to, 'gone'))))))),
      h('section', { 'aria-labelledby': 'diff-layers-title' },
        h('h3', { id: 'diff-layers-title' }, 'Layer changes'),
        d.layers.length === 0 ? h('p', { class: 'muted' }, 'No layer changed.')
          : h('ul', { class: 'layer-changes', id: 'diff-layers' }, d.layers.map((l) => h('li', { dataset: { layer: l.layer, change: l.change } },
            h('p', {}, h('span', { class: `layer-name layer-${l.layer}` }, l.layer), ' ', h('span', { class: `badge change-${l.change}` }, l.change)),
            l.fields.length === 0 ? null : h('table', { class: 'data fields' },
              h('thead', { class: 'sr-only' }, h('tr', {}, h('th', { scope: 'col' }, 'Field'), h('th', { scope: 'col' }, 'Before'), h('th', { scope: 'col' }, 'After'))),
              h('tbody', {}, l.fields.map((f) => h('tr', {},
                h('td', {}, h('code', {}, f.path)),
                h('td', { class: 'before' }, valueCell(f.before)),
                h('td', { class: 'after' }, valueCell(f.after))))))))))),
    h('section', { 'aria-labelledby': 'diff-text-title' },
      h('h3', { id: 'diff-text-title' }, 'Config diff'),
      unifiedDiffBlock(d.text, `unified diff of the config, generation ${d.from} to ${d.to}`)),
  ];
}

/** `ctx.getJson(path)` reads the API; `ctx.setRoute(arg)` records the pair in the address. */
export function generationsView(panel, ctx) {
  let generations = [];
  let currentNumber = null;
  let from = null;
  let to = null;
  let follow = true; // show the newest change until the user picks a pair
  let listKey = '';
  let shownPair = '';
  let request = 0;
  // A kept generation never changes, so neither does a diff between two. An agent restart numbers
  // from 1 again, so the key includes each generation's creation time.
  const cache = new Map();
  const cacheKey = (a, b) => {
    const at = (n) => generations.find((g) => g.number === n)?.createdAt ?? '?';
    return `${a}@${at(a)}..${b}@${at(b)}`;
  };

  const fromSelect = h('select', { id: 'diff-from' });
  const toSelect = h('select', { id: 'diff-to' });
  const history = h('tbody');
  const result = h('div', { class: 'diff-result', id: 'diff-result', 'aria-live': 'polite' });

  const pickLatest = () => {
    const n = generations.length;
    to = generations[n - 1]?.number ?? null;
    from = generations[n - 2]?.number ?? to;
  };

  function choose(a, b, byUser) {
    from = a;
    to = b;
    if (byUser) follow = false;
    syncPickers();
    if (byUser) ctx.setRoute(`${from}..${to}`);
    void loadDiff();
  }

  function syncPickers() {
    const options = (selected) => [...generations].reverse().map((g) =>
      h('option', { value: String(g.number), selected: g.number === selected }, `#${g.number} · ${clock(g.createdAt)} · ${shortHash(g.sha256)}${g.number === currentNumber ? ' (current)' : ''}`));
    fill(fromSelect, options(from));
    fill(toSelect, options(to));
    fromSelect.value = from === null ? '' : String(from);
    toSelect.value = to === null ? '' : String(to);
  }

  async function loadDiff() {
    if (from === null || to === null) {
      request++;
      shownPair = '';
      fill(result, h('p', { class: 'muted' }, 'No generation yet.'));
      return;
    }
    const key = cacheKey(from, to);
    if (key === shownPair) return;
    const mine = ++request;
    if (generations.length < 2 && from === to) {
      shownPair = key;
      fill(result, h('p', { class: 'muted' }, 'Only one generation so far: a diff needs two. Change a pod on the node and the next one appears here.'));
      return;
    }
    let d = cache.get(key);
    if (d === undefined) {
      result.setAttribute('aria-busy', 'true');
      try {
        d = await ctx.getJson(`diff?from=${from}&to=${to}`);
        cache.set(key, d);
      } catch (err) {
        if (mine === request) fill(result, h('p', { class: 'error' }, `Could not load the diff: ${err.message}`));
        return;
      } finally {
        result.removeAttribute('aria-busy');
      }
    }
    if (mine !== request) return; // a newer pair was chosen meanwhile
    shownPair = key;
    fill(result, diffResult(d));
  }

  function renderHistory() {
    fill(history, [...generations].reverse().map((g, i, newestFirst) => {
      const previous = newestFirst[i + 1];
      const compare = previous === undefined ? null
        : h('button', { type: 'button', class: 'button small', 'aria-label': `Diff generation ${previous.number} to ${g.number}`, on: { click: () => choose(previous.number, g.number, true) } }, 'Diff');
      return h('tr', { dataset: { generation: String(g.number) }, class: g.number === currentNumber ? 'current' : null },
        h('th', { scope: 'row' }, `#${g.number}`, g.number === currentNumber ? h('span', { class: 'badge badge-ok' }, 'current') : null),
        h('td', {}, clock(g.createdAt), h('br'), relativeTime(g.createdAt)),
        h('td', {}, h('code', { class: 'hash', title: g.sha256 }, shortHash(g.sha256))),
        h('td', {}, g.number === generations[0]?.number && g.moves.length > 0 && g.moves.every((m) => m.from === null)
          ? h('span', { class: 'muted' }, `${plural(g.moves.length, 'pod')} at the start`) : movesPreview(g.moves)),
        h('td', {}, compare));
    }));
  }

  fromSelect.addEventListener('change', () => choose(Number(fromSelect.value), to, true));
  toSelect.addEventListener('change', () => choose(from, Number(toSelect.value), true));
  const swap = h('button', { type: 'button', class: 'button', on: { click: () => choose(to, from, true) } }, 'Swap');
  const latest = h('button', { type: 'button', class: 'button', on: { click: () => { follow = true; pickLatest(); ctx.setRoute(null); choose(from, to, false); } } }, 'Latest change');

  fill(panel,
    h('h1', { class: 'sr-only' }, 'Generations'),
    h('section', { class: 'card', 'aria-labelledby': 'compare-title' },
      h('div', { class: 'card-head' },
        h('h2', { id: 'compare-title' }, 'Compare generations'),
        h('div', { class: 'toolbar inline' },
          h('label', { class: 'field' }, h('span', { class: 'field-label' }, 'From'), fromSelect),
          h('label', { class: 'field' }, h('span', { class: 'field-label' }, 'To'), toSelect),
          swap, latest)),
      result),
    h('section', { class: 'card table-card', 'aria-labelledby': 'history-title' },
      h('div', { class: 'card-head' },
        h('h2', { id: 'history-title' }, 'History'),
        h('p', { class: 'muted' }, 'A new generation exists only when the rendered config bytes change; the agent keeps the last 50.')),
      h('div', { class: 'scroll' },
        h('table', { class: 'data generations', id: 'generations-table' },
          h('caption', { class: 'sr-only' }, 'Kept config generations, newest first'),
          h('thead', {}, h('tr', {},
            h('th', { scope: 'col' }, 'Generation'),
            h('th', { scope: 'col' }, 'Created'),
            h('th', { scope: 'col' }, 'sha256'),
            h('th', { scope: 'col' }, 'What moved'),
            h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')))),
          history))));

  return {
    update(state) {
      generations = state.generations;
      currentNumber = state.current?.number ?? null;
      const key = `${currentNumber}:${generations.map((g) => g.number).join(',')}`;
      if (key === listKey) return;
      listKey = key;
      const kept = new Set(generations.map((g) => g.number));
      // A pair from the address waits for the first list; one no longer kept falls back.
      if (generations.length > 0 && (follow || !kept.has(from) || !kept.has(to))) pickLatest();
      renderHistory();
      syncPickers();
      void loadDiff();
    },
    /** `#generations/3..5` opens that pair. */
    show(arg) {
      const m = /^(\d+)\.\.(\d+)$/.exec(arg ?? '');
      if (m === null) return;
      follow = false;
      choose(Number(m[1]), Number(m[2]), false);
    },
  };
}
