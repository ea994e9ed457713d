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
  description: string;
}

export const BUSINESS_METRICS = [
  { name: 'EventsApplied', dimensions: ['source'], statistic: 'Sum', description: 'platform events applied to member records, by source' },
  { name: 'Duplicates', dimensions: ['source'], statistic: 'Sum', description: 'redelivered events recognised and skipped, by source' },
  { name: 'Refused', dimensions: ['source', 'reason'], statistic: 'Sum', description: 'events refused (bad signature, stale, invalid), by source and reason' },
  { name: 'MessagesSent', dimensions: [], statistic: 'Sum', description: 'engagement messages sent through the WeChat API' },
  { name: 'MessagesSuppressed', dimensions: ['reason'], statistic: 'Sum', description: 'engagement messages not sent (cap, quiet hours, window, holdout), by reason' },
  { name: 'ReconcileGaps', dimensions: [], statistic: 'Sum', description: 'orders or events found missing by reconciliation' },
  { name: 'FoldLagSeconds', dimensions: [], statistic: 'Maximum', description: 'age of the oldest event not yet folded into its member record' },
  { name: 'CodeScans', dimensions: ['result'], statistic: 'Sum', description: 'one-code-per-item scans, by result' },
] as const satisfies readonly BusinessMetric[];
