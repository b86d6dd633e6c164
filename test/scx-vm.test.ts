// scx_layered in a real sched_ext kernel: boots the pinned Debian kernel under qemu (TCG) with
// the pinned scx_layered (bpf/vm.ts), loads a kubelet-shaped config and checks that the kernel
// reports it enabled and that the pod's task lands in its layer; then checks that an invalid
// config is rejected. Needs bpf/install-scx.sh and bpf/install-kernel.sh to have run; skips
// (saying why) only when the kernel, the binary or qemu are missing and TEMPER_REQUIRE_VM is
// not 1; with TEMPER_REQUIRE_VM=1 (CI) missing prerequisites fail.
import { beforeAll, describe, expect, it } from 'vitest';
import { runInVm, vmAvailability, vmRequired, type RunInVmResult } from '../bpf/vm.ts';

const avail = vmAvailability();
const required = vmRequired();
if (!avail.ok && !required) console.warn(`scx-vm.test.ts skipped: ${avail.reason} (TEMPER_REQUIRE_VM=1 makes this a failure)`);

describe.runIf(!avail.ok && required)('sched_ext VM prerequisites', () => {
  it('are installed (TEMPER_REQUIRE_VM=1)', () => {
    expect.fail(`the kernel suite must run but cannot: ${avail.ok ? '' : avail.reason}`);
  });
});

const uid = '0f1e2d3c_4b5a_4968_8776_a5b4c3d2e1f0';
const podSlice = `kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${uid}.slice`;

const valid = [
  { name: 'system', matches: [[{ PcommPrefix: 'scx_layered' }]],
    kind: { Grouped: { util_range: [0.0, 0.5], cpus_range: [1, 1], preempt: true, slice_us: 5000 } } },
  { name: 'normal', matches: [[{ CgroupPrefix: `${podSlice}/` }]],
    kind: { Grouped: { util_range: [0.6, 0.9], cpus_range: [1, 2], slice_us: 20000 } } },
  { name: 'catchall', matches: [[]], kind: { Open: { slice_us: 20000 } } },
];
const invalid = [
  { name: 'wide', matches: Array.from({ length: 33 }, (_, i) => [{ CgroupPrefix: `p${i}/` }]),
    kind: { Grouped: { util_range: [0.1, 0.9] } } },
  { name: 'catchall', matches: [[]], kind: { Open: {} } },
];

const script = String.raw`
CG=/sys/fs/cgroup/${podSlice}/cri-containerd-test.scope
mkdir -p $CG
sh -c "echo \$\$ > $CG/cgroup.procs; while :; do :; done" &
scx_layered f:/valid.json > /tmp/valid.log 2>&1 &
SCX=$!
for i in $(seq 1 1200); do
  [ "$(cat /sys/kernel/sched_ext/state)" = enabled ] && break
  kill -0 $SCX 2>/dev/null || break
  sleep 0.1
done
echo "STATE=$(cat /sys/kernel/sched_ext/state)"
echo "OPS=$(cat /sys/kernel/sched_ext/root/ops 2>/dev/null)"
echo "STATS=$(scx-stats -n 2 -i 2 | tail -1)"
kill -INT $SCX; wait $SCX
echo "VALID-RC=$?"
scx_layered f:/invalid.json > /tmp/invalid.log 2>&1
echo "INVALID-RC=$? STATE=$(cat /sys/kernel/sched_ext/state)"
grep '^Error' /tmp/invalid.log
`;

describe.skipIf(!avail.ok)('scx_layered in a sched_ext VM', () => {
  let r: RunInVmResult;
  const line = (key: string): string => new RegExp(`^${key}=(.*)$`, 'm').exec(r.output)?.[1] ?? '';

  beforeAll(async () => {
    r = await runInVm({
      files: { '/valid.json': JSON.stringify(valid), '/invalid.json': JSON.stringify(invalid) },
      script,
      timeoutMs: 420_000,
      logName: 'scx-vm',
    });
    if (r.exitCode !== 0) console.error(r.output.slice(-5000));
  }, 450_000);

  it('boots and runs the script to the end', () => {
    expect(r.timedOut).toBe(false);
    expect(r.exitCode).toBe(0);
  });

  it('loads a valid config: sched_ext enabled with the layered ops', () => {
    expect(line('STATE')).toBe('enabled');
    expect(line('OPS')).toMatch(/^layered/);
  });

  it('puts the pod cgroup task into its CgroupPrefix layer', () => {
    const resp = JSON.parse(line('STATS')) as {
      errno: number;
      args: { resp: { layers: Record<string, { tasks: number }> } };
    };
    expect(resp.errno).toBe(0);
    expect(Object.keys(resp.args.resp.layers).sort()).toEqual(['catchall', 'normal', 'system']);
    expect(resp.args.resp.layers.normal?.tasks).toBeGreaterThanOrEqual(1);
    expect(resp.args.resp.layers.system?.tasks).toBeGreaterThanOrEqual(1);
  });

  it('unloads cleanly on SIGINT', () => {
    expect(line('VALID-RC')).toBe('0');
  });

  it('rejects an invalid config (33 OR blocks) without enabling sched_ext', () => {
    expect(r.output).toMatch(/^INVALID-RC=1 STATE=disabled$/m);
    expect(r.output).toContain('Error: Spec "wide" has too many (33) OR match blocks');
  });
});
