/** Errors are values with context: each names the input and the exact problem. */

/** An error that carries every problem found, each a complete sentence naming its location. */
export class ProblemsError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(problems.join('\n'));
    this.problems = problems;
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

/** Collects problems under a location prefix so a whole input can be reported at once. */
export class Problems {
  readonly list: string[] = [];
  add(path: string, message: string): void {
    this.list.push(path === '' ? message : `${path}: ${message}`);
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
