import { describe, expect, it } from 'vitest';
import { ConfigError } from './errors.ts';
import type { ProfileFile } from './profiles.ts';
import { builtinProfileCatalog, describeShape, groupOfThread, parseProfileFiles, profileRows, profilesForNode } from './profiles.ts';

function problemsIn(...files: ProfileFile[]): readonly string[] {
  try {
    parseProfileFiles(files);
  } catch (err) {
    if (err instanceof ConfigError) return err.lines;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

const file = (name: string, text: string): ProfileFile => ({ name, text });

const MINIMAL = `
[[profile]]
name = "app"
images = ["example/app"]
  [[profile.group]]
  name = "hot"
  treatment = "exclusive"
  threads = ["worker-"]
`;

describe('parseProfileFiles', () => {
  it('reads a profile file into the catalog beside the built-ins', () => {
    const c = parseProfileFiles([file('app.toml', MINIMAL)]);
    expect(c.files).toEqual([{
      name: 'app', description: '', images: ['example/app'], shape: { minCpus: null, maxCpus: null, smt: null },
      groups: [{ name: 'hot', treatment: 'exclusive', threads: ['worker-'], process: null, titles: [], cores: null }],
      source: 'app.toml profile[0]', builtin: false,
    }]);
    expect(c.builtins.map((p) => p.name)).toEqual(['mysql-innodb', 'postgresql', 'redis', 'envoy', 'cassandra', 'kafka', 'pytorch-dataloader']);
  });

  it('an empty file, or none, adds nothing', () => {
    expect(parseProfileFiles([file('empty.toml', '')]).files).toEqual([]);
    expect(parseProfileFiles([]).files).toEqual([]);
  });

  it('reports every problem of every file at once, each naming the file and the key', () => {
    const problems = problemsIn(file('a.toml', `
colour = "blue"
[[profile]]
name = "My_App"
images = ["mysql@sha256:abc", "has space", 3]
descripton = "typo"
  [profile.shape]
  min_cpus = 16
  max_cpus = 8
  smt = "yes"
  cores = 4
  [[profile.group]]
  name = "hot"
  treatment = "fast"
  threads = ["a-thread-name-longer-than-15", "", "ok"]
  process = "mysqld"
  cores = 0
  [[profile.group]]
  treatment = "yield"
  threads = "bio_"
  titles = ["checkpointer"]
  cores = 2
  [[profile.group]]
  name = "nothing"
  treatment = "latency"
`), file('b.toml', `
[[profile]]
name = "none"
  [[profile.group]]
  name = "g"
  treatment = "yield"
  threads = ["ib_srv", "ib_srv_purge", "ib_srv"]
  [[profile.group]]
  name = "g"
  treatment = "latency"
  threads = ["ib_"]
  [[profile.group]]
  name = "titled"
  treatment = "latency"
  process = "postgres"
  titles = ["walwriter", " "]
`));
    expect(problems).toEqual([
      'a.toml: colour: unknown key (keys here are profile)',
      'a.toml: profile[0].name: must be a lowercase DNS label (at most 63 characters) (got "My_App")',
      'a.toml: profile[0].images[0]: must not name a digest: patterns match the repository and tag (got "mysql@sha256:abc")',
      'a.toml: profile[0].images[1]: must be an image reference pattern: letters, digits, . _ - / : and * (any characters) (got "has space")',
      'a.toml: profile[0].images[2]: must be a string (got 3)',
      'a.toml: profile[0].descripton: unknown key (keys here are name, description, images, shape, group)',
      'a.toml: profile[0].shape.smt: must be true or false (got "yes")',
      'a.toml: profile[0].shape.cores: unknown key (keys here are min_cpus, max_cpus, smt)',
      'a.toml: profile[0].group[0].treatment: must be one of exclusive, latency, yield (got "fast")',
      'a.toml: profile[0].group[0].threads[0]: must be at most 15 bytes, as the kernel stores a thread name (got 28 bytes; write the truncated name) (got "a-thread-name-longer-than-15")',
      'a.toml: profile[0].group[0].threads[1]: must not be empty (got "")',
      'a.toml: profile[0].group[0].cores: must be an integer from 1 to 1024 (got 0)',
      'a.toml: profile[0].group[1].threads: must be a list (got "bio_")',
      'a.toml: profile[0].shape.max_cpus: must be at least min_cpus (got 8 < 16)',
      'a.toml: profile[0].group[1].name: required',
      'a.toml: profile[0].group[1].titles: cannot be combined with threads or process: titles are matched by the agent alone, comm names by the scheduler too',
      'a.toml: profile[0].group[1].cores: only exclusive and latency groups have cores of their own',
      'a.toml: profile[0].group[2]: needs threads, process or titles: a group must say which threads it holds',
      'b.toml: profile[0].name: "none" is reserved: the annotation value that turns profiles off for a pod (got "none")',
      'b.toml: profile[0].group[2].titles[1]: must not be empty (got " ")',
      'b.toml: profile[0].group[0].threads[1]: is covered by "ib_srv" (threads[0]): every thread it names already matches that prefix (got "ib_srv_purge")',
      'b.toml: profile[0].group[0].threads[2]: is covered by "ib_srv" (threads[0]): every thread it names already matches that prefix (got "ib_srv")',
      'b.toml: profile[0].group[1].name: duplicates group[0]\'s name (got "g")',
      'b.toml: profile[0].group[1].threads: "ib_" overlaps "ib_srv" of group g (group[0]): a thread named like both would fall in either, depending on layer order; make the prefixes disjoint or scope them with process',
      'b.toml: profile[0].group[2].titles: cannot be combined with threads or process: titles are matched by the agent alone, comm names by the scheduler too',
    ]);
  });

  it.each([
    ['profile as a table, not an array of tables', '[profile]\nname = "x"\n', 'f.toml: profile: must be an array of tables ([[profile]]) (got {"name":"x"})'],
    ['group as a table', '[[profile]]\nname = "x"\n[profile.group]\nname = "g"\n', 'f.toml: profile[0].group: must be an array of tables ([[group]]) (got {"name":"g"})'],
    ['shape not a table', '[[profile]]\nname = "x"\nshape = 4\n', 'f.toml: profile[0].shape: must be a table (got 4)'],
    ['a missing name', '[[profile]]\nimages = ["x"]\n', 'f.toml: profile[0].name: required'],
    ['a process name too long', '[[profile]]\nname = "x"\n[[profile.group]]\nname = "g"\ntreatment = "yield"\nprocess = "a-very-long-process"\n', 'f.toml: profile[0].group[0].process: must be at most 15 bytes, as the kernel stores a thread name (got 19 bytes; write the truncated name) (got "a-very-long-process")'],
    ['a multi-byte name over 15 bytes', '[[profile]]\nname = "x"\n[[profile.group]]\nname = "g"\ntreatment = "yield"\nthreads = ["ééééééééé"]\n', 'f.toml: profile[0].group[0].threads[0]: must be at most 15 bytes, as the kernel stores a thread name (got 18 bytes; write the truncated name) (got "ééééééééé")'],
    ['more thread names than a layer has OR blocks', `[[profile]]\nname = "x"\n[[profile.group]]\nname = "g"\ntreatment = "yield"\nthreads = [${Array.from({ length: 33 }, (_, i) => `"t${String(i).padStart(2, '0')}"`).join(', ')}]\n`, 'f.toml: profile[0].group[0].threads: must have at most 32 items (got 33)'],
    ['a group that holds every thread overlapping another', '[[profile]]\nname = "x"\n[[profile.group]]\nname = "all"\ntreatment = "yield"\nprocess = "java"\n[[profile.group]]\nname = "gc"\ntreatment = "latency"\nthreads = ["GC Thread#"]\n', 'f.toml: profile[0].group[1].threads: "GC Thread#" overlaps "" of group all (group[0]): a thread named like both would fall in either, depending on layer order; make the prefixes disjoint or scope them with process'],
  ])('names the bad input: %s', (_what, text, line) => {
    expect(problemsIn(file('f.toml', text))).toEqual([line]);
  });

  it('the same thread prefix in two groups is fine when their processes cannot overlap', () => {
    const text = '[[profile]]\nname = "x"\n[[profile.group]]\nname = "a"\ntreatment = "yield"\nprocess = "envoy"\nthreads = ["wrk:"]\n[[profile.group]]\nname = "b"\ntreatment = "latency"\nprocess = "nginx"\nthreads = ["wrk:"]\n';
    expect(() => parseProfileFiles([file('f.toml', text)])).not.toThrow();
  });

  it('reports TOML syntax errors with file, line and column', () => {
    expect(problemsIn(file('bad.toml', '[[profile]]\nname = = "x"\n'))[0]).toMatch(/^bad\.toml:2:\d+: invalid TOML: /);
  });

  it('two variants of one name, equally specific with overlapping shapes, are ambiguous', () => {
    const variant = (min: number, max: number, smt = '') => `[[profile]]\nname = "app"\nshape = { min_cpus = ${min}, max_cpus = ${max}${smt} }\n`;
    expect(problemsIn(file('a.toml', variant(4, 16)), file('b.toml', variant(8, 20)))).toEqual([
      'b.toml: profile[0].shape: profile app is as specific as a.toml profile[0] and their node shapes overlap, so which one applies would be ambiguous; narrow one of the shapes',
    ]);
    // disjoint shapes, different specificity, or SMT keys that exclude each other are all fine
    expect(() => parseProfileFiles([file('a.toml', variant(4, 16)), file('b.toml', variant(17, 29))])).not.toThrow();
    expect(() => parseProfileFiles([file('a.toml', variant(4, 16)), file('b.toml', variant(4, 8))])).not.toThrow();
    expect(() => parseProfileFiles([file('a.toml', variant(4, 16, ', smt = true')), file('b.toml', variant(4, 16, ', smt = false'))])).not.toThrow();
  });
});

describe('profilesForNode: files override built-ins, the most specific shape wins', () => {
  const variants = file('mysql.toml', `
[[profile]]
name = "mysql-innodb"
description = "any node"
[[profile]]
name = "mysql-innodb"
description = "SMT nodes"
shape = { smt = true }
[[profile]]
name = "mysql-innodb"
description = "8-16 CPU SMT nodes"
shape = { min_cpus = 8, max_cpus = 16, smt = true }
[[profile]]
name = "mysql-innodb"
description = "4-64 CPU SMT nodes"
shape = { min_cpus = 4, max_cpus = 64, smt = true }
[[profile]]
name = "big-only"
shape = { min_cpus = 64 }
`);
  const catalog = parseProfileFiles([variants]);
  const pick = (cpus: number, smt: boolean, name = 'mysql-innodb') => profilesForNode(catalog, { cpus, smt }).find((r) => r.profile.name === name);

  it.each([
    [8, true, '8-16 CPU SMT nodes'],
    [16, true, '8-16 CPU SMT nodes'],
    [32, true, '4-64 CPU SMT nodes'],
    [128, true, 'SMT nodes'],
    [8, false, 'any node'],
  ])('%i CPUs, SMT %s: %s', (cpus, smt, description) => {
    expect(pick(cpus, smt)?.profile.description).toBe(description);
  });

  it('says why in words', () => {
    expect(pick(8, true)?.why).toBe('mysql.toml profile[2] (for 8–16 CPUs, SMT, the most specific of 4 variants that fit), overriding the built-in');
    expect(pick(2, false)?.why).toBe('mysql.toml profile[0] (for any node), overriding the built-in');
  });

  it('a file variant for other shapes leaves the built-in in effect', () => {
    const c = parseProfileFiles([file('redis.toml', '[[profile]]\nname = "redis"\nshape = { min_cpus = 32 }\n')]);
    const small = profilesForNode(c, { cpus: 8, smt: false }).find((r) => r.profile.name === 'redis');
    expect(small?.profile.builtin).toBe(true);
    expect(small?.why).toBe('built-in (no variant in the profile files fits this node: 8 CPUs, no SMT)');
    expect(profilesForNode(c, { cpus: 32, smt: false }).find((r) => r.profile.name === 'redis')?.profile.builtin).toBe(false);
  });

  it('a name with no variant for the node is not in effect there; the list is sorted by name', () => {
    expect(pick(8, false, 'big-only')).toBeUndefined();
    const names = profilesForNode(catalog, { cpus: 64, smt: false }).map((r) => r.profile.name);
    expect(names).toEqual([...names].sort());
    expect(names).toContain('big-only');
  });

  it('describes shapes', () => {
    expect(describeShape({ minCpus: null, maxCpus: null, smt: null })).toBe('any node');
    expect(describeShape({ minCpus: 4, maxCpus: null, smt: false })).toBe('≥ 4 CPUs, no SMT');
    expect(describeShape({ minCpus: null, maxCpus: 8, smt: null })).toBe('≤ 8 CPUs');
    expect(describeShape({ minCpus: 8, maxCpus: 8, smt: true })).toBe('8 CPUs, SMT');
  });
});

describe('groupOfThread', () => {
  const builtin = (name: string) => {
    const p = builtinProfileCatalog().builtins.find((x) => x.name === name);
    if (p === undefined) throw new Error(name);
    return p;
  };
  const thread = (comm: string, pcomm = comm, title: string | null = null) => ({ comm, pcomm, title });

  it.each([
    ['mysql-innodb', thread('connection', 'mysqld'), 'connections'],
    ['mysql-innodb', thread('ib_io_wr-3', 'mysqld'), 'innodb-io'],
    ['mysql-innodb', thread('ib_pg_flush_co', 'mysqld'), 'innodb-io'],
    ['mysql-innodb', thread('ib_srv_purge', 'mysqld'), 'housekeeping'],
    ['mysql-innodb', thread('ib_srv_wkr-1', 'mysqld'), 'housekeeping'],
    ['mysql-innodb', thread('evt_sched', 'mysqld'), null],
    ['mysql-innodb', thread('connection', 'mariadbd'), null],
    ['mysql-innodb', thread('mysqld', 'mysqld'), null],
    ['redis', thread('redis-server', 'redis-server', '/usr/local/bin/redis-server *:6379'), 'event-loop'],
    ['redis', thread('redis-server', 'redis-server', 'redis-rdb-bgsave 127.0.0.1:6379'), 'snapshots'],
    ['redis', thread('bio_aof', 'redis-server'), 'aof-fsync'],
    ['redis', thread('bio_lazy_free', 'redis-server'), 'background-io'],
    ['envoy', thread('wrk:worker_0', 'envoy'), 'workers'],
    ['envoy', thread('dog:main', 'envoy'), 'watchdogs'],
    ['envoy', thread('envoy', 'envoy'), null],
    ['cassandra', thread('Native-Transpor', 'java'), 'requests'],
    ['cassandra', thread('GC Thread#3', 'java'), 'requests'],
    ['cassandra', thread('CompactionExecutor:2', 'java'), 'compaction'],
    ['cassandra', thread('G1 Conc#0', 'java'), null],
    ['kafka', thread('data-plane-kafka-request-handler-1', 'java'), 'requests'],
    ['kafka', thread('ReplicaFetcherThread-0-1', 'java'), 'replication'],
    ['postgresql', thread('postgres', 'postgres', 'postgres: walwriter'), 'wal'],
    ['postgresql', thread('postgres', 'postgres', 'postgres: main: autovacuum worker'), 'maintenance'],
    ['postgresql', thread('postgres', 'postgres', 'postgres: app shop 10.0.0.5(5432) idle'), null],
    ['postgresql', thread('postgres', 'postgres', null), null],
    ['pytorch-dataloader', thread('pt_data_worker', 'pt_data_worker'), 'data-workers'],
    ['pytorch-dataloader', thread('pt_autograd_0', 'python3'), 'feed'],
    ['pytorch-dataloader', thread('pt_tcpstore', 'python3'), 'housekeeping'],
  ])('%s: %j is in %s', (profile, t, group) => {
    expect(groupOfThread(builtin(profile), t)?.name ?? null).toBe(group);
  });

  it('compares names as the kernel keeps them, cut to 15 bytes', () => {
    expect(groupOfThread(builtin('cassandra'), thread('Native-Transport-Requests-1', 'java'))?.name).toBe('requests');
  });
});

describe('listing (kubectl temper profiles)', () => {
  it('lists every variant by name, the built-in first, each group with its selectors in words', () => {
    const c = parseProfileFiles([file('redis.toml', '[[profile]]\nname = "redis"\nshape = { min_cpus = 32 }\n[[profile.group]]\nname = "all"\ntreatment = "latency"\nprocess = "redis-server"\n')]);
    const rows = profileRows(c);
    expect(rows.map((r) => [r.name, r.source, r.shape])).toEqual([
      ['cassandra', 'built-in', 'any node'], ['envoy', 'built-in', 'any node'], ['kafka', 'built-in', 'any node'], ['mysql-innodb', 'built-in', 'any node'],
      ['postgresql', 'built-in', 'any node'], ['pytorch-dataloader', 'built-in', 'any node'], ['redis', 'built-in', 'any node'], ['redis', 'redis.toml profile[0]', '≥ 32 CPUs'],
    ]);
    expect(rows.find((r) => r.name === 'mysql-innodb')?.groups).toEqual([
      'connections (exclusive): threads connection*, tp_worker*, tp_connection* of process mysqld*',
      'innodb-io (latency): threads ib_io_wr*, ib_io_rd*, ib_log_*, ib_pg_flush* of process mysqld*',
      'housekeeping (yield): threads ib_srv_purge*, ib_srv_wkr*, ib_src_main*, ib_dict_stats*, ib_buf_dump*, ib_fts* of process mysqld*',
    ]);
    expect(rows.at(-1)?.groups).toEqual(['all (latency): every thread of process redis-server*']);
    expect(rows.find((r) => r.name === 'postgresql')?.groups[0]).toBe('wal (latency): processes whose title contains "walwriter" or "walsender" or "walreceiver"');
  });
});
