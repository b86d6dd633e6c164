/** Golden files: exact expected bytes, rewritten only with UPDATE_GOLDEN=1 (test/golden/README.md). */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { expect } from 'vitest';

export const UPDATE_GOLDEN = process.env.UPDATE_GOLDEN === '1';

/** Compares `got` with the file at `path`; only `rewrite` (UPDATE_GOLDEN=1) writes it, so a missing file fails. */
export function checkGolden(path: string, got: string, rewrite = UPDATE_GOLDEN): void {
  if (rewrite) writeFileSync(path, got);
  expect(existsSync(path), `${path} is missing; run with UPDATE_GOLDEN=1 to create it, then review it`).toBe(true);
  expect(got, `${path} differs; rerun with UPDATE_GOLDEN=1 if the change is intended`).toBe(readFileSync(path, 'utf8'));
}
