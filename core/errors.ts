/**
 * Errors are values with context: each problem is structured (where, which key, the bad value,
 * what is wrong) and rendered as one line only at the edge; the error underneath is kept as
 * `cause`, never flattened into a string.
 */

/** One thing wrong with an input. */
export interface Problem {
  /** The input it is in, outermost first: a file, a document, a list item, an object (`pods.yaml`, `document 2`, `items[3]`). */
  readonly at: readonly string[];
  /** The key or field inside it, dotted (`spec.containers[0].resources.limits.cpu`); '' for the input as a whole. */
  readonly path: string;
  /** What is wrong, in words (`must be a 32-bit integer`). */
  readonly message: string;
  /** The offending value, when there is one to show: rendered as `(got …)` after the message. */
  readonly value?: unknown;
  /** The error underneath, when one caused this (a TOML parse error, a file read error). */
  readonly cause?: unknown;
}

/** Whether the problem carries a value (it may be `undefined` or `null` itself). */
function hasValue(p: Problem): boolean {
  return Object.hasOwn(p, 'value');
}

/** One line: `<at>: <path>: <message> (got <value>)`, the parts that exist joined by `: `. */
export function formatProblem(p: Problem): string {
  const parts = [...p.at, ...(p.path === '' ? [] : [p.path])];
  const got = hasValue(p) ? ` (got ${show(p.value)})` : '';
  return [...parts, `${p.message}${got}`].join(': ');
}

/** Where an input is: one location (`pod shop/web`) or a chain, outermost first (`pods.yaml`, `items[2]`). */
export type Where = string | readonly string[];

const locations = (where: Where): readonly string[] => (typeof where === 'string' ? [where] : where);

/** The same problems, inside `where` (prepended to each one's `at`). */
export function within(where: Where, problems: readonly Problem[]): Problem[] {
  return problems.map((p) => ({ ...p, at: [...locations(where), ...p.at] }));
}

/** A problem about an input as a whole: `where: message`. */
export function problemAt(where: Where, message: string, cause?: unknown): Problem {
  const at = locations(where);
  return cause === undefined ? { at, path: '', message } : { at, path: '', message, cause };
}

/** An error that carries every problem found; its message is their lines. */
export class ProblemsError extends Error {
  readonly problems: readonly Problem[];
  constructor(problems: readonly Problem[], options?: ErrorOptions) {
    const firstCause = problems.find((p) => p.cause !== undefined)?.cause;
    super(problems.map(formatProblem).join('\n'), options ?? (firstCause === undefined ? undefined : { cause: firstCause }));
    this.problems = problems;
  }

  /** Each problem as one line, for a terminal or a log. */
  get lines(): string[] {
    return this.problems.map(formatProblem);
  }
}

/** A Kubernetes object or manifest Temper cannot use. */
export class InputError extends ProblemsError {
  override name = 'InputError';
}

/** An invalid Temper configuration; each problem names its key. */
export class ConfigError extends ProblemsError {
  override name = 'ConfigError';
}

/**
 * A pod whose priority cannot be known: it names a PriorityClass that is nowhere to be found
 * and carries no `spec.priority` (a manifest not yet admitted).
 */
export class UnresolvedPriorityError extends InputError {
  override name = 'UnresolvedPriorityError';
}

/** Collects problems under one input so the whole input can be reported at once. */
export class Problems {
  readonly list: Problem[] = [];

  /** Records a problem at `path`; pass `value` (even `undefined`) to show the offending value. */
  add(path: string, message: string, ...value: [unknown?]): void {
    this.list.push(value.length === 0 ? { at: [], path, message } : { at: [], path, message, value: value[0] });
  }

  get empty(): boolean {
    return this.list.length === 0;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Renders a value for an error message, bounded so a huge input cannot flood the terminal. */
export function show(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
