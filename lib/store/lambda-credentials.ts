/**
 * The credential provider inside the functions' bundles: the stack's esbuild aliases
 * `@aws-sdk/credential-provider-node` (the SDK's default chain) to this module
 * (stacks/bundling.ts). Lambda puts the execution role's credentials in the function's
 * environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN; docs/deploy.md#credentials),
 * so the chain's other sources — SSO, shared ini files, processes, web identity, the instance
 * metadata service, and the STS / SSO clients they bring (≈ 140 KB of every bundle) — are never
 * used there. Outside Lambda (tests, the local runtime, the tools) nothing is aliased: the SDK's
 * own default chain applies.
 */
export { fromEnv as defaultProvider } from '@aws-sdk/credential-provider-env';
