/**
 * Names of the business metrics the functions emit (CloudWatch embedded metric format through
 * Powertools metrics, namespace METRICS_NAMESPACE, dimension `service` = scrm-hub plus the ones
 * listed). The stack's dashboard graphs them by these names, so emitting code and dashboard
 * cannot drift apart.
 */
export const METRICS_NAMESPACE = 'ScrmHub';
export const METRICS_SERVICE = 'scrm-hub';

export interface BusinessMetric {
  name: string;
  /** Dimensions besides `service` the metric is emitted with (the dashboard sums across their values per series). */
  dimensions: readonly string[];
  /** Statistic the dashboard shows. */
  statistic: 'Sum' | 'Maximum';
  /** CloudWatch unit the value is emitted in. */
  unit: 'Count' | 'Seconds';
  description: string;
}

export const BUSINESS_METRICS = [
  { name: 'EventsApplied', dimensions: ['source'], statistic: 'Sum', unit: 'Count', description: 'platform events applied to member records, by source' },
  { name: 'Duplicates', dimensions: ['source'], statistic: 'Sum', unit: 'Count', description: 'redelivered events recognised and skipped, by source' },
  { name: 'Refused', dimensions: ['source', 'reason'], statistic: 'Sum', unit: 'Count', description: 'webhook requests refused (bad signature, stale, invalid), by source and reason' },
  { name: 'MessagesSent', dimensions: [], statistic: 'Sum', unit: 'Count', description: 'engagement messages sent through the WeChat API' },
  { name: 'MessagesSuppressed', dimensions: ['reason'], statistic: 'Sum', unit: 'Count', description: 'engagement messages not sent (caps, send window, holdout, unfollowed), by reason' },
  { name: 'ReconcileGaps', dimensions: [], statistic: 'Sum', unit: 'Count', description: 'orders or events found missing by reconciliation' },
  { name: 'FoldLagSeconds', dimensions: [], statistic: 'Maximum', unit: 'Seconds', description: 'seconds from an event occurring to its commit into the member record (largest per period)' },
  { name: 'CounterFoldLagSeconds', dimensions: [], statistic: 'Maximum', unit: 'Seconds', description: 'seconds from a credit delta being committed to its fold into the attribution counters (largest per period)' },
  { name: 'CodeScans', dimensions: ['result'], statistic: 'Sum', unit: 'Count', description: 'one-code-per-item scans, by result' },
  { name: 'ArchiveFailures', dimensions: ['stream', 'reason'], statistic: 'Sum', unit: 'Count', description: 'archive records not written (disk full, Firehose throttled), by stream and reason; the webhook answer is unchanged' },
] as const satisfies readonly BusinessMetric[];

export type BusinessMetricName = (typeof BUSINESS_METRICS)[number]['name'];

/** The dimensions (besides `service`) metric `N` is emitted with, each a non-empty string. */
export type MetricDimensions<N extends BusinessMetricName> = Record<Extract<(typeof BUSINESS_METRICS)[number], { name: N }>['dimensions'][number], string>;

/**
 * Declared metrics nothing emits yet, each with the reason; a unit test checks that every other
 * name of BUSINESS_METRICS is emitted by the code.
 */
export const NOT_YET_EMITTED: Readonly<Partial<Record<BusinessMetricName, string>>> = {};

/**
 * Where code records a business metric. Domain and use-case code is given one (ApplyDeps.metrics,
 * the runtime's `metrics`) and never sees the metrics library; lib/runtime/metrics.ts implements
 * it with Powertools metrics (one EMF line per dimension set, flushed once per invocation).
 */
export interface MetricsSink {
  /** Adds `value` (default 1; seconds for a `Seconds` metric) to metric `name` under `dims`. */
  add<N extends BusinessMetricName>(name: N, dims: MetricDimensions<N>, value?: number): void;
}

/** The sink of code that records nothing (benchmarks, scripts, the local runtime). */
export const noMetrics: MetricsSink = { add: () => undefined };

