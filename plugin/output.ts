/** kubectl-style output of tier assignments: tables for people, JSON/YAML for scripts. */
import Table from 'cli-table3';
import { stringify } from 'yaml';
import type { TierRow } from '../core/plan.ts';

export const OUTPUT_FORMATS = ['table', 'wide', 'json', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** A borderless, left-aligned table like kubectl's. */
function plainTable(head: string[], rows: string[][]): string {
  const table = new Table({
    head,
    chars: {
      top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '',
      'bottom-right': '', left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '   ',
    },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
  });
  table.push(...rows);
  return `${table.toString().split('\n').map((l) => l.trimEnd()).join('\n')}\n`;
}

/** Renders tier rows in the requested format; `showNamespace` mirrors kubectl's -A column. */
export function formatTierRows(rows: readonly TierRow[], format: OutputFormat, showNamespace: boolean): string {
  if (format === 'json') return `${JSON.stringify(rows, null, 2)}\n`;
  if (format === 'yaml') return stringify(rows);
  if (rows.length === 0) return 'No pods found.\n';
  const wide = format === 'wide';
  const head = [...(showNamespace ? ['NAMESPACE'] : []), 'NAME', 'TIER', 'LAYER', 'PRIORITY', 'QOS', ...(wide ? ['UID', 'REASON'] : [])];
  const body = rows.map((r) => [
    ...(showNamespace ? [r.namespace] : []), r.name, r.tier, r.layer, String(r.priority), r.qosClass,
    ...(wide ? [r.uid, r.reason] : []),
  ]);
  return plainTable(head, body);
}
