/**
 * The business metrics of lib/metrics.ts, emitted with Powertools metrics as CloudWatch embedded
 * metric format (EMF): JSON lines on stdout that CloudWatch Logs turns into metrics, so a function
 * needs no PutMetricData permission (docs/deploy.md#observability).
 *
 * One EMF object carries one dimension set for all of its metrics, while the hub's metrics have
 * different dimensions (EventsApplied by `source`, Refused by `source` and `reason`, MessagesSent
 * by none). So `powertoolsMetrics` adds up what a call records per metric and dimension values,
 * and `metricsMiddleware` flushes once per invocation (after the handler, or on its error): a
 * metric without dimensions through the shared instance (Powertools' own `logMetrics`
 * middleware), each dimensioned one as a Powertools single metric (`singleMetric()`: its own EMF
 * line with dimensions `service` plus its own).
 */
import type { MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { BUSINESS_METRICS, METRICS_NAMESPACE, METRICS_SERVICE, type BusinessMetricName, type MetricDimensions, type MetricsSink } from '../metrics.ts';
import { logger } from '../log.ts';

const UNITS = new Map<string, 'Count' | 'Seconds'>(BUSINESS_METRICS.map((m) => [m.name, m.unit]));

// Powertools warns on every flush without metrics (most requests record none): at debug level here.
const NO_METRICS_WARNING = 'No application metrics to publish';
const metricsLog = {
  debug: (msg: string) => logger.debug(msg),
  info: (msg: string) => logger.info(msg),
  warn: (msg: string) => (msg.startsWith(NO_METRICS_WARNING) ? logger.debug(msg) : logger.warn(msg)),
  error: (msg: string) => logger.error(msg),
};

/** The process's Powertools metrics instance (namespace ScrmHub, default dimension service=scrm-hub). */
export const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: METRICS_SERVICE, logger: metricsLog });

interface Pending {
  name: BusinessMetricName;
  dims: Record<string, string>;
  value: number;
}

/** A sink onto a Powertools Metrics instance; `flush()` publishes what was added since the last flush. */
export class PowertoolsMetricsSink implements MetricsSink {
  readonly #pending = new Map<string, Pending>();
  constructor(readonly target: Metrics) {}

  add<N extends BusinessMetricName>(name: N, dims: MetricDimensions<N>, value = 1): void {
    const d = dims as Record<string, string>;
    const keys = Object.keys(d).sort();
    if (!keys.length) {
      this.target.addMetric(name, UNITS.get(name) ?? 'Count', value);
      return;
    }
    const key = JSON.stringify([name, ...keys.map((k) => [k, d[k]])]);
    const p = this.#pending.get(key);
    if (!p) this.#pending.set(key, { name, dims: Object.fromEntries(keys.map((k) => [k, d[k]!])), value });
    // A count adds up; a duration keeps its largest value (the dashboard's statistic is Maximum).
    else p.value = UNITS.get(name) === 'Seconds' ? Math.max(p.value, value) : p.value + value;
  }

  /** Publishes the dimensioned metrics (one EMF line each); the rest goes out with the instance's own flush. */
  flush(): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) {
      const single = this.target.singleMetric();
      for (const [k, v] of Object.entries(p.dims)) single.addDimension(k, v);
      // A single-metric instance publishes as soon as its metric is added.
      single.addMetric(p.name, UNITS.get(p.name) ?? 'Count', p.value);
    }
  }
}

/** The sink of the Lambda process (processRuntime's runtime records through it). */
export const processMetrics = new PowertoolsMetricsSink(metrics);

/**
 * Flushes the metrics a sink gathered, once per invocation, after the handler or on its error
 * (Powertools `logMetrics` for the shared instance, `throwOnEmptyMetrics: false`).
 */
export function metricsMiddleware<E, R, C extends Context>(sink: PowertoolsMetricsSink = processMetrics): MiddlewareObj<E, R, Error, C> {
  const inner = logMetrics(sink.target, { throwOnEmptyMetrics: false }) as MiddlewareObj<E, R, Error, C>;
  const flush: NonNullable<MiddlewareObj<E, R, Error, C>['after']> = async (request) => {
    sink.flush();
    await inner.after?.(request);
  };
  return { before: inner.before, after: flush, onError: flush };
}
