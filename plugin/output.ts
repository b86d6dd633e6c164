/** kubectl-style output of tier assignments: tables for people, JSON/YAML for scripts. */
import Table from 'cli-table3';
import { stringify } from 'yaml';
import type { TierRow } from '../core/plan.ts';

export const OUTPUT_FORMATS = ['table', 'wide', 'json', 'yaml', 'name'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** A borderless, left-aligned table like kubectl's. */
export function plainTable(head: string[], rows: string[][]): string {
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

/** How rows are shown, beyond the format. */
export interface TierRowsView {
  /** Mirror kubectl's -A column. */
  readonly showNamespace: boolean;
  /** Omit the table header (kubectl's --no-headers). */
  readonly noHeaders?: boolean;
  /**
   * Each row's resource, `pod/NAME` or `deployment.apps/NAME`, parallel to the rows: `-o name`
   * prints it, and the table's NAME column does when rows of more than one kind are listed.
   */
  readonly resources?: readonly string[];
  /** Each row's workload profile (`redis`, `-`, `?`), parallel to the rows: `-o wide` shows it. */
  readonly profiles?: readonly string[];
}

/** Renders tier rows in the requested format. */
export function formatTierRows(rows: readonly TierRow[], format: OutputFormat, view: TierRowsView): string {
  if (format === 'json') return `${JSON.stringify(rows, null, 2)}\n`;
  if (format === 'yaml') return stringify(rows);
  const resources = view.resources ?? rows.map((r) => `pod/${r.name}`);
  if (format === 'name') return resources.map((r) => `${r}\n`).join('');
  if (rows.length === 0) return 'No pods found.\n';
  const kinds = new Set(resources.map((r) => r.split('/')[0]));
  const names = kinds.size > 1 ? resources : rows.map((r) => r.name);
  const wide = format === 'wide';
  const { showNamespace } = view;
  // HINT `-`: the config's own matches place the pod (an agent older than the field sends none).
  const head = [...(showNamespace ? ['NAMESPACE'] : []), 'NAME', 'TIER', 'LAYER', 'PRIORITY', 'QOS', ...(wide ? ['HINT', 'PROFILE', 'UID', 'REASON'] : [])];
  const body = rows.map((r, i) => [
    ...(showNamespace ? [r.namespace] : []), names[i] ?? r.name, r.tier, r.layer, String(r.priority), r.qosClass,
    ...(wide ? [r.hint === undefined || r.hint === null ? '-' : String(r.hint), view.profiles?.[i] ?? '-', r.uid, r.reason] : []),
  ]);
  const table = plainTable(head, body);
  return view.noHeaders === true ? table.slice(table.indexOf('\n') + 1) : table;
}
