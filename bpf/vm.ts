// Boots the pinned sched_ext kernel under qemu (TCG) with a busybox initramfs that carries the
// pinned scx_layered, and runs a shell script in it as /init's payload.
//
// Prerequisites (cached under ${TEMPER_CACHE:-~/.cache/temper}): bpf/install-scx.sh and
// bpf/install-kernel.sh. vmAvailability() says what is missing.
//
// Guest layout: busybox applets in /bin, /bin/scx_layered (+ its shared libraries),
// /bin/scx-stats (stats socket client, see scx-stats.c), /bin/workload (and /bin/kubelet, the
// same binary: nap/hog/probe/threads/watch, see workload.c), /bin/scx-matches (task -> layer map, see
// scx-matches.c); proc, sysfs, devtmpfs, cgroup2 at
// /sys/fs/cgroup, debugfs, tracefs, bpffs and a tmpfs /tmp are mounted before the payload runs.
// Also /bin/temper-hints (writes and reads scx_layered task hints, see temper-hints.c), and with
// `node`, /bin/node and repository sources under /opt/temper (see RunInVmOptions.node).
// The payload's stdout/stderr go to the serial console; the last line it leaves is
// `TEMPER-VM-EXIT rc=<code>`.

import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, writeFileSync, rmSync, statSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { dirname, join, posix, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const here = dirname(fileURLToPath(import.meta.url));

export const EXIT_SENTINEL = "TEMPER-VM-EXIT rc=";
export const BOOT_SENTINEL = "TEMPER-VM-BOOTED uptime=";

export interface RunInVmOptions {
  /** Extra guest files: absolute guest path -> content. Files starting with "#!" are made executable. */
  files?: Record<string, string | Uint8Array>;
  /** Shell script (busybox sh) run as /init's payload; its exit code is reported. */
  script: string;
  /** Host-side limit for the whole VM run (boot included). Default 180 s. */
  timeoutMs?: number;
  /** Extra kernel command line. */
  append?: string;
  /**
   * TCG threading. "multi" (one host thread per vCPU) is about twice as fast on this 2-core
   * machine, but cross-vCPU code patching races there: enabling sched_ext flips static keys
   * and once in a few runs the other vCPU hit a stale int3 ("Oops: int3" in __schedule, kernel
   * panic). "single" runs both vCPUs on one host thread. Default: $TEMPER_VM_TCG_THREAD or "single".
   */
  tcgThread?: "single" | "multi";
  /** Guest vCPUs (default 2). Under single-threaded TCG more vCPUs share one host thread. */
  smp?: number;
  /** With $TEMPER_VM_LOG_DIR set, the serial output is also written to <dir>/<logName>.log. */
  logName?: string;
  /**
   * Kill the VM when the payload has not started after this long (an early boot hang; see
   * runInVmRetrying). Default: no limit besides timeoutMs.
   */
  bootTimeoutMs?: number;
  /** Pass tsc=reliable (default: under multi-threaded TCG only; see runInVm). */
  tscReliable?: boolean;
  /**
   * Node.js in the guest: /bin/node (the project's own binary, stripped, with its shared
   * libraries; a cached archive, see nodeInitramfs) and these repository TypeScript files with
   * everything they import, under /opt/temper at their repository paths (see guestSources).
   */
  node?: { readonly entries: readonly string[] };
}

export interface RunInVmResult {
  /** Serial console output (CRs removed). */
  output: string;
  /** Payload exit code, or null when the sentinel never appeared (timeout, panic, crash). */
  exitCode: number | null;
  timedOut: boolean;
  /** True when the VM was killed because the payload had not started within bootTimeoutMs. */
  bootHung: boolean;
  /** Guest /proc/uptime when the payload started, in ms. */
  bootMs: number | null;
  /** Host wall time from qemu start until the payload started, in ms. */
  bootWallMs: number | null;
  /** Host wall time of the whole qemu run, in ms. */
  wallMs: number;
  /**
   * The longest time any qemu thread (a vCPU, or the main loop that delivers the guest's timer
   * interrupts) waited continuously on the host's run queue during the run, in ms: how long the
   * host itself froze part of the guest (see hostStallWatcher). 0 when it could not be read.
   */
  hostStallMs: number;
}

/**
 * Watches a process's threads for host-side stalls: every `periodMs` it reads each thread's
 * schedstat (cumulative ns spent runnable but not running). A sample interval in which a thread
 * waited for at least 80% of the interval extends that thread's current stall; any other
 * interval ends it. `stop()` returns the longest stall seen, in ms. Guest latencies under TCG
 * include these stalls, which no guest scheduler can cause or hide.
 */
export function hostStallWatcher(pid: number, periodMs = 10): { stop: () => number } {
  const last = new Map<string, { at: number; wait: number; run: number }>();
  let longest = 0;
  const sample = (): void => {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      return;
    }
    const at = performance.now();
    for (const tid of tids) {
      let wait: number;
      try {
        wait = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[1]) / 1e6;
      } catch {
        continue;
      }
      const prev = last.get(tid);
      const cur = { at, wait, run: 0 };
      if (prev !== undefined && at > prev.at) {
        const stalled = wait - prev.wait >= 0.8 * (at - prev.at);
        cur.run = stalled ? prev.run + (at - prev.at) : 0;
        longest = Math.max(longest, cur.run);
      }
      last.set(tid, cur);
    }
  };
  const timer = setInterval(sample, periodMs);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.round(longest * 10) / 10;
    },
  };
}

export interface VmPaths {
  kernel: string;
  scxLayered: string;
  qemu: string;
  qemuEnv: NodeJS.ProcessEnv;
  /** Firmware directories for -L when qemu was unpacked under the cache instead of installed. */
  qemuDataDirs: string[];
  busybox: string;
  cache: string;
  versions: Record<string, string>;
}

export function cacheDir(): string {
  return process.env.TEMPER_CACHE || join(homedir(), ".cache", "temper");
}

export function readVersions(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(join(here, "VERSIONS"), "utf8").split("\n")) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

function which(cmd: string): string | null {
  for (const d of (process.env.PATH ?? "").split(":")) {
    if (d && existsSync(join(d, cmd))) return join(d, cmd);
  }
  return null;
}

/** Locates everything the VM needs, or explains what is missing. */
export function vmAvailability(): { ok: true; paths: VmPaths } | { ok: false; reason: string } {
  const versions = readVersions();
  const cache = cacheDir();
  const vmtools = join(cache, "vmtools", "root");
  const kernel = join(cache, "kernel", versions.KERNEL_ABI ?? "?", "vmlinuz");
  const scxLayered = join(cache, "scx", versions.SCX_LAYERED_VERSION ?? "?", "bin", "scx_layered");
  let qemu = which("qemu-system-x86_64");
  let qemuEnv: NodeJS.ProcessEnv = process.env;
  let qemuDataDirs: string[] = [];
  if (!qemu && existsSync(join(vmtools, "usr/bin/qemu-system-x86_64"))) {
    qemu = join(vmtools, "usr/bin/qemu-system-x86_64");
    qemuEnv = { ...process.env, LD_LIBRARY_PATH: `${vmtools}/lib/x86_64-linux-gnu:${vmtools}/usr/lib/x86_64-linux-gnu` };
    // Debian's qemu looks for firmware in these (its configured firmware path)
    qemuDataDirs = ["usr/share/qemu", "usr/share/seabios", "usr/lib/ipxe/qemu"].map((d) => join(vmtools, d)).filter((d) => existsSync(d));
  }
  const busybox = ["/bin/busybox", "/usr/bin/busybox", join(vmtools, "bin/busybox")].find((p) => existsSync(p));
  const missing: string[] = [];
  if (!existsSync(kernel)) missing.push(`kernel ${kernel} (run bpf/install-kernel.sh)`);
  if (!existsSync(scxLayered)) missing.push(`scx_layered ${scxLayered} (run bpf/install-scx.sh)`);
  if (!qemu) missing.push("qemu-system-x86_64 (run bpf/install-kernel.sh)");
  if (!busybox) missing.push("busybox-static (run bpf/install-kernel.sh)");
  if (!which("cc") && !which("gcc") && !which("clang-22")) missing.push("a C compiler for the static guest tools (bpf/*.c)");
  if (missing.length) return { ok: false, reason: `missing: ${missing.join("; ")}` };
  return { ok: true, paths: { kernel, scxLayered, qemu: qemu!, qemuEnv, qemuDataDirs, busybox: busybox!, cache, versions } };
}

/**
 * Whether missing VM prerequisites are a failure rather than a reason to skip:
 * TEMPER_REQUIRE_VM=1 (CI sets it, so a broken runner cannot pass the kernel suite by skipping).
 */
export function vmRequired(): boolean {
  return process.env.TEMPER_REQUIRE_VM === "1";
}

// ---- initramfs ------------------------------------------------------------------------------

interface CpioEntry {
  path: string; // without leading "/"
  mode: number; // full st_mode
  data: Uint8Array;
  rdev?: [number, number];
}

/** Serialises entries as a "newc" cpio archive (with trailer). */
function cpioNewc(entries: CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  const pad4 = (n: number) => Buffer.alloc((4 - (n % 4)) % 4);
  const hex = (n: number) => n.toString(16).padStart(8, "0");
  let ino = 1;
  const add = (name: string, mode: number, data: Uint8Array, rdev: [number, number] = [0, 0]) => {
    const nameBuf = Buffer.from(name + "\0");
    const fields = [ino++, mode, 0, 0, 1, 0, data.length, 0, 0, rdev[0], rdev[1], nameBuf.length, 0];
    const header = Buffer.from("070701" + fields.map(hex).join(""));
    parts.push(header, nameBuf, pad4(header.length + nameBuf.length), Buffer.from(data), pad4(data.length));
  };
  const dirs = new Set<string>();
  for (const e of entries) {
    const segs = e.path.split("/");
    for (let i = 1; i < segs.length; i++) {
      const d = segs.slice(0, i).join("/");
      if (!dirs.has(d)) {
        dirs.add(d);
        add(d, 0o040755, new Uint8Array());
      }
    }
    add(e.path, e.mode, e.data, e.rdev);
  }
  add("TRAILER!!!", 0, new Uint8Array());
  return Buffer.concat(parts);
}

const INIT = `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/sbin LD_LIBRARY_PATH=/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu HOME=/root
mkdir -p /proc /sys /dev /tmp /run /var /root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t debugfs debugfs /sys/kernel/debug
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t bpf bpf /sys/fs/bpf
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
ln -sf /run /var/run
echo; echo "${BOOT_SENTINEL}$(cut -d' ' -f1 /proc/uptime)"
/bin/sh /payload.sh </dev/null
rc=$?
sync
echo "${EXIT_SENTINEL}$rc"
poweroff -f
`;

function libsOf(bin: string): string[] {
  const out = execFileSync("ldd", [bin], { encoding: "utf8" });
  const libs: string[] = [];
  for (const line of out.split("\n")) {
    const m = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m) libs.push(m[1]!);
  }
  return libs;
}

/** Builds a static guest tool from bpf/<name>.c (cached by source hash). */
function buildGuestTool(cache: string, name: string): string {
  const src = readFileSync(join(here, `${name}.c`));
  const h = createHash("sha256").update(src).digest("hex").slice(0, 12);
  const out = join(cache, "vm", `${name}-${h}`);
  if (!existsSync(out)) {
    mkdirSync(dirname(out), { recursive: true });
    const cc = which("cc") ?? which("gcc") ?? which("clang-22");
    if (!cc) throw new Error(`no C compiler to build bpf/${name}.c`);
    execFileSync(cc, ["-static", "-O2", "-o", out + ".tmp", join(here, `${name}.c`)], { stdio: "inherit" });
    execFileSync("mv", [out + ".tmp", out]);
  }
  return out;
}

/** Builds (once, cached by content) the gzip'd base initramfs. */
export function baseInitramfs(paths: VmPaths): string {
  const entries: CpioEntry[] = [];
  const addFile = (guest: string, host: string, mode = 0o100755) =>
    entries.push({ path: guest.replace(/^\//, ""), mode, data: readFileSync(host) });
  addFile("/bin/busybox", paths.busybox);
  addFile("/bin/scx_layered", paths.scxLayered);
  addFile("/bin/scx-stats", buildGuestTool(paths.cache, "scx-stats"));
  // nap/hog/probe/threads/watch workloads (bpf/workload.c); as /bin/kubelet it has comm "kubelet"
  const workload = buildGuestTool(paths.cache, "workload");
  addFile("/bin/workload", workload);
  addFile("/bin/kubelet", workload);
  addFile("/bin/temper-agent", workload); // comm "temper-agent": the system layer's PcommPrefix
  // per-task layer map of a scheduler started with --enable-match-debug (bpf/scx-matches.c)
  addFile("/bin/scx-matches", buildGuestTool(paths.cache, "scx-matches"));
  // writes and reads scx_layered task hints (--task-hint-map; bpf/temper-hints.c, also in the agent image)
  addFile("/bin/temper-hints", buildGuestTool(paths.cache, "temper-hints"));
  for (const lib of libsOf(paths.scxLayered)) addFile(lib, lib);
  // libbpf resolves the BPF object's CONFIG_* externs from /boot/config-$(uname -r) or
  // /proc/config.gz; this kernel has no IKCONFIG_PROC, and without the file the skeleton load
  // fails with "libbpf: failed to open system Kconfig" / "Failed to load BPF program: EINVAL".
  const kconfig = join(dirname(paths.kernel), "config");
  if (existsSync(kconfig)) addFile(`/boot/config-${paths.versions.KERNEL_ABI}`, kconfig, 0o100644);
  entries.push({ path: "init", mode: 0o100755, data: Buffer.from(INIT) });
  for (const d of ["proc", "sys", "dev", "tmp", "run", "root", "etc"]) entries.push({ path: d, mode: 0o040755, data: new Uint8Array() });
  entries.push({ path: "dev/console", mode: 0o020600, data: new Uint8Array(), rdev: [5, 1] });
  const h = createHash("sha256");
  for (const e of entries) h.update(e.path).update(e.data);
  const out = join(paths.cache, "vm", `base-${h.digest("hex").slice(0, 16)}.cpio.gz`);
  if (!existsSync(out)) {
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out + ".tmp", gzipSync(cpioNewc(entries), { level: 6 }));
    execFileSync("mv", [out + ".tmp", out]);
  }
  return out;
}

// ---- Node.js in the guest -------------------------------------------------------------------

const repo = join(here, "..");
export const GUEST_REPO = "/opt/temper";

/**
 * The project's Node binary (node_modules/node, stripped: 108 of its 126 MB are code) and its
 * shared libraries at their host paths, as a gzip'd cpio archive cached by the binary's content.
 */
export function nodeInitramfs(paths: VmPaths): string {
  const bin = realpathSync(join(repo, "node_modules/node/bin/node"));
  const h = createHash("sha256").update(readFileSync(bin));
  for (const lib of libsOf(bin)) h.update(lib).update(readFileSync(lib));
  const out = join(paths.cache, "vm", `node-${h.digest("hex").slice(0, 16)}.cpio.gz`);
  if (!existsSync(out)) {
    mkdirSync(dirname(out), { recursive: true });
    execFileSync("strip", ["-o", out + ".bin", bin]);
    const entries: CpioEntry[] = [{ path: "bin/node", mode: 0o100755, data: readFileSync(out + ".bin") }];
    for (const lib of libsOf(bin)) entries.push({ path: lib.slice(1), mode: 0o100755, data: readFileSync(lib) });
    writeFileSync(out + ".tmp", gzipSync(cpioNewc(entries), { level: 1 }));
    rmSync(out + ".bin");
    execFileSync("mv", [out + ".tmp", out]);
  }
  return out;
}

// static imports and exports (type-only ones too: copying a file never loaded costs nothing)
const SPECIFIER = /(?:^|[\s;])(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]/gm;

/**
 * Guest files for `entries` (repository-relative .ts) and every repository file they import,
 * at GUEST_REPO/<path>, plus each npm package they import (copied whole; one without
 * dependencies of its own, or this throws) and a package.json making .ts files ES modules.
 */
export function guestSources(entries: readonly string[]): Record<string, Uint8Array> {
  const files: Record<string, Uint8Array> = { [`${GUEST_REPO}/package.json`]: Buffer.from('{"type":"module"}\n') };
  const packages = new Set<string>();
  const todo = entries.map((e) => join(repo, e));
  for (let f = todo.pop(); f !== undefined; f = todo.pop()) {
    const guest = posix.join(GUEST_REPO, relative(repo, f));
    if (guest in files) continue;
    const text = readFileSync(f);
    files[guest] = text;
    for (const m of text.toString("utf8").matchAll(SPECIFIER)) {
      const spec = m[1] ?? m[2]!;
      if (spec.startsWith(".")) todo.push(join(dirname(f), spec));
      else if (!spec.startsWith("node:")) packages.add(spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!);
    }
  }
  for (const pkg of packages) {
    const dir = join(repo, "node_modules", pkg);
    const meta = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { dependencies?: Record<string, string> };
    if (Object.keys(meta.dependencies ?? {}).length > 0) throw new Error(`guestSources: package ${pkg} has dependencies; only self-contained packages are copied`);
    const walk = (d: string): void => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(d, e.name));
        else if (e.isFile()) files[posix.join(GUEST_REPO, relative(repo, join(d, e.name)))] = readFileSync(join(d, e.name));
      }
    };
    walk(dir);
  }
  return files;
}

// ---- run ------------------------------------------------------------------------------------

const running = new Set<ChildProcess>();
process.on("exit", () => {
  for (const p of running) p.kill("SIGKILL");
});

export async function runInVm(opts: RunInVmOptions): Promise<RunInVmResult> {
  const avail = vmAvailability();
  if (!avail.ok) throw new Error(`VM unavailable: ${avail.reason}`);
  const paths = avail.paths;
  const base = baseInitramfs(paths);
  const archives = [readFileSync(base)];
  if (opts.node) archives.push(readFileSync(nodeInitramfs(paths)));
  const files = { ...(opts.node ? guestSources(opts.node.entries) : {}), ...opts.files };
  const extra: CpioEntry[] = [{ path: "payload.sh", mode: 0o100755, data: Buffer.from(opts.script) }];
  for (const [p, content] of Object.entries(files)) {
    if (!posix.isAbsolute(p)) throw new Error(`guest path must be absolute: ${p}`);
    const data = typeof content === "string" ? Buffer.from(content) : content;
    const exec = data[0] === 0x23 && data[1] === 0x21; // "#!"
    extra.push({ path: p.slice(1), mode: exec ? 0o100755 : 0o100644, data });
  }
  // The kernel unpacks concatenated (separately compressed) cpio archives in order.
  const initrd = join(tmpdir(), `temper-vm-${process.pid}-${Date.now()}.cpio.gz`);
  writeFileSync(initrd, Buffer.concat([...archives, gzipSync(cpioNewc(extra))]));

  const thread = opts.tcgThread ?? process.env.TEMPER_VM_TCG_THREAD ?? "single";
  // Under multi-threaded TCG each vCPU is a host thread that the host can deschedule, so the
  // kernel's clocksource watchdog may judge the TSC unstable and switch to a slow emulated
  // clocksource mid-run; a previous session needed tsc=reliable there (with it, every 2026-12-02
  // run kept "tsc"; a run without it was not repeated).
  const threadAppend = opts.tscReliable ?? thread === "multi" ? "tsc=reliable" : "";
  const args = [
    "-accel", `tcg,thread=${thread}`, "-smp", String(opts.smp ?? 2), "-m", "2048", "-nographic", "-no-reboot", "-nic", "none",
    "-kernel", paths.kernel, "-initrd", initrd,
    "-append", `console=ttyS0 quiet loglevel=4 panic=-1 mitigations=off ${threadAppend} ${opts.append ?? ""}`.trim(),
  ];
  for (const d of paths.qemuDataDirs) args.push("-L", d);
  const timeoutMs = opts.timeoutMs ?? 180_000;
  const started = Date.now();
  const child = spawn(paths.qemu, args, { env: paths.qemuEnv, stdio: ["ignore", "pipe", "pipe"] });
  running.add(child);
  const stalls = child.pid === undefined ? { stop: () => 0 } : hostStallWatcher(child.pid);
  const chunks: Buffer[] = [];
  let bootWallMs: number | null = null;
  let tail = "";
  child.stdout.on("data", (c: Buffer) => {
    chunks.push(c);
    if (bootWallMs === null) {
      tail = (tail + c.toString("latin1")).slice(-200);
      if (tail.includes(BOOT_SENTINEL)) bootWallMs = Date.now() - started;
    }
  });
  child.stderr.on("data", (c: Buffer) => chunks.push(c));
  let timedOut = false;
  let bootHung = false;
  let hostStallMs: number;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, timeoutMs);
  const bootTimer = opts.bootTimeoutMs === undefined ? undefined : setTimeout(() => {
    if (bootWallMs !== null) return;
    bootHung = true;
    child.kill("SIGKILL");
  }, opts.bootTimeoutMs);
  try {
    await new Promise<void>((resolve, reject) => {
      child.on("error", reject);
      child.on("close", () => resolve());
    });
  } finally {
    clearTimeout(timer);
    if (bootTimer !== undefined) clearTimeout(bootTimer);
    hostStallMs = stalls.stop();
    running.delete(child);
    rmSync(initrd, { force: true });
  }
  // drop CRs and the terminal control sequences SeaBIOS/the kernel emit
  // eslint-disable-next-line no-control-regex
  const output = Buffer.concat(chunks).toString("utf8").replace(/\r/g, "").replace(/\x1b(?:\[[0-9;?]*[A-Za-z]|c)/g, "");
  if (process.env.TEMPER_VM_LOG_DIR && opts.logName) {
    mkdirSync(process.env.TEMPER_VM_LOG_DIR, { recursive: true });
    writeFileSync(join(process.env.TEMPER_VM_LOG_DIR, `${opts.logName}.log`), output);
  }
  const exitMatch = new RegExp(`^${EXIT_SENTINEL}(\\d+)$`, "m").exec(output);
  const bootMatch = new RegExp(`^${BOOT_SENTINEL}([\\d.]+)$`, "m").exec(output);
  return {
    output,
    exitCode: exitMatch ? Number(exitMatch[1]) : null,
    timedOut,
    bootHung,
    bootMs: bootMatch ? Math.round(Number(bootMatch[1]) * 1000) : null,
    bootWallMs,
    wallMs: Date.now() - started,
    hostStallMs,
  };
}

/**
 * Why a failed run is the emulator's fault rather than the guest's: multi-threaded TCG patches
 * code across vCPUs racily, so when sched_ext flips its static keys another vCPU can execute a
 * stale int3 ("Oops: int3", kernel panic), and a boot can hang before /init. null when the run
 * finished or failed for another reason (those are never retried).
 */
export function emulatorFailure(r: RunInVmResult): string | null {
  if (r.exitCode !== null) return null;
  if (r.bootHung) return "boot hang before /init";
  if (!r.timedOut && /Oops: int3|Kernel panic/.test(r.output)) return /Oops: int3/.test(r.output) ? "kernel panic: stale int3" : "kernel panic";
  return null;
}

/**
 * runInVm, booted again (at most `attempts` times in all) when the run failed for an emulator
 * reason (emulatorFailure). A boot that has not reached /init within 90 s is counted as hung
 * (boots take 4–10 s). Returns the last run and the reasons of the retried ones.
 */
export async function runInVmRetrying(opts: RunInVmOptions, attempts = 3): Promise<RunInVmResult & { retries: string[] }> {
  const retries: string[] = [];
  for (;;) {
    const r = await runInVm({ bootTimeoutMs: 90_000, ...opts });
    const why = emulatorFailure(r);
    if (why === null || retries.length + 1 >= attempts) return { ...r, retries };
    retries.push(why);
  }
}

// `node bpf/vm.ts 'script'` runs a one-off script (handy when debugging).
if (process.argv[1] && statSync(process.argv[1], { throwIfNoEntry: false })?.ino === statSync(fileURLToPath(import.meta.url)).ino) {
  const r = await runInVm({ script: process.argv[2] ?? "uname -a; cat /sys/kernel/sched_ext/state", timeoutMs: 300_000, smp: Number(process.env.TEMPER_VM_SMP ?? 2) });
  process.stdout.write(r.output);
  console.error(`exitCode=${r.exitCode} timedOut=${r.timedOut} bootMs=${r.bootMs} bootWallMs=${r.bootWallMs} wallMs=${r.wallMs}`);
  process.exit(r.exitCode ?? 1);
}
