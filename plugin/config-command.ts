/**
 * `kubectl temper config`: what the node agent enforces, read from the agent's HTTP API
 * (agent/api.ts) through the agent client (plugin/agent-client.ts).
 */
import { InvalidArgumentError, Option } from 'commander';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import type { LayerChange, TierMove } from '../core/diff.ts';
import type { AgentLocator } from './agent-client.ts';
import { AgentApiError, connectAgent, getJson } from './agent-client.ts';
import { parseTimeout } from './live.ts';
import type { CliIo } from './options.ts';
import { agentLocatorOptions } from './options.ts';

interface ConfigOptions extends AgentLocator {
  generation?: number;
  diff?: GenerationRange;
  output?: 'json' | 'yaml';
}

interface GenerationRange {
  readonly from: number;
  readonly to: number;
}

// ---- the agent's answers, as far as this command reads them (validated on arrival) ------

interface StatusBody {
  readonly node: string;
  readonly state: string;
  readonly generation: number | null;
}

interface GenerationBody {
  readonly number: number;
  readonly createdAt: string;
  readonly sha256: string;
  readonly configJson: string;
}

/** The agent's diff view (agent/views.ts): core's layer changes and tier moves. */
interface DiffBody {
  readonly from: number;
  readonly to: number;
  readonly layers: readonly LayerChange[];
  readonly moves: readonly TierMove[];
  readonly text: string;
}

type Shape = Readonly<Record<string, 'string' | 'number' | 'array' | 'number|null'>>;

function checkShape<T>(body: unknown, shape: Shape, what: string, where: string): T {
  const obj = body as Record<string, unknown>;
  const ok = typeof body === 'object' && body !== null && Object.entries(shape).every(([key, type]) => {
    const v = obj[key];
    if (type === 'array') return Array.isArray(v);
    if (type === 'number|null') return v === null || typeof v === 'number';
    if (type === 'number') return typeof v === 'number';
    return typeof v === 'string';
  });
  if (!ok) throw new AgentApiError(`unexpected answer from the agent at ${where}: not a ${what}`);
  return body as T;
}

// ---- command-line values --------------------------------------------------------------

function parseGenerationArg(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) {
    throw new InvalidArgumentError('want a generation number (1, 2, …)');
  }
  return Number(text);
}

function parseRangeArg(text: string): GenerationRange {
  const m = /^(\d+)\.\.(\d+)$/.exec(text);
  if (m === null) throw new InvalidArgumentError('want two generation numbers as A..B, e.g. 3..5');
  return { from: parseGenerationArg(m[1] ?? ''), to: parseGenerationArg(m[2] ?? '') };
}



// ---- output ------------------------------------------------------------------------------

function header(status: StatusBody, g: GenerationBody): string {
  const current = status.generation !== null && status.generation !== g.number ? ` (current: ${status.generation})` : '';
  return `node: ${status.node}  generation: ${g.number}${current}  sha256: ${g.sha256.slice(0, 12)}  created: ${g.createdAt}  state: ${status.state}\n`;
}

const shortJson = (v: unknown): string => {
  const text = JSON.stringify(v) ?? 'null';
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
};

/** The per-layer change summary and tier moves, then the unified diff. */
export function formatDiff(node: string, d: DiffBody): string {
  const lines = [`node: ${node}  diff: generation ${d.from} → ${d.to}`];
  if (d.layers.length === 0 && d.moves.length === 0) {
    lines.push(`no changes: generations ${d.from} and ${d.to} have the same config`);
    return `${lines.join('\n')}\n`;
  }
  if (d.layers.length > 0) {
    lines.push('layers:');
    const width = Math.max(...d.layers.map((l) => l.layer.length));
    for (const l of d.layers) {
      const fields = l.fields.map((f) => `${f.path} ${shortJson(f.before)} → ${shortJson(f.after)}`).join('; ');
      lines.push(`  ${l.layer.padEnd(width)}  ${l.change}${fields === '' ? '' : `: ${fields}`}`);
    }
  }
  if (d.moves.length > 0) {
    lines.push('tier moves:');
    const names = d.moves.map((m) => `${m.namespace}/${m.name}`);
    const width = Math.max(...names.map((n) => n.length));
    d.moves.forEach((m, i) => lines.push(`  ${(names[i] ?? '').padEnd(width)}  ${m.from ?? '(new)'} → ${m.to ?? '(gone)'}`));
  }
  return `${lines.join('\n')}\n${d.text === '' ? '' : `\n${d.text}`}`;
}

function raw(body: unknown, format: 'json' | 'yaml'): string {
  return format === 'json' ? `${JSON.stringify(body, null, 2)}\n` : stringify(body);
}

const STATUS_SHAPE: Shape = { node: 'string', state: 'string', generation: 'number|null' };
const GENERATION_SHAPE: Shape = { number: 'number', createdAt: 'string', sha256: 'string', configJson: 'string' };
const DIFF_SHAPE: Shape = { from: 'number', to: 'number', layers: 'array', moves: 'array', text: 'string' };

async function showConfig(opts: ConfigOptions): Promise<string> {
  const timeoutMs = parseTimeout(opts.requestTimeout);
  const agent = await connectAgent(opts);
  try {
    const get = (path: string): Promise<unknown> => getJson(agent, path, timeoutMs);
    const path = opts.diff !== undefined
      ? `/diff?from=${opts.diff.from}&to=${opts.diff.to}`
      : opts.generation !== undefined ? `/generations/${opts.generation}` : '/config';
    const body = await get(path);
    if (opts.output !== undefined) return raw(body, opts.output);
    const status = checkShape<StatusBody>(await get('/status'), STATUS_SHAPE, 'status', agent.where);
    if (opts.diff !== undefined) return formatDiff(status.node, checkShape<DiffBody>(body, DIFF_SHAPE, 'diff', agent.where));
    const g = checkShape<GenerationBody>(body, GENERATION_SHAPE, 'generation', agent.where);
    return `${header(status, g)}${g.configJson}`;
  } finally {
    await agent.close();
  }
}

/** Adds `config` to the kubectl-temper program. */
export function registerConfigCommand(program: Command, io: CliIo): void {
  const command = program.command('config')
    .description('show the scx_layered config the Temper agent enforces on a node: the current one, a kept generation, or a diff')
    .option('--node <name>', 'the node whose agent to ask (default: the only node of a one-node cluster)')
    .addOption(new Option('--generation <n>', 'show this kept generation instead of the current one').argParser(parseGenerationArg))
    .addOption(new Option('--diff <A..B>', 'show what changed from generation A to B').argParser(parseRangeArg).conflicts('generation'))
    .addOption(new Option('-o, --output <format>', 'print the agent API\'s JSON (or YAML) instead of the text view').choices(['json', 'yaml']));
  agentLocatorOptions(command, 'HTTP API', 'give up on a request after this long (0: never; e.g. 5s, 1m)')
    .action(async (opts: ConfigOptions) => {
      io.stdout(await showConfig(opts));
    });
}
