/** A MetricsSink that keeps what it is given, for assertions on the business metrics a call records. */
import type { BusinessMetricName, MetricDimensions, MetricsSink } from '../../lib/metrics.ts';

export interface RecordedMetric {
  name: BusinessMetricName;
  dims: Record<string, string>;
  value: number;
}

export class MemoryMetrics implements MetricsSink {
  readonly records: RecordedMetric[] = [];
  add<N extends BusinessMetricName>(name: N, dims: MetricDimensions<N>, value = 1): void {
    this.records.push({ name, dims: { ...dims }, value });
  }
  /** The records of one metric. */
  of(name: BusinessMetricName): RecordedMetric[] {
    return this.records.filter((r) => r.name === name);
  }
}
