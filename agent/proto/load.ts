/**
 * The agent's proto and the proto-loader options it is loaded with. The type generator
 * (generate.ts) derives its flags from the same options, so the generated types describe
 * exactly the objects the server receives and the clients get back.
 */
import { loadSync } from '@grpc/proto-loader';
import type { Options } from '@grpc/proto-loader';
import { join } from 'node:path';

export const PROTO_ROOT = import.meta.dirname;
/** Relative to PROTO_ROOT, as imports inside the proto see it. */
export const AGENT_PROTO = 'temper/v1/agent.proto';
export const AGENT_SERVICE = 'temper.v1.Agent';

/** Field names camelCased; 64-bit integers as decimal strings; defaults filled in; oneof names set. */
export const LOADER_OPTIONS = {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_ROOT],
} as const satisfies Options;

/** The parsed proto, ready for grpc.loadPackageDefinition or @grpc/reflection. */
export function loadAgentProto(): ReturnType<typeof loadSync> {
  return loadSync(join(PROTO_ROOT, AGENT_PROTO), { ...LOADER_OPTIONS, includeDirs: [...LOADER_OPTIONS.includeDirs] });
}
