/**
 * Reading manifest, config and profile files for the offline commands: the only file I/O the plugin does.
 * Input is read as kubectl reads it: YAML 1.1 merge keys, a byte-order mark (UTF-8 or UTF-16),
 * stdin through a real stream (a slow pipe is not an error), and refusals for inputs that would
 * exhaust memory or the stack (too large, alias bombs, absurd nesting), each one clear line.
 */
import { closeSync, fstatSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { parseAllDocuments } from 'yaml';
import { defaultPolicy, parsePolicy } from '../core/config.ts';
import type { Policy } from '../core/config.ts';
import type { Problem } from '../core/errors.ts';
import { InputError, isRecord, problemAt } from '../core/errors.ts';
import type { ManifestObjects } from '../core/objects.ts';
import { objectsFromDocuments } from '../core/objects.ts';
import type { ProfileFile } from '../core/profiles.ts';
import type { NodeInfo, PodInfo } from '../core/types.ts';

/** Largest input the CLI reads; a Node/Pod list for a whole cluster is far smaller. */
export const MAX_INPUT_BYTES = 64 * 1024 * 1024;
/** Deepest nesting accepted; Kubernetes objects nest about 10 levels. */
export const MAX_DEPTH = 100;
/** Alias uses a YAML document may expand (the yaml library's guard against alias bombs). */
const MAX_ALIAS_COUNT = 100;

const MIB = 1024 * 1024;
const tooLarge = (source: string, what: string, size: string): InputError =>
  new InputError([problemAt(source, `${what} is ${size}, larger than the ${MAX_INPUT_BYTES / MIB} MiB limit; refused before reading it`)]);

function readError(path: string, what: string, err: unknown): InputError {
  const code = (err as NodeJS.ErrnoException).code;
  const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'ENOTDIR' ? 'not a directory' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
  return new InputError([problemAt(path, `cannot read ${what}: ${why}`, err)]);
}

/** Reads a regular file whole, after checking its size; refuses directories and oversized files unread. */
function readFileBytes(path: string, what: string): Buffer {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw readError(path, what, err);
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw readError(path, what, Object.assign(new Error('is a directory'), { code: 'EISDIR' }));
    if (!st.isFile()) throw new InputError([problemAt(path, `${what} is not a regular file; pipe it to --from-file - instead`)]);
    if (st.size > MAX_INPUT_BYTES) throw tooLarge(path, what, `${Math.ceil(st.size / MIB)} MiB`);
    const buf = Buffer.alloc(st.size);
    let off = 0;
    while (off < st.size) {
      const n = readSync(fd, buf, off, st.size - off, off);
      if (n === 0) break;
      off += n;
    }
    return buf.subarray(0, off);
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw readError(path, what, err);
  } finally {
    closeSync(fd);
  }
}

/** Reads a stream to its end, stopping as soon as it passes the size limit. */
async function readStreamBytes(stream: Readable, source: string, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buf.length;
    if (size > MAX_INPUT_BYTES) {
      stream.destroy();
      throw tooLarge(source, what, `more than ${MAX_INPUT_BYTES / MIB} MiB`);
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

/**
 * Reads an input's bytes: `-` is stdin, read as a stream (never readFileSync(0), which fails with
 * EAGAIN on a non-blocking pipe); a regular file is size-checked first; a FIFO or other special
 * file (`<(kubectl get pods -o yaml)`) is streamed with the limit.
 */
async function readInputBytes(path: string, what: string, stdin: Readable): Promise<Buffer> {
  if (path === '-') return readStreamBytes(stdin, 'stdin', what);
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    throw readError(path, what, err);
  }
  try {
    const st = await handle.stat();
    if (st.isFile() || st.isDirectory()) return readFileBytes(path, what);
    return await readStreamBytes(handle.createReadStream({ autoClose: false }), path, what);
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw readError(path, what, err);
  } finally {
    await handle.close();
  }
}

/** Text from bytes as kubectl decodes them: a UTF-8 or UTF-16 (LE/BE) byte-order mark is honoured and dropped. */
export function decodeText(bytes: Uint8Array, source: string): string {
  const [a, b, c] = bytes;
  let encoding = 'utf-8';
  let start = 0;
  if (a === 0xef && b === 0xbb && c === 0xbf) start = 3;
  else if (a === 0xff && b === 0xfe) { encoding = 'utf-16le'; start = 2; }
  else if (a === 0xfe && b === 0xff) { encoding = 'utf-16be'; start = 2; }
  try {
    return new TextDecoder(encoding, { fatal: true }).decode(bytes.subarray(start));
  } catch (err) {
    throw new InputError([problemAt(source, `not valid ${encoding.toUpperCase()} text`, err)]);
  }
}

/** The deepest nesting of arrays and objects in a parsed value, counted without recursion and only up to `limit + 1`. */
function depthExceeds(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop() as [unknown, number];
    if (d > limit) return true;
    if (Array.isArray(v)) for (const x of v) stack.push([x, d + 1]);
    else if (isRecord(v)) for (const x of Object.values(v)) stack.push([x, d + 1]);
  }
  return false;
}

const tooDeep = (source: string, cause?: unknown): InputError =>
  new InputError([problemAt(source, `refused: nested more than ${MAX_DEPTH} levels deep (no Kubernetes object is)`, cause)]);

/**
 * Parses YAML (one or many documents, merge keys honoured) or JSON text into plain documents,
 * naming the file on error. Alias bombs and absurd nesting are refused with one problem each.
 */
export function parseDocuments(text: string, source: string): unknown[] {
  const trimmed = text.trimStart();
  let docs: unknown[];
  try {
    docs = trimmed.startsWith('{') || trimmed.startsWith('[') ? [parseJson(text, source)] : parseYaml(text, source);
  } catch (err) {
    // The YAML composer recurses per nesting level; deep enough input overflows the stack.
    if (err instanceof RangeError) throw tooDeep(source, err);
    throw err;
  }
  if (docs.some((d) => depthExceeds(d, MAX_DEPTH))) throw tooDeep(source);
  return docs;
}

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    if (err instanceof RangeError) throw err;
    throw new InputError([problemAt(source, `invalid JSON: ${(err as Error).message}`, err)]);
  }
}

function parseYaml(text: string, source: string): unknown[] {
  const docs = parseAllDocuments(text, { uniqueKeys: true, merge: true });
  const list = Array.isArray(docs) ? docs : [];
  const problems: Problem[] = [];
  list.forEach((doc, i) => {
    for (const e of doc.errors) {
      // The composer reports its own stack overflow as a document error.
      if (/Maximum call stack size exceeded/.test(e.message)) throw tooDeep(source, e);
      const pos = e.linePos?.[0];
      const at = pos === undefined ? '' : `line ${pos.line}, column ${pos.col}: `;
      const what = (e.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
      problems.push(problemAt(list.length > 1 ? [source, `document ${i + 1}`] : source, `invalid YAML: ${at}${what}`, e));
    }
  });
  if (problems.length > 0) throw new InputError(problems);
  return list.map((d, i) => {
    try {
      return d.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as unknown;
    } catch (err) {
      if (err instanceof ReferenceError && /alias/i.test(err.message)) {
        const where = list.length > 1 ? [source, `document ${i + 1}`] : source;
        throw new InputError([problemAt(where, `refused: YAML aliases expand more than ${MAX_ALIAS_COUNT} times (an alias bomb?)`, err)]);
      }
      throw err;
    }
  });
}

/** Manifest objects as the CLI uses them, with what it should tell the user about the input. */
export interface Manifests extends ManifestObjects {
  /** Lines for stderr (`warning: …`): duplicate pods, each counted once. */
  readonly notes: readonly string[];
}

function manifestsOf(text: string, source: string): Manifests {
  const docs = parseDocuments(text, source);
  if (docs.every((d) => d === null || d === undefined)) {
    throw new InputError([problemAt(source, 'empty input: no objects (expected pods, e.g. kubectl get pods -A -o yaml)')]);
  }
  const objects = objectsFromDocuments(docs, source);
  const seen = new Map<string, number>();
  const pods: PodInfo[] = [];
  for (const pod of objects.pods) {
    const key = `${pod.namespace}/${pod.name}`;
    const n = seen.get(key) ?? 0;
    seen.set(key, n + 1);
    if (n === 0) pods.push(pod);
  }
  const notes = [...seen].filter(([, n]) => n > 1).map(([key, n]) => `${source}: pod ${key} appears ${n} times; counted once (the first)`);
  return { ...objects, pods, notes };
}

/** Reads a PODS file (a regular file, synchronously): Pods (singly, in a List/PodList, or a YAML stream), workloads and any PriorityClasses. */
export function readManifests(path: string): Manifests {
  return manifestsOf(decodeText(readFileBytes(path, 'manifest file'), path), path);
}

/** Reads a PODS input like readManifests: `-` for stdin, or any file including a pipe. */
export async function loadManifests(path: string, stdin: Readable = process.stdin): Promise<Manifests> {
  const source = path === '-' ? 'stdin' : path;
  return manifestsOf(decodeText(await readInputBytes(path, 'manifest file', stdin), source), source);
}

/** Exactly one Node object (alone or in a List) from read manifests. */
export function nodeOf(objects: ManifestObjects, path: string): NodeInfo {
  if (objects.nodes.length !== 1) {
    throw new InputError([problemAt(path, `expected exactly one Node object, found ${objects.nodes.length}`)]);
  }
  const [node] = objects.nodes;
  if (node === undefined) throw new InputError([problemAt(path, 'no Node object')]);
  return node;
}

/** Reads a NODE file: exactly one Node object (alone or in a List). */
export function readNode(path: string): NodeInfo {
  return nodeOf(readManifests(path), path);
}

/** Reads a NODE input like readNode: `-` for stdin, or any file including a pipe. */
export async function loadNode(path: string, stdin: Readable = process.stdin): Promise<NodeInfo> {
  return nodeOf(await loadManifests(path, stdin), path === '-' ? 'stdin' : path);
}

/** Reads the TOML configuration, or the defaults when no path is given. */
export function readPolicy(path: string | undefined): Policy {
  return path === undefined ? defaultPolicy() : parsePolicy(decodeText(readFileBytes(path, 'config file'), path), path);
}

/** Whether a directory entry is a profile file: `*.toml`, not one of a ConfigMap volume's `..data` entries. */
const isProfileFileName = (name: string): boolean => name.endsWith('.toml') && !name.startsWith('..');

/**
 * Reads workload-profile files as the agent does: every `*.toml` in `dir` (sorted by name;
 * symlinks followed, as a ConfigMap volume has them), then each of `files`, each once. Each
 * file is named as the user wrote its path, which is how the parser's messages name it.
 */
export function readProfileFiles(dir: string | undefined, files: readonly string[]): ProfileFile[] {
  const paths: string[] = [];
  if (dir !== undefined) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch (err) {
      throw readError(dir, 'profiles directory', err);
    }
    for (const name of names.filter(isProfileFileName).sort()) {
      const path = join(dir, name);
      let regular: boolean;
      try {
        regular = statSync(path).isFile();
      } catch (err) {
        throw readError(path, 'profile file', err);
      }
      if (regular) paths.push(path);
    }
  }
  const seen = new Set<string>();
  const out: ProfileFile[] = [];
  for (const path of [...paths, ...files]) {
    const key = resolve(path);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ name: path, text: decodeText(readFileBytes(path, 'profile file'), path) });
  }
  return out;
}
