/**
 * AWS X-Ray tracing through Powertools tracer: a segment per invocation (`captureLambdaHandler`)
 * and a subsegment per DynamoDB and SQS call (`captureAWSv3Client` on the process clients of
 * lib/store/client.ts). The tracer is on only inside Lambda with active tracing: it switches
 * itself off outside Lambda (no AWS_EXECUTION_ENV: tests, the local runtime, benchmarks) and
 * where the stage sets POWERTOOLS_TRACE_ENABLED=false (a stage without X-Ray, stacks/hub-stack.ts).
 * Responses are never added to a trace (they carry member data); errors are. Outbound HTTPS
 * calls (WeChat, TOP) are traced as Powertools does by default (POWERTOOLS_TRACER_CAPTURE_HTTPS_REQUESTS).
 * A stage without X-Ray bundles lib/runtime/tracer-off.ts in place of the two Powertools imports
 * below (stacks/bundling.ts, docs/deploy.md#bundles).
 */
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { METRICS_SERVICE } from '../metrics.ts';
import { ddb, sqs } from '../store/client.ts';

export const tracer = new Tracer({ serviceName: METRICS_SERVICE });

export function tracingMiddleware<E, R, C extends Context>(): MiddlewareObj<E, R, Error, C> {
  return captureLambdaHandler(tracer, { captureResponse: false }) as MiddlewareObj<E, R, Error, C>;
}

let traced = false;

/** Instruments the process's DynamoDB and SQS clients once, when tracing is on. */
export function traceProcessClients(): void {
  if (traced || !tracer.isTracingEnabled()) return;
  traced = true;
  tracer.captureAWSv3Client(ddb());
  tracer.captureAWSv3Client(sqs());
}
