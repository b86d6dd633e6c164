// `npm run demo:kernel`: enforcement for real. A local control plane with the example pods, the
// real node agent for the demo node rendering their config, then the sched_ext kernel under qemu
// (bpf/vm.ts) where the real scx_layered loads exactly the agent's config, with one task in each
// example pod's cgroup (the kubelet's path for the pod's uid), and scx_layered's own per-layer
// counts and per-task records show every pod's task in its tier's layer.
//
// Needs the kernel harness (bpf/install-scx.sh, bpf/install-kernel.sh; `npm install-ci-test`
// installs both). Hold the VM lock when other VMs may run: flock /tmp/temper-vm.lock npm run demo:kernel
import { CoreV1Api } from '@kubernetes/client-node';
import { GUEST_LIB, containerCgroupName, fieldsOf, linesAfter, parseLayerStats } from '../bpf/guest.ts';
import { runInVm, vmAvailability } from '../bpf/vm.ts';
import { defaultPolicy } from '../core/config.ts';
import { podCgroupPath } from '../core/layers.ts';
import type { QosClass } from '../core/types.ts';
import { startControlPlane } from '../dev/controlplane/controlplane.ts';
import { ensureK8sBinaries } from '../dev/controlplane/install-k8s.ts';
import { startAgentProcess, until } from '../dev/harness/agent.ts';
import { createExamplePods } from '../dev/harness/examples.ts';
import { installPriorityClasses } from '../dev/harness/webhook.ts';

const say = (s: string): void => { process.stdout.write(s); };
const policy = defaultPolicy();
/** Each pod task naps this long between wake-ups, so scx_layered re-matches it soon. */
const NAP_US = 100_000;
const HOLD_S = 2;

const avail = vmAvailability();
if (!avail.ok) {
  process.stderr.write(`demo:kernel needs the sched_ext kernel harness: ${avail.reason}\n(run npm install-ci-test, or bash bpf/install-scx.sh && bash bpf/install-kernel.sh)\n`);
  process.exit(1);
}

interface Row { namespace: string; name: string; uid: string; tier: string; layer: string; qosClass: QosClass; hint: number | null }
/** Where the agent has scx_layered pin its task-hint map (agent/hints.ts DEFAULT_TASK_HINT_MAP). */
const PIN = '/sys/fs/bpf/temper/hints';

say('Temper kernel demo: control plane, example pods and the node agent...\n');
const cp = await startControlPlane({ binaries: await ensureK8sBinaries() });
let agent: Awaited<ReturnType<typeof startAgentProcess>> | undefined;
let cpRunning = true;
let code = 1;
try {
  await installPriorityClasses(cp.kc, policy);
  const created = await createExamplePods(cp.kc, cp.nodeName);
  agent = await startAgentProcess({ kubeconfig: cp.kubeconfigPath, nodeName: cp.nodeName });
  const api = async <T>(path: string): Promise<T> => await (await fetch(`${agent?.url ?? ''}${path}`)).json() as T;
  const pods = await until(`the agent to place all ${created} pods`, async () => {
    const p = await api<Row[]>('/api/v1/pods');
    return p.length >= created ? p : undefined;
  });
  const generation = await api<{ number: number; sha256: string; configJson: string }>('/api/v1/config');
  const cpus = (await cp.kc.makeApiClient(CoreV1Api).readNode({ name: cp.nodeName })).status?.capacity?.cpu ?? '2';
  const layers = (JSON.parse(generation.configJson) as { name: string }[]).map((l) => l.name);
  say(`The agent rendered generation ${generation.number} (sha256 ${generation.sha256.slice(0, 12)}…) for ${pods.length} pods on ${cp.nodeName} (${cpus} CPUs): layers ${layers.join(', ')}\n`);
  // The servers are done: the VM needs the CPUs.
  await agent.stop();
  agent = undefined;
  await cp.stop();
  cpRunning = false;

  // One napping task per pod, in the container cgroup kubelet would make under the pod's cgroup.
  const driver = policy.node.cgroupDriver;
  const tasks = pods.map((p, i) => ({ i, pod: p, podDir: podCgroupPath(driver, p.qosClass, p.uid).replace(/\/$/, ''), ctr: containerCgroupName(driver, p.uid, 'app') }));
  // placement "hints" (the default): once scx_layered is enabled, each hinted pod's threads get
  // its hint, as the agent's placer writes them on a node (here in one pass, by the native helper)
  const hinted = tasks.filter((t) => t.pod.hint !== null && t.pod.hint !== undefined);
  const script = String.raw`${GUEST_LIB}
echo 0 > /proc/sys/kernel/sched_autogroup_enabled
: > /tmp/tracked
${tasks.map((t) => `pod_task ${t.i} ${t.podDir} ${t.ctr} ${NAP_US}`).join('\n')}
mkdir -p $CG/system.slice/kubelet.service
kubelet nap -r 10 -c $CG/system.slice/kubelet.service ${NAP_US} &
echo "$!" >> /tmp/tracked
sleep 1
grep -q ' /sys/fs/bpf bpf ' /proc/mounts || mount -t bpf bpf /sys/fs/bpf
mkdir -p /sys/fs/bpf/temper && chmod 0700 /sys/fs/bpf/temper
scx_start agent /cfg/agent.json --enable-match-debug ${hinted.length > 0 ? `--task-hint-map ${PIN}` : ''}
if scx_wait_enabled agent 90; then
${hinted.map((t) => `  temper-hints set-cgroup ${PIN} ${t.pod.hint ?? 0} $CG/${t.podDir} | sed 's/^/HINTED ${t.i} /'`).join('\n')}
  sleep ${HOLD_S}
  scx_report agent
fi
scx_stop agent INT
scx_log agent 4
exit 0
`;
  say(`Booting the sched_ext kernel (${avail.paths.versions.KERNEL_ABI ?? 'pinned'}) under qemu with scx_layered ${avail.paths.versions.SCX_LAYERED_VERSION ?? ''} and ${tasks.length} pod tasks...\n`);
  const smp = Math.max(2, Math.min(4, Number(cpus)));
  const vm = await runInVm({ script, files: { '/cfg/agent.json': generation.configJson }, smp, timeoutMs: 300_000, logName: 'demo-kernel' });
  const enabled = fieldsOf(linesAfter(vm.output, 'ENABLED').find((l) => l.startsWith('agent ')) ?? '');
  const statsLine = linesAfter(vm.output, 'STATS').find((l) => l.startsWith('agent '))?.slice('agent '.length);
  if (vm.exitCode !== 0 || enabled.state !== 'enabled' || statsLine === undefined) {
    process.stderr.write(`scx_layered did not run the agent's config (exit ${vm.exitCode}, state ${enabled.state ?? 'none'}):\n${vm.output.split('\n').slice(-40).join('\n')}\n`);
  } else {
    const stats = parseLayerStats(statsLine);
    const pidOf = new Map(linesAfter(vm.output, 'TASK').map((l) => { const [i, pid] = l.split(' '); return [Number(i), Number(pid)] as const; }));
    const layerOf = new Map(linesAfter(vm.output, 'M').filter((l) => l.startsWith('agent ')).map((l) => { const [, tid, li] = l.split(' '); return [Number(tid), Number(li)] as const; }));
    say(`scx_layered enabled the agent's config in ${enabled.took ?? '?'} s (guest boot ${((vm.bootMs ?? 0) / 1000).toFixed(1)} s). Its per-layer counts, and where each pod's task is recorded:\n\n`);
    const hintFailures = linesAfter(vm.output, 'HINTED').filter((l) => !/ failed 0$/.test(l));
    if (hinted.length > 0) say(`Task hints written by temper-hints for the ${hinted.length} pods whose tier is not their QoS class's default${hintFailures.length === 0 ? '' : ` (FAILED for ${hintFailures.length}: ${hintFailures.join('; ')})`}.\n\n`);
    say(`${'LAYER'.padEnd(11)} ${'TASKS'.padStart(5)}  ${'CPUS'.padStart(4)}  PODS (task recorded in this layer)\n`);
    let misplaced = 0;
    for (const [li, layer] of layers.entries()) {
      const members = tasks.filter((t) => t.pod.layer === layer);
      const shown = members.map((t) => {
        const recorded = layerOf.get(pidOf.get(t.i) ?? -1);
        if (recorded !== undefined && recorded !== li) misplaced++;
        const mark = recorded === undefined ? ' (no record)' : recorded === li ? '' : ` (IN ${layers[recorded] ?? recorded})`;
        return `${t.pod.namespace}/${t.pod.name}${mark}`;
      });
      const s = stats[layer];
      say(`${layer.padEnd(11)} ${String(s?.tasks ?? 0).padStart(5)}  ${String(s?.cur_nr_cpus ?? 0).padStart(4)}  ${shown.join(', ') || (layer === 'system' ? '(scx_layered itself)' : layer === 'catchall' ? '(the kubelet)' : '-')}\n`);
    }
    say(misplaced === 0 ? '\nEvery recorded pod task is in its tier\'s layer.\n' : `\n${misplaced} pod task(s) are recorded in another layer.\n`);
    code = misplaced === 0 && hintFailures.length === 0 ? 0 : 1;
  }
} catch (err) {
  process.stderr.write(`demo:kernel failed: ${err instanceof Error ? err.message : String(err)}\n`);
} finally {
  await agent?.stop();
  if (cpRunning) await cp.stop();
}
process.exit(code);
