import { describe, expect, it } from 'vitest';
import { pod } from '../test/builders.ts';
import { computeQosClass, cpuLimitMillis, cpuRequestMillis, qosClassOf } from './resources.ts';

const c = (requests: Record<string, string>, limits: Record<string, string> = {}, extra: Record<string, unknown> = {}) =>
  ({ name: 'c', image: 'x', resources: { requests, limits }, ...extra });

describe('computeQosClass (apis/core/helper/qos)', () => {
  it.each([
    ['no resources at all', [c({})], undefined, 'BestEffort'],
    ['only non-QoS resources', [c({ 'ephemeral-storage': '1Gi' })], undefined, 'BestEffort'],
    ['cpu+memory requests = limits', [c({ cpu: '1', memory: '1Gi' }, { cpu: '1', memory: '1Gi' })], undefined, 'Guaranteed'],
    ['limits only (requests default to limits)', [c({}, { cpu: '500m', memory: '256Mi' })], undefined, 'Guaranteed'],
    ['equal in different units', [c({ cpu: '1', memory: '1024Mi' }, { cpu: '1000m', memory: '1Gi' })], undefined, 'Guaranteed'],
    ['cpu limit missing', [c({ cpu: '1', memory: '1Gi' }, { memory: '1Gi' })], undefined, 'Burstable'],
    ['requests below limits', [c({ cpu: '1', memory: '1Gi' }, { cpu: '2', memory: '1Gi' })], undefined, 'Burstable'],
    ['request only', [c({ cpu: '100m' })], undefined, 'Burstable'],
    ['zero requests are not requests', [c({ cpu: '0', memory: '0' })], undefined, 'BestEffort'],
    ['one guaranteed, one best-effort container', [c({}, { cpu: '1', memory: '1Gi' }), c({})], undefined, 'Burstable'],
    ['per-container shape, not summed', [c({ cpu: '1', memory: '1Gi' }, { cpu: '2', memory: '1Gi' }), c({ cpu: '2', memory: '1Gi' }, { cpu: '1', memory: '1Gi' })], undefined, 'Burstable'],
    ['init container counts', [c({}, { cpu: '1', memory: '1Gi' })], [c({ cpu: '100m' })], 'Burstable'],
    ['best-effort init with guaranteed app', [c({}, { cpu: '1', memory: '1Gi' })], [c({})], 'Burstable'],
    ['guaranteed init and app', [c({}, { cpu: '1', memory: '1Gi' })], [c({}, { cpu: '2', memory: '1Gi' })], 'Guaranteed'],
  ] as const)('%s → %s', (_name, containers, initContainers, want) => {
    expect(computeQosClass(pod({ containers: [...containers], ...(initContainers ? { initContainers: [...initContainers] } : {}) }))).toBe(want);
  });

  it('pod-level resources decide when set', () => {
    const p = pod({ containers: [c({})], podResources: { limits: { cpu: '2', memory: '2Gi' } } });
    expect(computeQosClass(p)).toBe('Guaranteed'); // pod requests default to pod limits
    const q = pod({ containers: [c({}, { cpu: '1', memory: '1Gi' })], podResources: { requests: { cpu: '1' } } });
    expect(computeQosClass(q)).toBe('Burstable');
  });

  it('status.qosClass wins when present', () => {
    expect(qosClassOf(pod({ qos: 'Guaranteed', containers: [c({})] }))).toBe('Guaranteed');
    expect(qosClassOf(pod({ containers: [c({})] }))).toBe('BestEffort');
  });
});

describe('cpuRequestMillis (scheduler accounting)', () => {
  it('sums app containers', () => {
    expect(cpuRequestMillis(pod({ containers: [c({ cpu: '250m' }), c({ cpu: '1' })] }))).toBe(1250);
  });
  it('takes the larger of the init peak and the app sum', () => {
    expect(cpuRequestMillis(pod({ containers: [c({ cpu: '500m' })], initContainers: [c({ cpu: '2' })] }))).toBe(2000);
    expect(cpuRequestMillis(pod({ containers: [c({ cpu: '3' })], initContainers: [c({ cpu: '2' })] }))).toBe(3000);
  });
  it('adds sidecars (restartable init containers) to the app sum and to later init steps', () => {
    const p = pod({
      containers: [c({ cpu: '1' })],
      initContainers: [c({ cpu: '500m' }, {}, { restartPolicy: 'Always' }), c({ cpu: '2' })],
    });
    // app 1 + sidecar 0.5 = 1.5; second init runs beside the sidecar: 2 + 0.5 = 2.5
    expect(cpuRequestMillis(p)).toBe(2500);
  });
  it('uses limits as requests when only limits are set', () => {
    expect(cpuRequestMillis(pod({ cpuLimit: '750m' }))).toBe(750);
  });
  it('pod-level request replaces the container sum; overhead is added', () => {
    expect(cpuRequestMillis(pod({ cpu: '1', podResources: { requests: { cpu: '3' } }, overhead: { cpu: '250m' } }))).toBe(3250);
  });
  it('rounds up to whole millicores', () => {
    expect(cpuRequestMillis(pod({ cpu: '100100u' }))).toBe(101);
  });
});

describe('cpuLimitMillis', () => {
  it('is null unless every container has a CPU limit', () => {
    expect(cpuLimitMillis(pod({ containers: [c({}, { cpu: '1' }), c({ cpu: '1' })] }))).toBeNull();
    expect(cpuLimitMillis(pod({ containers: [c({}, { cpu: '1' })], initContainers: [c({})] }))).toBeNull();
    expect(cpuLimitMillis(pod({ containers: [c({}, { cpu: '1' }), c({}, { cpu: '500m' })] }))).toBe(1500);
  });
  it('pod-level limit applies even when containers have none; overhead is added', () => {
    expect(cpuLimitMillis(pod({ containers: [c({})], podResources: { limits: { cpu: '2' } }, overhead: { cpu: '100m' } }))).toBe(2100);
  });
});

describe('pod-level resources, as Kubernetes 1.37 defaults and reads them', () => {
  it('empty pod-level resources do not count (IsPodLevelResourcesSet)', () => {
    expect(computeQosClass(pod({ containers: [c({}, { cpu: '1', memory: '1Gi' })], podResources: {} }))).toBe('Guaranteed');
  });
  it('a missing pod-level request defaults to the containers\' aggregate request, else to the pod limit', () => {
    // containers request 300m cpu; pod limits 2 cpu / 1Gi: cpu request := 300m, memory request := 1Gi
    const p = pod({ containers: [c({ cpu: '300m' })], podResources: { limits: { cpu: '2', memory: '1Gi' } } });
    expect(cpuRequestMillis(p)).toBe(300);
    expect(computeQosClass(p)).toBe('Burstable');
    const q = pod({ containers: [c({})], podResources: { limits: { cpu: '2', memory: '1Gi' } } });
    expect(cpuRequestMillis(q)).toBe(2000);
    expect(computeQosClass(q)).toBe('Guaranteed');
  });
});
