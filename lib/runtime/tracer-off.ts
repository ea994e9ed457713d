/**
 * The Powertools tracer of a function deployed without X-Ray active tracing (a stage with
 * `tracing: false`, e.g. a China region without X-Ray): the stack's bundling aliases
 * `@aws-lambda-powertools/tracer` and its `/middleware` entry to this module (stacks/bundling.ts
 * UNTRACED_ALIASES), so the function carries neither the tracer nor the X-Ray SDK
 * (docs/deploy.md#bundles). It does exactly what the real tracer does when
 * POWERTOOLS_TRACE_ENABLED=false, which the stack sets on such a stage: nothing — the handler
 * middleware's step does nothing and the clients are returned uninstrumented.
 */

/** Stands for the Powertools `Tracer` with tracing off (the members lib/runtime/tracer.ts uses). */
export class Tracer {
  constructor(_options?: { serviceName?: string }) {}

  isTracingEnabled(): boolean {
    return false;
  }

  captureAWSv3Client<T>(client: T): T {
    return client;
  }
}

/**
 * Stands for `captureLambdaHandler` of `@aws-lambda-powertools/tracer/middleware`: a middleware
 * whose one step does nothing (middy refuses a middleware without any step).
 */
export function captureLambdaHandler(_tracer: Tracer, _options?: { captureResponse?: boolean }): { before: () => void } {
  return { before: () => undefined };
}
