// Building DOM from data without innerHTML: every value from the agent goes in as text, so a
// pod name or a reason can never become markup (and the CSP forbids inline script anyway).
/* global document, Node */

/**
 * h('td', { class: 'num', title: '…' }, 'text', node, [more]) — attributes: `class`, `dataset`
 * (object), `on` (event → listener), booleans (true sets, false omits), anything else as an
 * attribute; children: strings, numbers, nodes, arrays, null/undefined/false (skipped).
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') el.className = Array.isArray(value) ? value.filter(Boolean).join(' ') : value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'on') for (const [event, listener] of Object.entries(value)) el.addEventListener(event, listener);
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

/** Replaces everything inside `el` with `children`. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A text node for screen readers only (visual context is given by layout or colour). */
export const srOnly = (text) => h('span', { class: 'sr-only' }, text);
