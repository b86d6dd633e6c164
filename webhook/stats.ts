/**
 * The webhook's admission metrics as plain counters: recording one is a few array writes (no
 * allocation, no label hashing on the admission path); they are rendered in Prometheus text
 * format only when /metrics is scraped.
 */

export const OUTCOMES = ['mutated', 'unchanged', 'warned', 'invalid', 'error'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** Upper bounds of the latency histogram, in seconds. */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1] as const;

export class AdmissionStats {
  private readonly counts = new Float64Array(OUTCOMES.length);
  private readonly sums = new Float64Array(OUTCOMES.length);
  // Per outcome, the count of observations in each bucket (not cumulative; summed at render).
  private readonly buckets = new Float64Array(OUTCOMES.length * (LATENCY_BUCKETS.length + 1));

  /** Counts one answered admission request and its duration in seconds. */
  record(outcome: Outcome, seconds: number): void {
    const o = OUTCOMES.indexOf(outcome);
    this.counts[o] = (this.counts[o] ?? 0) + 1;
    this.sums[o] = (this.sums[o] ?? 0) + seconds;
    let b = 0;
    while (b < LATENCY_BUCKETS.length && seconds > (LATENCY_BUCKETS[b] ?? Infinity)) b++;
    const i = o * (LATENCY_BUCKETS.length + 1) + b;
    this.buckets[i] = (this.buckets[i] ?? 0) + 1;
  }

  /** How many requests ended with `outcome`. */
  count(outcome: Outcome): number {
    return this.counts[OUTCOMES.indexOf(outcome)] ?? 0;
  }

  /** Prometheus text exposition of temper_webhook_admissions_total and temper_webhook_admission_duration_seconds. */
  render(): string {
    const lines = [
      '# HELP temper_webhook_admissions_total Admission requests by outcome',
      '# TYPE temper_webhook_admissions_total counter',
      ...OUTCOMES.map((o, i) => `temper_webhook_admissions_total{outcome="${o}"} ${this.counts[i] ?? 0}`),
      '',
      '# HELP temper_webhook_admission_duration_seconds Time to answer an admission request',
      '# TYPE temper_webhook_admission_duration_seconds histogram',
    ];
    OUTCOMES.forEach((o, i) => {
      let cumulative = 0;
      for (let b = 0; b <= LATENCY_BUCKETS.length; b++) {
        cumulative += this.buckets[i * (LATENCY_BUCKETS.length + 1) + b] ?? 0;
        const le = b < LATENCY_BUCKETS.length ? String(LATENCY_BUCKETS[b]) : '+Inf';
        lines.push(`temper_webhook_admission_duration_seconds_bucket{le="${le}",outcome="${o}"} ${cumulative}`);
      }
      lines.push(`temper_webhook_admission_duration_seconds_sum{outcome="${o}"} ${this.sums[i] ?? 0}`);
      lines.push(`temper_webhook_admission_duration_seconds_count{outcome="${o}"} ${this.counts[i] ?? 0}`);
    });
    return `${lines.join('\n')}\n`;
  }
}
