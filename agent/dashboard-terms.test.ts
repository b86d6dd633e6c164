// The dashboard is plain browser JavaScript and cannot import core's TypeScript; this keeps its
// copies of core's terms (tiers, enforcement states) equal to core's.
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENFORCEMENT_STATES, TIERS } from '../core/types.ts';

interface Format {
  readonly TIERS: readonly string[];
  readonly STATE_MEANING: Readonly<Record<string, string>>;
}

describe('the dashboard speaks core\'s terms', () => {
  it('the same tiers in the same order, and a meaning for every enforcement state', async () => {
    const format = await import(pathToFileURL(join(import.meta.dirname, 'dashboard', 'format.js')).href) as Format;
    expect(format.TIERS).toEqual([...TIERS]);
    expect(Object.keys(format.STATE_MEANING).sort()).toEqual([...ENFORCEMENT_STATES].sort());
  });
});
