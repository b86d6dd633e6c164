/**
 * Which workload profile applies to a pod, most explicit first (docs/profiles.md "Selection"):
 * the pod's `<prefix>/workload-profile` annotation, then the container-image patterns each
 * profile carries. Every result carries its reason in words, for `kubectl temper explain pod`.
 */
import type { Named } from './names.ts';
import { readPrefixes } from './names.ts';
import type { NodeShape, ProfileCatalog, ResolvedProfile } from './profiles.ts';
import { NO_PROFILE, describeShape, profilesForNode } from './profiles.ts';

/** The annotation's name under one prefix (`infera.io/workload-profile`). */
export function workloadProfileKey(prefix: string): string {
  return `${prefix}/workload-profile`;
}

/** The part of a pod selection reads: its annotations and its containers' images, in spec order. */
export interface ProfileSubject {
  readonly annotations: Readonly<Record<string, string>>;
  readonly containers: readonly { readonly name: string; readonly image: string }[];
}

/** The profiles in effect on one node, and what is needed to explain a name that is not. */
export interface ProfileContext {
  readonly catalog: ProfileCatalog;
  readonly shape: NodeShape;
  /** profilesForNode(catalog, shape): sorted by name. */
  readonly inEffect: readonly ResolvedProfile[];
}

/** The context for one node shape. */
export function profileContext(catalog: ProfileCatalog, shape: NodeShape): ProfileContext {
  return { catalog, shape, inEffect: profilesForNode(catalog, shape) };
}

/** The chosen profile (or none) and why. */
export interface ProfileSelection {
  readonly profile: ResolvedProfile | null;
  /** `annotation`, `image`; `opt-out` when the annotation says `none`; `none` when nothing matched. */
  readonly by: 'annotation' | 'image' | 'opt-out' | 'none';
  readonly reason: string;
  /** Set when the annotation named no profile in effect here and selection fell back to the images. */
  readonly annotationProblem: string | null;
}

/** An image reference split as patterns see it: Docker Hub's default registry and `library/` dropped, digest dropped. */
export interface ImageName {
  readonly repository: string;
  /** The tag, `latest` when the reference has neither tag nor digest, null with a digest only. */
  readonly tag: string | null;
}

const HUB_PREFIXES = ['docker.io/library/', 'index.docker.io/library/', 'registry-1.docker.io/library/', 'docker.io/', 'index.docker.io/', 'registry-1.docker.io/'];

/** Splits an image reference (`docker.io/library/mysql:8.4@sha256:…` → `mysql`, `8.4`). */
export function imageName(ref: string): ImageName {
  const at = ref.indexOf('@');
  const noDigest = at < 0 ? ref : ref.slice(0, at);
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  const tagged = colon > slash;
  let repository = tagged ? noDigest.slice(0, colon) : noDigest;
  const hub = HUB_PREFIXES.find((p) => repository.startsWith(p));
  if (hub !== undefined) repository = repository.slice(hub.length);
  return { repository, tag: tagged ? noDigest.slice(colon + 1) : at < 0 ? 'latest' : null };
}

// Compiled once per pattern: plan() tests every container of every pod against every pattern.
const globs = new Map<string, RegExp>();

function globRegex(glob: string): RegExp {
  let re = globs.get(glob);
  if (re === undefined) {
    re = new RegExp(`^${glob.split('*').map((part) => part.replace(/[\\^$.+?()[\]{}|]/g, '\\$&')).join('.*')}$`, 'u');
    globs.set(glob, re);
  }
  return re;
}

/**
 * Whether an image reference matches a pattern. A pattern without a tag matches the repository
 * whatever the tag (`mysql` matches `mysql:8.4` and `docker.io/library/mysql`); one with a tag
 * matches repository and tag (`mysql:8*`). `*` matches any characters, `/` included.
 */
export function imageMatches(pattern: string, ref: string): boolean {
  // plan() asks this for every container of every pod against every pattern, on every
  // recompute, and a node's images repeat: answers are kept (the cache is dropped when large).
  const key = `${pattern}\n${ref}`;
  const known = matched.get(key);
  if (known !== undefined) return known;
  const answer = computeImageMatch(pattern, ref);
  if (matched.size >= 10_000) matched.clear();
  matched.set(key, answer);
  return answer;
}

const matched = new Map<string, boolean>();

function computeImageMatch(pattern: string, ref: string): boolean {
  const p = imageName(pattern);
  const img = imageName(ref);
  const patternTagged = pattern.lastIndexOf(':') > pattern.lastIndexOf('/');
  if (!globRegex(p.repository).test(img.repository)) return false;
  return !patternTagged || (img.tag !== null && globRegex(p.tag ?? '').test(img.tag));
}

/** How explicit a pattern is: its characters other than `*`. */
const literalLength = (pattern: string): number => pattern.replaceAll('*', '').length;

interface ImageMatch {
  readonly resolved: ResolvedProfile;
  readonly container: { readonly name: string; readonly image: string };
  readonly pattern: string;
}

/**
 * The image match that decides: the first container (in spec order) whose image matches any
 * profile's pattern; among the profiles matching it, the most explicit pattern, then the name.
 */
function bestImageMatch(subject: ProfileSubject, inEffect: readonly ResolvedProfile[]): ImageMatch | null {
  for (const container of subject.containers) {
    const matches: ImageMatch[] = [];
    for (const resolved of inEffect) {
      const patterns = resolved.profile.images.filter((p) => imageMatches(p, container.image));
      const pattern = [...patterns].sort((a, b) => literalLength(b) - literalLength(a))[0];
      if (pattern !== undefined) matches.push({ resolved, container, pattern });
    }
    matches.sort((a, b) => literalLength(b.pattern) - literalLength(a.pattern) || (a.resolved.profile.name < b.resolved.profile.name ? -1 : 1));
    if (matches[0] !== undefined) return matches[0];
  }
  return null;
}

function unknownName(ctx: ProfileContext, key: string, value: string): string {
  const known = [...ctx.catalog.builtins, ...ctx.catalog.files].filter((p) => p.name === value);
  const shape = `${ctx.shape.cpus} CPU${ctx.shape.cpus === 1 ? '' : 's'}, ${ctx.shape.smt ? 'SMT' : 'no SMT'}`;
  if (known.length > 0) {
    return `annotation ${key} names ${JSON.stringify(value)}, which has no variant for this node (${shape}; its variants are for ${known.map((p) => describeShape(p.shape)).join('; ')})`;
  }
  return `annotation ${key} names ${JSON.stringify(value)}, which is not a profile (profiles: ${ctx.inEffect.map((r) => r.profile.name).join(', ')})`;
}

/**
 * Chooses a pod's profile. Rules, most explicit first:
 * 1. the `workload-profile` annotation under any honoured prefix (the configured one first):
 *    a profile in effect on this node by that name wins; `none` turns profiles off for the pod;
 *    any other value is reported (`annotationProblem`) and selection falls back to rule 2;
 * 2. container-image patterns: the first container whose image matches a profile's pattern
 *    decides; among several profiles matching it, the most explicit pattern (most characters
 *    other than `*`), then the profile name, so the result never depends on catalog order.
 */
export function selectProfile(named: Named, subject: ProfileSubject, ctx: ProfileContext): ProfileSelection {
  let annotationProblem: string | null = null;
  for (const prefix of readPrefixes(named)) {
    const key = workloadProfileKey(prefix);
    const value = subject.annotations[key];
    if (value === undefined) continue;
    if (value === NO_PROFILE) return { profile: null, by: 'opt-out', reason: `annotation ${key} is "${NO_PROFILE}": no profile applies to this pod`, annotationProblem: null };
    const resolved = ctx.inEffect.find((r) => r.profile.name === value);
    if (resolved !== undefined) return { profile: resolved, by: 'annotation', reason: `annotation ${key} names ${value}: ${resolved.why}`, annotationProblem: null };
    annotationProblem = unknownName(ctx, key, value);
    break;
  }
  const lead = annotationProblem === null ? '' : `${annotationProblem}; falling back to image patterns: `;
  const match = bestImageMatch(subject, ctx.inEffect);
  if (match === null) {
    const none = annotationProblem === null ? 'no workload-profile annotation, and no container image matches a profile\'s patterns' : 'no container image matches a profile\'s patterns';
    return { profile: null, by: 'none', reason: `${lead}${none}`, annotationProblem };
  }
  const reason = `${lead}container ${match.container.name}'s image ${match.container.image} matches ${match.resolved.profile.name}'s pattern ${JSON.stringify(match.pattern)}: ${match.resolved.why}`;
  return { profile: match.resolved, by: 'image', reason, annotationProblem };
}
