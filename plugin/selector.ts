/**
 * kubectl's label selectors (`-l app=web,tier!=low,env in (prod,stage),!legacy`) for offline
 * input; live commands pass the text to the API server, which applies the same grammar.
 */

/** One requirement of a selector. */
type Requirement =
  | { readonly op: 'eq' | 'ne'; readonly key: string; readonly value: string }
  | { readonly op: 'in' | 'notin'; readonly key: string; readonly values: readonly string[] }
  | { readonly op: 'exists' | 'absent'; readonly key: string };

/** A selector that cannot be parsed; the message names the requirement. */
export class SelectorError extends Error {
  override name = 'SelectorError';
}

// A label key: an optional DNS-subdomain prefix and a name; values are names or empty.
const KEY = String.raw`(?:[a-z0-9](?:[-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?`;
const VALUE = String.raw`(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)?`;
const SET_RE = new RegExp(String.raw`^(${KEY})\s+(in|notin)\s+\(([^)]*)\)$`);
const EQ_RE = new RegExp(String.raw`^(${KEY})\s*(==|=|!=)\s*(${VALUE})$`);
const EXISTS_RE = new RegExp(String.raw`^(!?)\s*(${KEY})$`);
const VALUE_RE = new RegExp(`^${VALUE}$`);

/** Splits on commas outside parentheses. */
function requirementsOf(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(current.trim());
      current = '';
    } else current += ch;
  }
  out.push(current.trim());
  return out;
}

function parseRequirement(text: string): Requirement {
  const set = SET_RE.exec(text);
  if (set !== null) {
    const values = (set[3] ?? '').split(',').map((v) => v.trim());
    if (values.some((v) => !VALUE_RE.test(v))) throw new SelectorError(`invalid label selector requirement "${text}": bad value in the set`);
    return { op: set[2] === 'in' ? 'in' : 'notin', key: set[1] ?? '', values };
  }
  const eq = EQ_RE.exec(text);
  if (eq !== null) return { op: eq[2] === '!=' ? 'ne' : 'eq', key: eq[1] ?? '', value: eq[3] ?? '' };
  const exists = EXISTS_RE.exec(text);
  if (exists !== null) return { op: exists[1] === '!' ? 'absent' : 'exists', key: exists[2] ?? '' };
  throw new SelectorError(`invalid label selector requirement "${text}" (use e.g. app=web, tier!=low, 'env in (a,b)', !legacy)`);
}

/** A parsed selector: a predicate on a label map. An empty selector matches everything. */
export function parseSelector(text: string): (labels: Readonly<Record<string, string>>) => boolean {
  const reqs = text.trim() === '' ? [] : requirementsOf(text).map(parseRequirement);
  return (labels) => reqs.every((r) => {
    const has = Object.hasOwn(labels, r.key);
    const v = labels[r.key];
    switch (r.op) {
      case 'eq': return v === r.value;
      case 'ne': return v !== r.value;
      case 'in': return has && r.values.includes(v ?? '');
      case 'notin': return !has || !r.values.includes(v ?? '');
      case 'exists': return has;
      case 'absent': return !has;
    }
  });
}
