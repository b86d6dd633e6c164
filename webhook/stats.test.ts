import { describe, expect, it } from 'vitest';
import { throttledLogger } from '../adapters/log.ts';
import { AdmissionStats } from './stats.ts';

describe('AdmissionStats', () => {
  it('renders counters and a cumulative histogram in Prometheus text format', () => {
    const s = new AdmissionStats();
    s.record('mutated', 0.0004);
    s.record('mutated', 0.003);
    s.record('mutated', 7);
    s.record('invalid', 0.001);
    const text = s.render();
    expect(text).toContain('temper_webhook_admissions_total{outcome="mutated"} 3\n');
    expect(text).toContain('temper_webhook_admissions_total{outcome="error"} 0\n');
    expect(text).toContain('temper_webhook_admission_duration_seconds_bucket{le="0.0005",outcome="mutated"} 1\n');
    expect(text).toContain('temper_webhook_admission_duration_seconds_bucket{le="0.005",outcome="mutated"} 2\n');
    expect(text).toContain('temper_webhook_admission_duration_seconds_bucket{le="1",outcome="mutated"} 2\n');
    expect(text).toContain('temper_webhook_admission_duration_seconds_bucket{le="+Inf",outcome="mutated"} 3\n');
    expect(text).toContain('temper_webhook_admission_duration_seconds_bucket{le="0.001",outcome="invalid"} 1\n'); // le is inclusive
    expect(text).toContain('temper_webhook_admission_duration_seconds_count{outcome="mutated"} 3\n');
    expect(text).toMatch(/temper_webhook_admission_duration_seconds_sum\{outcome="mutated"\} 7\.003/);
    expect(s.count('mutated')).toBe(3);
  });
});

describe('throttledLogger', () => {
  it('lets one line per message through each interval and reports how many it dropped', () => {
    const lines: [string, unknown][] = [];
    let t = 0;
    const log = throttledLogger({ info: () => {}, warn: (m, f) => lines.push([m, f]), error: () => {} }, 1000, () => t);
    for (let i = 0; i < 5; i++) log.warn('bad review', { i });
    log.warn('other');
    t = 1500;
    log.warn('bad review', { i: 9 });
    expect(lines).toEqual([['bad review', { i: 0 }], ['other', undefined], ['bad review', { i: 9, suppressed: 4 }]]);
  });
});
