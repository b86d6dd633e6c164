// The agent soak (dev/harness/soak.ts) for 30 minutes against its own local control plane:
// random pod churn and faults; prints events applied, scheduler starts, time not enforcing and
// the agent's memory before and after, and writes the result as JSON.
// Run: npm run bench:soak [-- --minutes 30 --out bench/results/soak-<date>.json]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { describeSoak, soak } from '../dev/harness/soak.ts';
import { startControlPlane } from '../dev/controlplane/controlplane.ts';

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '30' }, out: { type: 'string' } } });
const minutes = Number(values.minutes);
if (!(minutes > 0)) throw new Error(`--minutes must be a positive number (got ${values.minutes})`);
const cp = await startControlPlane({ controllers: false });
try {
  const r = await soak(cp.kc, cp.kubeconfigPath, minutes * 60, (l) => console.log(l));
  console.log(describeSoak(r));
  if (values.out !== undefined) writeFileSync(values.out, `${JSON.stringify({ node: process.version, ...r }, null, 2)}\n`);
  if (!r.converged) process.exitCode = 1;
} finally {
  await cp.stop();
}
