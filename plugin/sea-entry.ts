// The entry point of the single executable (scripts/build-plugin.ts): the same CLI as
// kubectl-temper.ts, without top-level await, which a CommonJS bundle (what Node 24's
// single-executable applications run) cannot have.
import { main } from './cli.ts';

// Bundled, the dependencies' code no longer sits in node_modules, where Node keeps their
// deprecation warnings (url.parse, punycode) quiet; a user of the binary cannot act on them.
(process as NodeJS.Process & { noDeprecation?: boolean }).noDeprecation = true;

const write = (stream: NodeJS.WriteStream) => (text: string): void => {
  stream.write(text);
};

main(process.argv.slice(2), { stdout: write(process.stdout), stderr: write(process.stderr) }).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    process.stderr.write(`error: internal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 70;
  },
);
