// Code blocks: the config JSON with its tokens coloured, and a unified diff with added, removed
// and hunk lines marked. Both are built from text nodes (no markup from data).
import { h } from './dom.js';

// Strings (a key when a colon follows), numbers, literals; everything else is punctuation.
const JSON_TOKEN = /("(?:[^"\\]|\\.)*")(\s*:)?|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|\b(true|false|null)\b/g;

/** The config's exact bytes in a <pre>, with keys, strings, numbers and literals coloured. */
export function jsonBlock(text, label) {
  const code = h('code');
  let last = 0;
  for (const m of text.matchAll(JSON_TOKEN)) {
    if (m.index > last) code.append(text.slice(last, m.index));
    if (m[1] !== undefined) {
      code.append(h('span', { class: m[2] === undefined ? 'j-str' : 'j-key' }, m[1]));
      if (m[2] !== undefined) code.append(m[2]);
    } else if (m[3] !== undefined) {
      code.append(h('span', { class: 'j-num' }, m[3]));
    } else {
      code.append(h('span', { class: 'j-lit' }, m[4]));
    }
    last = m.index + m[0].length;
  }
  code.append(text.slice(last));
  return h('pre', { class: 'code', tabindex: '0', 'aria-label': label }, code);
}

/** A unified diff, one line per row, coloured by kind (the +/- sign stays for those who cannot see colour). */
export function unifiedDiffBlock(text, label) {
  const code = h('code');
  const lines = text.replace(/\n$/, '').split('\n');
  let inHunk = false; // `---`/`+++` are file names only before the first hunk
  for (const line of lines) {
    let kind = 'ctx';
    if (line.startsWith('@@')) { kind = 'hunk'; inHunk = true; }
    else if (!inHunk && (line.startsWith('+++') || line.startsWith('---'))) kind = 'file';
    else if (line.startsWith('+')) kind = 'add';
    else if (line.startsWith('-')) kind = 'del';
    code.append(h('span', { class: `d-line d-${kind}` }, line === '' ? ' ' : line), '\n');
  }
  return h('pre', { class: 'code diff', tabindex: '0', 'aria-label': label }, code);
}
