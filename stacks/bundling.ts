/**
 * What the stack's NodejsFunction bundling replaces in every function (esbuild `--alias`),
 * from the repository root; kept free of CDK imports so the cold-start benchmark
 * (bench/cold-start.ts) bundles exactly as the stack does (docs/deploy.md#bundles).
 */
export const LAMBDA_ALIASES: Readonly<Record<string, string>> = {
  // The SDK's default credential chain → the environment only (lib/store/lambda-credentials.ts).
  '@aws-sdk/credential-provider-node': 'lib/store/lambda-credentials.ts',
};

/**
 * A stage without X-Ray active tracing (`tracing: false`) also replaces the Powertools tracer
 * (which brings the X-Ray SDK, semver and cls-hooked: about 120 KB of every bundle) with the
 * tracer-off module: POWERTOOLS_TRACE_ENABLED is false there, so the real tracer would do nothing.
 */
export const UNTRACED_ALIASES: Readonly<Record<string, string>> = {
  '@aws-lambda-powertools/tracer': 'lib/runtime/tracer-off.ts',
  '@aws-lambda-powertools/tracer/middleware': 'lib/runtime/tracer-off.ts',
};

/** The aliases of a function with (`tracing`) or without X-Ray active tracing. */
export function lambdaAliases(tracing: boolean): Readonly<Record<string, string>> {
  return tracing ? LAMBDA_ALIASES : { ...LAMBDA_ALIASES, ...UNTRACED_ALIASES };
}
