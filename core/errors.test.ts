import { TomlError } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { ConfigError, InputError, Problems, formatProblem, problemAt, within } from './errors.ts';
import { parsePolicy } from './config.ts';
import { objectsFromDocuments } from './objects.ts';

describe('structured problems', () => {
  it('render as one line: where, key, what, and the value', () => {
    expect(formatProblem({ at: ['pods.yaml', 'items[2]'], path: 'spec.priority', message: 'must be a 32-bit integer', value: 'high' }))
      .toBe('pods.yaml: items[2]: spec.priority: must be a 32-bit integer (got "high")');
    expect(formatProblem({ at: [], path: '', message: 'No layer spec' })).toBe('No layer spec');
    expect(formatProblem({ at: ['x'], path: 'k', message: 'must be set', value: undefined })).toBe('x: k: must be set (got undefined)');
  });

  it('are nested by adding a location, not by re-joining strings', () => {
    const problems = new Problems();
    problems.add('spec', 'required');
    problems.add('metadata.uid', 'must be a UUID', 'x y');
    expect(within('pods.yaml', within('document 2', problems.list))).toEqual([
      { at: ['pods.yaml', 'document 2'], path: 'spec', message: 'required' },
      { at: ['pods.yaml', 'document 2'], path: 'metadata.uid', message: 'must be a UUID', value: 'x y' },
    ]);
  });

  it('a manifest error keeps every problem with its location, key and value', () => {
    let caught: unknown;
    try {
      objectsFromDocuments([{ kind: 'List', items: [{ kind: 'Pod', metadata: { name: 'a' }, spec: { containers: [{ name: 'c' }], priority: 'high' } }, { kind: 'Deployment', metadata: { name: 'd' }, spec: {} }, { kind: 'Service', metadata: { name: 's' } }] }], 'pods.yaml');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InputError);
    const e = caught as InputError;
    expect(e.problems).toEqual([
      { at: ['pods.yaml', 'items[0]'], path: 'spec.priority', message: 'must be a 32-bit integer', value: 'high' },
      { at: ['pods.yaml', 'items[1] (Deployment d)'], path: 'spec.template', message: 'required (the pod template)' },
    ]);
    expect(e.lines).toEqual([
      'pods.yaml: items[0]: spec.priority: must be a 32-bit integer (got "high")',
      'pods.yaml: items[1] (Deployment d): spec.template: required (the pod template)',
    ]);
    expect(e.message).toBe(e.lines.join('\n'));
  });

  it('chain the error underneath as the cause', () => {
    let caught: unknown;
    try {
      parsePolicy('[node\n', 'temper.toml');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const e = caught as ConfigError;
    expect(e.cause).toBeInstanceOf(TomlError);
    expect(e.problems[0]?.cause).toBe(e.cause);
    expect(e.lines[0]).toMatch(/^temper\.toml:\d+:\d+: invalid TOML: /);
    expect(problemAt('f', 'bad').cause).toBeUndefined();
  });

  it('a bad quantity keeps the quantity parser\'s error', () => {
    let caught: unknown;
    try {
      objectsFromDocuments([{ kind: 'Pod', metadata: { name: 'a' }, spec: { containers: [{ name: 'c', resources: { requests: { cpu: '1 core' } } }] } }], 'p.yaml');
    } catch (err) {
      caught = err;
    }
    const p = (caught as InputError).problems[0];
    expect(p?.path).toBe('spec.containers[0].resources.requests.cpu');
    expect((p?.cause as Error).name).toBe('QuantityError');
  });
});
