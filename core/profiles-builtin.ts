/**
 * The built-in workload profiles, written in the profile-file format and read by the same strict
 * parser as the agent's files (core/profiles.ts); a file profile of the same name overrides one.
 * Thread names are the kernel's comm, cut to 15 bytes, from the sources cited in
 * docs/profiles.md ("Built-in profiles"), which gives each profile's rationale.
 */
export const BUILTIN_PROFILES_TOML = String.raw`
# MySQL >= 8.0.27 exports its thread names to the kernel; older servers name every thread mysqld.
[[profile]]
name = "mysql-innodb"
description = "MySQL/InnoDB: connection threads on whole cores, InnoDB I/O and log threads latency-treated, purge and background work yielding"
images = ["mysql", "*/mysql", "mysql/mysql-server", "percona", "*/percona", "*/percona-server", "*/percona-server-mysql"]

  [[profile.group]]
  name = "connections"
  treatment = "exclusive"
  process = "mysqld"
  threads = ["connection", "tp_worker", "tp_connection"]

  [[profile.group]]
  name = "innodb-io"
  treatment = "latency"
  process = "mysqld"
  threads = ["ib_io_wr", "ib_io_rd", "ib_log_", "ib_pg_flush"]

  [[profile.group]]
  name = "housekeeping"
  treatment = "yield"
  process = "mysqld"
  threads = ["ib_srv_purge", "ib_srv_wkr", "ib_src_main", "ib_dict_stats", "ib_buf_dump", "ib_fts"]

# Every PostgreSQL process keeps the comm "postgres"; only its process title says what it is,
# so these groups are placed by task hints (placement = "hints"), which the agent writes.
[[profile]]
name = "postgresql"
description = "PostgreSQL: WAL writer and senders latency-treated, autovacuum and the background writer yielding; backends keep the tier"
images = ["postgres", "*/postgres", "*/postgresql", "*/postgis"]

  [[profile.group]]
  name = "wal"
  treatment = "latency"
  titles = ["walwriter", "walsender", "walreceiver"]

  [[profile.group]]
  name = "maintenance"
  treatment = "yield"
  titles = ["autovacuum", "background writer"]

[[profile]]
name = "redis"
description = "Redis/Valkey: the event loop and I/O threads on whole cores, AOF fsync latency-treated, lazy free, file closing and snapshots yielding"
images = ["redis", "*/redis", "*/valkey", "*/redis-stack-server"]

  # First: a snapshot child keeps the parent's comm, only its title differs (hints only).
  [[profile.group]]
  name = "snapshots"
  treatment = "yield"
  titles = ["rdb-bgsave", "aof-rewrite"]

  [[profile.group]]
  name = "event-loop"
  treatment = "exclusive"
  threads = ["redis-server", "valkey-server", "io_thd_"]

  [[profile.group]]
  name = "aof-fsync"
  treatment = "latency"
  threads = ["bio_aof"]

  [[profile.group]]
  name = "background-io"
  treatment = "yield"
  threads = ["bio_close_file", "bio_lazy_free"]

[[profile]]
name = "envoy"
description = "Envoy as a gateway: worker threads on whole cores, guard dogs yielding; the main thread keeps the tier"
images = ["envoyproxy/envoy*", "*/envoyproxy/envoy*"]

  [[profile.group]]
  name = "workers"
  treatment = "exclusive"
  process = "envoy"
  threads = ["wrk:"]

  [[profile.group]]
  name = "watchdogs"
  treatment = "yield"
  process = "envoy"
  threads = ["dog:"]

# JVM threads are named by HotSpot, cut to 15 bytes; the launcher's main thread stays "java".
[[profile]]
name = "cassandra"
description = "Cassandra (JVM): request stages and stop-the-world GC on whole cores, memtable flushes latency-treated, compaction and validation yielding"
images = ["cassandra", "*/cassandra", "*/cass-management-api"]

  [[profile.group]]
  name = "requests"
  treatment = "exclusive"
  process = "java"
  threads = ["ReadStage", "MutationStage", "Native-Transpor", "SharedPool-Work", "CounterMutation", "ViewMutationSta", "RequestResponse", "GC Thread#"]

  [[profile.group]]
  name = "flush"
  treatment = "latency"
  process = "java"
  threads = ["MemtableFlushWr", "MemtablePostFlu", "PerDiskMemtable"]

  [[profile.group]]
  name = "compaction"
  treatment = "yield"
  process = "java"
  threads = ["CompactionExecu", "ValidationExecu", "CacheCleanupExe"]

[[profile]]
name = "kafka"
description = "Kafka broker (JVM): request handlers, network threads and stop-the-world GC on whole cores, replica fetchers latency-treated, log cleaner and scheduler yielding"
images = ["apache/kafka*", "*/kafka", "*/cp-kafka", "*/cp-server"]

  [[profile.group]]
  name = "requests"
  treatment = "exclusive"
  process = "java"
  threads = ["data-plane-kafk", "kafka-request-h", "kafka-network-t", "GC Thread#"]

  [[profile.group]]
  name = "replication"
  treatment = "latency"
  process = "java"
  threads = ["ReplicaFetcherT"]

  [[profile.group]]
  name = "housekeeping"
  treatment = "yield"
  process = "java"
  threads = ["kafka-log-clean", "kafka-schedule"]

# PyTorch >= 2.4 names its threads and DataLoader worker processes (pytorch PRs #121170, #128448).
[[profile]]
name = "pytorch-dataloader"
description = "PyTorch training: DataLoader workers on whole cores so the GPU stays fed, autograd and pin-memory threads latency-treated, elastic agent and TCPStore yielding"
images = ["pytorch/pytorch", "*/pytorch"]

  [[profile.group]]
  name = "data-workers"
  treatment = "exclusive"
  threads = ["pt_data_worker"]

  [[profile.group]]
  name = "feed"
  treatment = "latency"
  threads = ["pt_autograd_", "pt_data_pin"]

  [[profile.group]]
  name = "housekeeping"
  treatment = "yield"
  threads = ["pt_elastic", "pt_tcpstore"]
`;
