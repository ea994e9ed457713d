/**
 * The on-call CloudWatch dashboard of a stage: API traffic and errors, the 4xx/5xx of every
 * platform webhook, queue age and backlog, dead-letter queues, function errors, throttles and
 * durations, and the business metrics of lib/metrics.ts (graphed by name through SEARCH, so a
 * series appears as soon as a function emits it).
 */
import { Duration } from 'aws-cdk-lib';
import { Dashboard, GraphWidget, MathExpression, Metric, TextWidget, type IMetric, type IWidget } from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct } from 'constructs';
import { BUSINESS_METRICS, METRICS_NAMESPACE, METRICS_SERVICE } from '../lib/metrics.ts';
import type { HubFunction, HubQueue } from './types.ts';

export interface OpsDashboardProps {
  dashboardName: string;
  apiDimensions: { ApiId: string; Stage: string };
  functions: readonly HubFunction[];
  queues: readonly [string, HubQueue][];
}

const PERIOD = Duration.minutes(5);
const WIDTH = 12;
const HEIGHT = 6;

const graph = (title: string, left: IMetric[], right: IMetric[] = []) => new GraphWidget({ title, left, right, width: WIDTH, height: HEIGHT, period: PERIOD });

/** A SEARCH expression over the hub's own namespace: one series per combination of the metric's dimensions. */
function businessMetric(m: (typeof BUSINESS_METRICS)[number]): IMetric {
  const schema = [METRICS_NAMESPACE, 'service', ...m.dimensions].join(',');
  return new MathExpression({
    label: m.name,
    expression: `SEARCH('{${schema}} MetricName="${m.name}" service="${METRICS_SERVICE}"', '${m.statistic}', ${PERIOD.toSeconds()})`,
    period: PERIOD,
  });
}

export function opsDashboard(scope: Construct, id: string, props: OpsDashboardProps): Dashboard {
  const api = (metricName: string, statistic: string, extra: Record<string, string> = {}, label?: string) =>
    new Metric({ namespace: 'AWS/ApiGateway', metricName, dimensionsMap: { ...props.apiDimensions, ...extra }, statistic, period: PERIOD, label: label ?? metricName });
  const webhookRoutes = props.functions.flatMap((f) => (f.spec.routes ?? []).filter((r) => r.webhook));
  const route = (r: { method: string; path: string }) => ({ Method: r.method, Resource: r.path });

  const widgets: IWidget[][] = [
    [new TextWidget({ markdown: `# ${props.dashboardName}\nAPI, platform webhooks, queues, functions and business metrics (namespace \`${METRICS_NAMESPACE}\`). Runbook: docs/deploy.md.`, width: 24, height: 2 })],
    [
      graph('API requests and errors', [api('Count', 'Sum', {}, 'requests')], [api('4xx', 'Sum'), api('5xx', 'Sum')]),
      graph('API latency (p50, p99)', [api('Latency', 'p50', {}, 'p50'), api('Latency', 'p99', {}, 'p99'), api('IntegrationLatency', 'p99', {}, 'integration p99')]),
    ],
    [
      graph('Webhook 4xx (signature, freshness, bad input)', webhookRoutes.map((r) => api('4xx', 'Sum', route(r), `${r.method} ${r.path}`))),
      graph('Webhook 5xx', webhookRoutes.map((r) => api('5xx', 'Sum', route(r), `${r.method} ${r.path}`))),
    ],
    [
      graph(
        'Queue age of oldest message (s)',
        props.queues.map(([name, q]) => q.queue.metricApproximateAgeOfOldestMessage({ period: PERIOD, statistic: 'Maximum', label: name })),
        props.queues.map(([name, q]) => q.queue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: 'Maximum', label: `${name} backlog` })),
      ),
      graph(
        'Dead-letter queues',
        props.queues.map(([name, q]) => q.dlq.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: 'Maximum', label: `${name} DLQ` })),
        props.queues.map(([name, q]) => q.dlq.metricApproximateAgeOfOldestMessage({ period: PERIOD, statistic: 'Maximum', label: `${name} DLQ age` })),
      ),
    ],
    [
      graph(
        'Function errors and throttles',
        props.functions.map(({ spec, fn }) => fn.metricErrors({ period: PERIOD, statistic: 'Sum', label: `${spec.name} errors` })),
        props.functions.map(({ spec, fn }) => fn.metricThrottles({ period: PERIOD, statistic: 'Sum', label: `${spec.name} throttles` })),
      ),
      graph(
        'Function duration p99 (ms)',
        props.functions.map(({ spec, fn }) => fn.metricDuration({ period: PERIOD, statistic: 'p99', label: spec.name })),
      ),
    ],
  ];
  const business = BUSINESS_METRICS.map((m) => graph(`${m.name}: ${m.description}`, [businessMetric(m)]));
  for (let i = 0; i < business.length; i += 2) widgets.push(business.slice(i, i + 2));

  return new Dashboard(scope, id, { dashboardName: props.dashboardName, widgets, defaultInterval: Duration.hours(3) });
}
