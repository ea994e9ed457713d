/**
 * What the stack's NodejsFunction bundling replaces in every function (esbuild `--alias`),
 * from the repository root; kept free of CDK imports so the cold-start benchmark
 * (bench/cold-start.ts) bundles exactly as the stack does.
 */
export const LAMBDA_ALIASES: Readonly<Record<string, string>> = {
  // The SDK's default credential chain → the environment only (lib/store/lambda-credentials.ts).
  '@aws-sdk/credential-provider-node': 'lib/store/lambda-credentials.ts',
};
