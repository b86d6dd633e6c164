// Layers: the current scx_layered config as a table (one row per layer, in config order, which
// is the order scx_layered tries them) and the exact JSON the scheduler was started with.
/* global navigator */
import { jsonBlock } from './code.js';
import { fill, h } from './dom.js';
import { cpu, matchSummary, notEnforcedBadge, plural, shortHash } from './format.js';

/** The flags that are set, as chips; the cell's title lists all three either way. */
function flags(l) {
  const set = [['protected', l.protected], ['preempt', l.preempt], ['exclusive', l.exclusive]];
  const on = set.filter(([, v]) => v).map(([name]) => h('span', { class: 'flag' }, name));
  return h('td', { class: 'flags', title: set.map(([name, v]) => `${name}: ${v ? 'yes' : 'no'}`).join(', ') },
    on.length === 0 ? h('span', { class: 'muted' }, 'none') : on);
}

function layerRows(g, specs) {
  return g.layers.flatMap((l) => {
    const spec = specs.find((s) => s.name === l.name);
    const row = h('tr', { dataset: { layer: l.name } },
      h('th', { scope: 'row' }, h('span', { class: `layer-name layer-${l.name}` }, l.name)),
      h('td', {}, l.kind, l.demoted ? h('span', { class: 'badge badge-warn', title: 'Critical could not be fenced on whole cores' }, 'demoted from Confined') : null),
      h('td', { class: 'num' }, String(l.pods)),
      h('td', { class: 'num' }, cpu(l.requestMillis), h('span', { class: 'muted' }, ' / '), l.limitMillis === null ? h('span', { class: 'muted', title: 'some pod has no CPU limit' }, 'unlimited') : cpu(l.limitMillis)),
      h('td', { class: 'num' }, l.cpusRange === null ? h('span', { class: 'muted', title: 'Open layers have no allocation: they run on idle CPUs' }, 'open') : `${l.cpusRange.min}–${l.cpusRange.max}`),
      h('td', { class: 'num' }, l.utilRange === null ? h('span', { class: 'muted' }, '—') : `${Math.round(l.utilRange.low * 100)}–${Math.round(l.utilRange.high * 100)} %`),
      h('td', { class: 'num' }, String(l.weight)),
      h('td', { class: 'num' }, `${l.sliceUs / 1000} ms`),
      flags(l),
      h('td', { class: 'matches' }, matchSummary(l, spec)));
    if (l.notes.length === 0) return [row];
    row.classList.add('has-notes');
    return [row, h('tr', { class: 'notes-row', dataset: { notesFor: l.name } },
      h('td', { colspan: 10 }, h('ul', { class: 'notes' }, l.notes.map((n) => h('li', {}, n)))))];
  });
}

export function layersView(panel) {
  let shownKey = null;
  return {
    update(state) {
      const g = state.current;
      if (g === null) {
        shownKey = null;
        fill(panel, h('h1', { class: 'sr-only' }, 'Layers'), h('div', { class: 'card' }, h('p', { class: 'muted' }, 'No config yet.')));
        return;
      }
      const key = `${g.sha256}:${state.status?.state}`;
      if (key === shownKey) return; // same bytes and state: keep scroll position and selection
      shownKey = key;
      let specs = [];
      try {
        specs = JSON.parse(g.configJson);
      } catch { /* the table still shows the plan; the summary falls back to counts */ }
      const copy = h('button', { type: 'button', class: 'button small' }, 'Copy JSON');
      copy.addEventListener('click', async () => {
        try {
          await navigator.clipboard.writeText(g.configJson);
          copy.textContent = 'Copied';
        } catch {
          copy.textContent = 'Select the text to copy';
        }
      });
      fill(panel,
        h('h1', { class: 'sr-only' }, 'Layers'),
        h('section', { class: 'card table-card', 'aria-labelledby': 'layers-title' },
          h('div', { class: 'card-head' },
            h('h2', { id: 'layers-title' }, `Layers of generation ${g.number}`, notEnforcedBadge(state.status)),
            h('p', { class: 'muted' }, `${plural(g.layers.length, 'layer')} in the order scx_layered tries them; the first match wins.`)),
          h('div', { class: 'scroll' },
            h('table', { class: 'data layers', id: 'layers-table' },
              h('caption', { class: 'sr-only' }, 'scx_layered layers of the current generation'),
              h('thead', {}, h('tr', {},
                h('th', { scope: 'col' }, 'Layer'),
                h('th', { scope: 'col' }, 'Kind'),
                h('th', { scope: 'col', class: 'num' }, 'Pods'),
                h('th', { scope: 'col', class: 'num', title: 'summed CPU requests / limits' }, 'Req / limit'),
                h('th', { scope: 'col', class: 'num', title: 'cpus_range: CPUs allocated, min–max' }, 'CPUs'),
                h('th', { scope: 'col', class: 'num', title: 'util_range: grow above the high mark, shrink below the low' }, 'Utilisation'),
                h('th', { scope: 'col', class: 'num' }, 'Weight'),
                h('th', { scope: 'col', class: 'num' }, 'Slice'),
                h('th', { scope: 'col' }, 'Flags'),
                h('th', { scope: 'col' }, 'Matches'))),
              h('tbody', {}, layerRows(g, specs))))),
        h('section', { class: 'card', 'aria-labelledby': 'config-title' },
          h('div', { class: 'card-head' },
            h('h2', { id: 'config-title' }, 'scx_layered config'),
            h('p', { class: 'muted' }, 'sha256 ', h('code', { class: 'hash', title: g.sha256 }, shortHash(g.sha256)), ` · ${g.configJson.length.toLocaleString('en-US')} bytes · the exact file scx_layered was started with`),
            copy),
          jsonBlock(g.configJson, `scx_layered config JSON, generation ${g.number}`)));
    },
  };
}
