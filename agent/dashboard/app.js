// The Temper dashboard: reads the agent's JSON API (/api/v1, same origin), stays current through
// its server-sent events and renders four views. URLs are relative so the page also works
// behind `kubectl temper dashboard` or any proxy that mounts the agent under a path.
/* global document, window, location, history, EventSource */
import { fill, h } from './dom.js';
import { STATE_MEANING, ago, clock, misplacedTotal, plural } from './format.js';
import { generationsView } from './generations.js';
import { layersView } from './layers.js';
import { overviewView } from './overview.js';
import { podsView } from './pods.js';

/** The agent answered with an error (`{ "error": … }`) or not at all. */
class ApiError extends Error {}

/** GETs `api/v1/<path>`; the agent's one-line error becomes the message. */
export async function getJson(path) {
  const res = await fetch(`api/v1/${path}`, { headers: { accept: 'application/json' }, cache: 'no-store' });
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(typeof body?.error === 'string' ? body.error : `GET api/v1/${path}: HTTP ${res.status}`);
  return body;
}

const state = {
  /** /api/v1/status */
  status: null,
  /** /api/v1/config: the current generation, null before the first. */
  current: null,
  /** /api/v1/pods: every pod on the node now. */
  pods: [],
  /** /api/v1/generations: kept summaries, oldest first. */
  generations: [],
  /** 'connecting' | 'live' | 'reconnecting' */
  connection: 'connecting',
  /** When the event stream was lost (ISO), null while live. */
  lostAt: null,
  /** The last failed load, shown until the next one succeeds. */
  error: null,
};

const $ = (id) => document.getElementById(id);
const views = {
  overview: overviewView($('panel-overview')),
  pods: podsView($('panel-pods')),
  layers: layersView($('panel-layers')),
  generations: generationsView($('panel-generations'), { getJson, setRoute: (arg) => setRoute('generations', arg) }),
};
const TABS = Object.keys(views);

// ---- header, alert banner, tab counts --------------------------------------------------------

function renderChrome() {
  const s = state.status;
  const stale = state.connection !== 'live';
  $('node-name').textContent = s?.node ?? '…';
  const pill = $('state-pill');
  pill.className = `state-pill state-${s?.state ?? 'unknown'}${stale && s !== null ? ' stale' : ''}`;
  pill.querySelector('.state-word').textContent = s?.state ?? 'connecting';
  pill.title = s === null ? '' : `${STATE_MEANING[s.state] ?? ''} ${s.message}`.trim();
  document.title = s === null ? 'Temper' : `${s.state} · ${s.node} · Temper`;

  const conn = $('connection');
  conn.className = `connection conn-${state.connection}`;
  fill(conn,
    h('span', { class: 'dot', 'aria-hidden': 'true' }),
    state.connection === 'live' ? 'live' : state.connection === 'connecting' ? 'connecting…' : `reconnecting… (since ${clock(state.lostAt)})`);

  const alert = $('alert');
  const problems = [];
  if (state.connection === 'reconnecting') {
    problems.push(h('p', {}, h('strong', {}, 'Lost the connection to the agent'), ` at ${clock(state.lostAt)}; reconnecting. What you see may be out of date.`));
  }
  if (state.error !== null) problems.push(h('p', {}, h('strong', {}, 'Could not load: '), state.error));
  // The overview's state card already says this in full; every other view gets the banner.
  const onOverview = parseRoute().tab === 'overview';
  if (s !== null && s.state !== 'enforcing' && !onOverview) {
    problems.push(h('p', {}, h('strong', {}, `${s.state}: `), STATE_MEANING[s.state] ?? '', s.message === '' ? '' : ` Agent: ${s.message}`));
  } else if (s !== null && /(config|profiles) rejected/.test(s.message) && !onOverview) {
    problems.push(h('p', {}, h('strong', {}, 'Configuration rejected: '), s.message));
  }
  const misplaced = misplacedTotal(s?.placement);
  if (misplaced > 0 && !onOverview) {
    problems.push(h('p', {}, h('strong', {}, `${plural(misplaced, 'thread')} misplaced: `), 'threads of hinted pods without their tier\'s task hint (the overview lists the tiers).'));
  }
  alert.hidden = problems.length === 0;
  alert.className = `alert alert-${s?.state ?? 'unknown'}`;
  fill(alert, problems);

  $('pods-count').textContent = state.status?.generation === null ? '' : String(state.pods.length);
  $('layers-count').textContent = state.current === null ? '' : String(state.current.layers.length);
  $('generations-count').textContent = state.generations.length === 0 ? '' : String(state.generations.length);
}

function render() {
  renderChrome();
  for (const view of Object.values(views)) view.update(state);
}

// ---- loading ------------------------------------------------------------------------------------

/** Status first: before the first generation there is no config or pod list to ask for. */
async function loadAll(full) {
  const status = await getJson('status');
  if (status.generation === null) {
    Object.assign(state, { status, current: null, pods: [], generations: [] });
    return;
  }
  // A restarted agent numbers from 1 again: the hash tells generations apart.
  const newGeneration = full || state.current?.number !== status.generation || state.current?.sha256 !== status.sha256;
  const [current, pods, generations] = await Promise.all([
    newGeneration ? getJson('config') : state.current,
    getJson('pods'),
    newGeneration ? getJson('generations') : state.generations,
  ]);
  // The config may be newer than the status read just before it; show the newest of both.
  const fresh = current.number > status.generation
    ? { ...status, generation: current.number, sha256: current.sha256 } : status;
  Object.assign(state, { status: fresh, current, pods, generations });
}

let loading = null;
let again = false;
let againFull = false;
/**
 * Coalesces refreshes: one load at a time, and one more after it if asked for meanwhile. `full`
 * reloads everything (after a reconnect), else the config and history only when they changed.
 */
function refresh(full = false) {
  againFull ||= full;
  if (loading !== null) {
    again = true;
    return;
  }
  loading = (async () => {
    do {
      again = false;
      const everything = againFull;
      againFull = false;
      try {
        await loadAll(everything);
        state.error = null;
      } catch (err) {
        state.error = err instanceof Error ? err.message : String(err);
      }
      render();
    } while (again);
    loading = null;
  })();
}

// ---- live updates -------------------------------------------------------------------------------

let retryMs = 1000;
function connectEvents() {
  const events = new EventSource('api/v1/events');
  events.addEventListener('open', () => {
    retryMs = 1000;
    state.connection = 'live';
    state.lostAt = null;
    refresh(true); // anything missed while disconnected, or a restarted agent
  });
  events.addEventListener('status', (e) => {
    state.status = JSON.parse(e.data);
    renderChrome();
    refresh(); // a reconcile ran: pods may have changed even without a new generation
  });
  events.addEventListener('generation', () => refresh());
  events.addEventListener('error', () => {
    if (state.connection === 'live') {
      state.connection = 'reconnecting';
      state.lostAt = new Date().toISOString();
      render(); // every view marks what it shows as possibly out of date
    }
    // The browser retries by itself unless the stream was refused (then readyState is CLOSED).
    if (events.readyState === EventSource.CLOSED) {
      events.close();
      setTimeout(connectEvents, retryMs);
      retryMs = Math.min(retryMs * 2, 30_000);
    }
  });
}

// ---- tabs and routes (#pods, #generations/3..5) -----------------------------------------------

function parseRoute() {
  const [tab, ...rest] = location.hash.replace(/^#/, '').split('/');
  return { tab: TABS.includes(tab) ? tab : 'overview', arg: rest.length === 0 ? null : rest.join('/') };
}

function showTab(tab, arg) {
  for (const name of TABS) {
    const selected = name === tab;
    const button = $(`tab-${name}`);
    button.setAttribute('aria-selected', String(selected));
    button.tabIndex = selected ? 0 : -1;
    $(`panel-${name}`).hidden = !selected;
  }
  views[tab].show?.(arg, state);
  renderChrome();
}

/** Changes the address without a history entry (view-internal state such as the diff's pair). */
function setRoute(tab, arg) {
  history.replaceState(null, '', `#${tab}${arg === null ? '' : `/${arg}`}`);
}

window.addEventListener('hashchange', () => {
  const { tab, arg } = parseRoute();
  showTab(tab, arg);
});

const tablist = $('tablist');
tablist.addEventListener('click', (e) => {
  const button = e.target.closest('[role="tab"]');
  if (button === null) return;
  const tab = button.id.replace(/^tab-/, '');
  if (parseRoute().tab !== tab) location.hash = tab;
});
tablist.addEventListener('keydown', (e) => {
  const i = TABS.indexOf(parseRoute().tab);
  const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: TABS.length - 1 }[e.key];
  if (next === undefined) return;
  e.preventDefault();
  const tab = TABS[(next + TABS.length) % TABS.length];
  location.hash = tab;
  $(`tab-${tab}`).focus();
});

// Relative times ("3 min ago") stay true without re-rendering anything else.
setInterval(() => {
  for (const t of document.querySelectorAll('time[data-relative]')) t.textContent = ago(t.dateTime);
}, 10_000);

const initial = parseRoute();
showTab(initial.tab, initial.arg);
render();
connectEvents();
refresh();
