#!/usr/bin/env node
// kubectl plugin entry point: `kubectl temper ...` runs this with the remaining words as argv.
import { main } from './cli.ts';

const write = (stream: NodeJS.WriteStream) => (text: string): void => {
  stream.write(text);
};

try {
  process.exitCode = await main(process.argv.slice(2), { stdout: write(process.stdout), stderr: write(process.stderr) });
} catch (err) {
  process.stderr.write(`error: internal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 70;
}
