/** Reading manifest and config files for the offline commands: the only file I/O the plugin does. */
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { defaultPolicy, parsePolicy } from '../core/config.ts';
import type { Policy } from '../core/config.ts';
import type { Problem } from '../core/errors.ts';
import { InputError, problemAt } from '../core/errors.ts';
import type { ManifestObjects } from '../core/objects.ts';
import { objectsFromDocuments } from '../core/objects.ts';
import type { NodeInfo } from '../core/types.ts';

/** Largest manifest the CLI reads; a Node/Pod list for one node is far smaller. */
const MAX_FILE_BYTES = 64 * 1024 * 1024;

function readText(path: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new InputError([problemAt(path, `cannot read ${what}: ${why}`, err)]);
  }
  if (text.length > MAX_FILE_BYTES) throw new InputError([problemAt(path, `${what} is larger than ${MAX_FILE_BYTES} bytes`)]);
  return text;
}

/** Parses YAML (one or many documents) or JSON text into plain documents, naming the file on error. */
export function parseDocuments(text: string, source: string): unknown[] {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return [JSON.parse(text) as unknown];
    } catch (err) {
      throw new InputError([problemAt(source, `invalid JSON: ${(err as Error).message}`, err)]);
    }
  }
  const docs = parseAllDocuments(text, { uniqueKeys: true });
  const problems: Problem[] = [];
  docs.forEach((doc, i) => {
    for (const e of doc.errors) {
      const pos = e.linePos?.[0];
      const at = pos === undefined ? '' : `line ${pos.line}, column ${pos.col}: `;
      const what = (e.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
      problems.push(problemAt(docs.length > 1 ? [source, `document ${i + 1}`] : source, `invalid YAML: ${at}${what}`, e));
    }
  });
  if (problems.length > 0) throw new InputError(problems);
  return docs.map((d) => d.toJS({ maxAliasCount: 100 }) as unknown);
}

/** Reads a PODS file: Pods (singly, in a List/PodList, or a YAML stream) and any PriorityClasses. */
export function readManifests(path: string): ManifestObjects {
  return objectsFromDocuments(parseDocuments(readText(path, 'manifest file'), path), path);
}

/** Reads a NODE file: exactly one Node object (alone or in a List). */
export function readNode(path: string): NodeInfo {
  const objects = readManifests(path);
  if (objects.nodes.length !== 1) {
    throw new InputError([problemAt(path, `expected exactly one Node object, found ${objects.nodes.length}`)]);
  }
  const [node] = objects.nodes;
  if (node === undefined) throw new InputError([problemAt(path, 'no Node object')]);
  return node;
}

/** Reads the TOML configuration, or the defaults when no path is given. */
export function readPolicy(path: string | undefined): Policy {
  return path === undefined ? defaultPolicy() : parsePolicy(readText(path, 'config file'), path);
}
