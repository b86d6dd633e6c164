/**
 * Command-line flags for the long-running programs (agent, webhook): node:util's parseArgs with
 * a help line per flag, `--help` printing usage, and a bad flag one line and exit 2, never a stack trace.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { ParseArgsOptionDescriptor } from 'node:util';
import type { Policy } from '../core/config.ts';
import { defaultPolicy, parsePolicy } from '../core/config.ts';
import { ConfigError } from '../core/errors.ts';

/** One flag: parseArgs' descriptor plus its help text and, for strings, a placeholder. */
export type Flag = ParseArgsOptionDescriptor & { readonly help: string; readonly arg?: string };

/** Usage text: the summary, then one line per flag with its default. */
export function usageOf(program: string, summary: string, flags: Readonly<Record<string, Flag>>): string {
  const lines = Object.entries(flags).map(([name, f]) => {
    const left = `  --${name}${f.type === 'string' ? ` <${f.arg ?? 'value'}>` : ''}`;
    const dflt = f.default === undefined || (Array.isArray(f.default) && f.default.length === 0) || f.default === false ? '' : ` (default: ${String(f.default)})`;
    return `${left.padEnd(34)} ${f.help}${f.multiple === true ? ' (repeatable)' : ''}${dflt}`;
  });
  return `Usage: ${program} [flags]\n\n${summary}\n\nFlags:\n${lines.join('\n')}\n  ${'--help'.padEnd(32)} print this help and exit\n`;
}

/**
 * Parses `argv` against `flags`: `--help` prints usage and exits 0; an unknown flag, a missing
 * value or a stray argument prints one line naming it and exits 2.
 */
export function programArgs<const T extends Record<string, Flag>>(program: string, summary: string, flags: T, argv: readonly string[] = process.argv.slice(2)) {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(usageOf(program, summary, flags));
    process.exit(0);
  }
  try {
    return parseArgs({ args: [...argv], options: flags, strict: true, allowPositionals: false }).values;
  } catch (err) {
    process.stderr.write(`${program}: ${(err as Error).message.split('\n')[0] ?? ''}; see ${program} --help\n`);
    process.exit(2);
  }
}

/**
 * The policy named by a program's `--config` flag (the defaults without one). An unreadable or
 * invalid file is reported through `fail` as one message listing every problem, never a stack trace.
 */
export function policyFromFlag(path: string | undefined, fail: (message: string) => never): Policy {
  if (path === undefined) return defaultPolicy();
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    fail(`cannot read config ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    return parsePolicy(text, path);
  } catch (err) {
    if (err instanceof ConfigError) fail(`invalid config:\n  ${err.lines.join('\n  ')}`);
    throw err;
  }
}
