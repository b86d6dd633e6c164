import { describe, expect, it } from 'vitest';
import { defaultPolicy, parsePolicy } from './config.ts';
import type { ProfileFile } from './profiles.ts';
import { parseProfileFiles } from './profiles.ts';
import type { ProfileSubject } from './profiles-select.ts';
import { imageMatches, imageName, profileContext, selectProfile } from './profiles-select.ts';

const files: ProfileFile[] = [{
  name: 'site.toml',
  text: `
[[profile]]
name = "shop-api"
images = ["registry.example.com/shop/*"]
[[profile]]
name = "mysql-tuned"
images = ["mysql:8.4*"]
[[profile]]
name = "big-only"
shape = { min_cpus = 64 }
images = ["example/big"]
[[profile]]
name = "zz-same"
images = ["example/same"]
[[profile]]
name = "aa-same"
images = ["example/same"]
`,
}];
const ctx = profileContext(parseProfileFiles(files), { cpus: 8, smt: false });
const infera = defaultPolicy();
const temper = parsePolicy('[naming]\nnames = "temper"\n', 'temper.toml');

const subject = (images: string[], annotations: Record<string, string> = {}): ProfileSubject => ({
  annotations,
  containers: images.map((image, i) => ({ name: `c${i}`, image })),
});

describe('selectProfile: the annotation, then image patterns', () => {
  it.each([
    ['the annotation wins over a matching image', infera, subject(['redis:7'], { 'infera.io/workload-profile': 'mysql-innodb' }), 'annotation', 'mysql-innodb'],
    ['the other name set\'s annotation is honoured too', infera, subject(['redis:7'], { 'temper.codes/workload-profile': 'kafka' }), 'annotation', 'kafka'],
    ['the configured prefix first when both are set', temper, subject([], { 'infera.io/workload-profile': 'kafka', 'temper.codes/workload-profile': 'envoy' }), 'annotation', 'envoy'],
    ['"none" turns profiles off, images notwithstanding', infera, subject(['mysql:8.4'], { 'infera.io/workload-profile': 'none' }), 'opt-out', null],
    ['an unknown name falls back to the images', infera, subject(['mysql:8.0'], { 'infera.io/workload-profile': 'mysq' }), 'image', 'mysql-innodb'],
    ['a name without a variant for the node falls back too', infera, subject([], { 'infera.io/workload-profile': 'big-only' }), 'none', null],
    ['an image matches a built-in', infera, subject(['docker.io/library/redis:7.2-alpine']), 'image', 'redis'],
    ['the first matching container decides: the app, not its sidecar', infera, subject(['busybox', 'cassandra:5', 'envoyproxy/envoy:v1.31']), 'image', 'cassandra'],
    ['a file profile with a more explicit pattern beats a built-in on one image', infera, subject(['mysql:8.4.2']), 'image', 'mysql-tuned'],
    ['an equally explicit tie goes to the first name', infera, subject(['example/same:1']), 'image', 'aa-same'],
    ['a path pattern', infera, subject(['registry.example.com/shop/cart:2']), 'image', 'shop-api'],
    ['nothing matches', infera, subject(['busybox:1.36', 'mysqld-exporter']), 'none', null],
  ])('%s', (_what, named, s, by, name) => {
    const sel = selectProfile(named, s, ctx);
    expect(sel.by).toBe(by);
    expect(sel.profile?.profile.name ?? null).toBe(name);
  });

  it('explains each outcome in words, for explain pod', () => {
    expect(selectProfile(infera, subject(['redis:7'], { 'infera.io/workload-profile': 'mysql-innodb' }), ctx).reason)
      .toBe('annotation infera.io/workload-profile names mysql-innodb: built-in');
    expect(selectProfile(infera, subject(['mysql:8.0'], { 'infera.io/workload-profile': 'mysq' }), ctx)).toMatchObject({
      reason: 'annotation infera.io/workload-profile names "mysq", which is not a profile (profiles: aa-same, cassandra, envoy, kafka, mysql-innodb, mysql-tuned, postgresql, pytorch-dataloader, redis, shop-api, zz-same); falling back to image patterns: container c0\'s image mysql:8.0 matches mysql-innodb\'s pattern "mysql": built-in',
      annotationProblem: 'annotation infera.io/workload-profile names "mysq", which is not a profile (profiles: aa-same, cassandra, envoy, kafka, mysql-innodb, mysql-tuned, postgresql, pytorch-dataloader, redis, shop-api, zz-same)',
    });
    expect(selectProfile(infera, subject([], { 'infera.io/workload-profile': 'big-only' }), ctx).reason)
      .toBe('annotation infera.io/workload-profile names "big-only", which has no variant for this node (8 CPUs, no SMT; its variants are for ≥ 64 CPUs); falling back to image patterns: no container image matches a profile\'s patterns');
    expect(selectProfile(infera, subject(['mysql:8.4']), ctx).reason).toBe('container c0\'s image mysql:8.4 matches mysql-tuned\'s pattern "mysql:8.4*": site.toml profile[1] (for any node)');
    expect(selectProfile(infera, subject(['busybox']), ctx).reason).toBe('no workload-profile annotation, and no container image matches a profile\'s patterns');
    expect(selectProfile(infera, subject([], { 'infera.io/workload-profile': 'none' }), ctx).reason).toBe('annotation infera.io/workload-profile is "none": no profile applies to this pod');
  });
});

describe('image patterns', () => {
  it.each([
    ['docker.io/library/mysql:8.4@sha256:0123', { repository: 'mysql', tag: '8.4' }],
    ['mysql', { repository: 'mysql', tag: 'latest' }],
    ['mysql@sha256:0123', { repository: 'mysql', tag: null }],
    ['registry:5000/team/app', { repository: 'registry:5000/team/app', tag: 'latest' }],
    ['docker.io/bitnami/redis:7', { repository: 'bitnami/redis', tag: '7' }],
  ])('imageName(%s)', (ref, want) => {
    expect(imageName(ref)).toEqual(want);
  });

  it.each([
    ['mysql', 'mysql:8.4', true],
    ['mysql', 'docker.io/library/mysql', true],
    ['mysql', 'bitnami/mysql:8', false],
    ['*/mysql', 'bitnami/mysql:8', true],
    ['*/mysql', 'quay.io/org/mysql', true],
    ['*/mysql', 'prom/mysqld-exporter', false],
    ['mysql:8*', 'mysql:8.4', true],
    ['mysql:8*', 'mysql:5.7', false],
    ['mysql:8*', 'mysql@sha256:0123', false],
    ['mysql:latest', 'mysql', true],
    ['envoyproxy/envoy*', 'envoyproxy/envoy-distroless:v1.31', true],
    ['docker.io/library/redis', 'redis:7', true],
    ['registry:5000/app', 'registry:5000/app:1', true],
    ['a.b/c', 'aXb/c', false],
  ])('%s matches %s: %s', (pattern, ref, want) => {
    expect(imageMatches(pattern, ref)).toBe(want);
  });
});
