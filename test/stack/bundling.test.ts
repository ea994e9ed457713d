/**
 * The real bundling path (local esbuild, no Docker) on a stack of two representative functions:
 * an HTTP handler and the SQS consumer. Checks the ESM output, the createRequire banner, the
 * source map, and that the AWS SDK is bundled rather than left to the runtime; and, on a stage
 * without X-Ray, that the webhook's bundle has the tracer-off module instead of the X-Ray SDK.
 */
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { App, type CfnElement } from 'aws-cdk-lib';
import { afterAll, describe, expect, it } from 'vitest';
import { FUNCTIONS } from '../../lib/manifest.ts';
import { hubStackProps, stageConfig } from '../../stacks/config.ts';
import { ESM_REQUIRE_BANNER, HubStack } from '../../stacks/hub-stack.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const cdkJson = JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
const cfg = stageConfig(cdkJson.context.stages, 'dev');
const picked = FUNCTIONS.filter((f) => f.name === 'wechat' || f.consumes);

const app = new App({ context: cdkJson.context });
const stack = new HubStack(app, 'HubBundle', {
  ...hubStackProps('dev', cfg),
  env: { account: '111111111111', region: cfg.region },
  functions: picked,
});
const untracedStack = new HubStack(app, 'HubBundleUntraced', {
  ...hubStackProps('dev', cfg),
  tracing: false,
  env: { account: '111111111111', region: cfg.region },
  functions: FUNCTIONS.filter((f) => f.name === 'wechat'),
});
const assembly = app.synth();
afterAll(() => rmSync(assembly.directory, { recursive: true, force: true }));

/** The bundled index.mjs of function `name` of `hub`. */
function bundleOf(hub: HubStack, name: string): { dir: string; code: string } {
  const template = assembly.getStackArtifact(hub.artifactId).template as { Resources: Record<string, { Properties: { Code: { S3Key: string } } }> };
  const fn = hub.functions.get(name)!.fn;
  const id = hub.resolve((fn.node.defaultChild as CfnElement).logicalId) as string;
  const key = template.Resources[id]!.Properties.Code.S3Key;
  const dir = join(assembly.directory, `asset.${key.replace(/\.zip$/, '')}`);
  return { dir, code: readFileSync(join(dir, 'index.mjs'), 'utf8') };
}

// Strings of the X-Ray SDK (aws-xray-sdk-core reads these variables).
const XRAY_MARKERS = ['AWS_XRAY_DAEMON_ADDRESS', 'AWS_XRAY_CONTEXT_MISSING'];

describe('a stage without X-Ray', () => {
  it('bundles the tracer-off module instead of the Powertools tracer and the X-Ray SDK', () => {
    const traced = bundleOf(stack, 'wechat').code;
    const { code } = bundleOf(untracedStack, 'wechat');
    for (const marker of XRAY_MARKERS) {
      expect(traced.includes(marker), marker).toBe(true);
      expect(code.includes(marker), marker).toBe(false);
    }
    expect(/export\s*\{[^}]*\bhandler\b[^}]*\}/.test(code)).toBe(true);
    expect(code.length).toBeLessThan(traced.length - 100 * 1024);
  });
});

describe.each(picked.map((f) => [f.name] as const))('bundle of %s', (name) => {
  const { dir, code } = bundleOf(stack, name);

  it('is one minified ESM file exporting the handler, with a source map', () => {
    expect(/export\s*\{[^}]*\bhandler\b[^}]*\}/.test(code)).toBe(true);
    expect(existsSync(join(dir, 'index.mjs.map'))).toBe(true);
  });
  it('starts with the createRequire banner', () => {
    expect(code.slice(0, ESM_REQUIRE_BANNER.length)).toBe(ESM_REQUIRE_BANNER);
  });
  it('bundles the AWS SDK instead of importing it from the runtime', () => {
    // No static or dynamic import of the SDK (its error messages may still mention the names).
    expect(/\bfrom\s*["']@aws-sdk\//.test(code.replace(/\[import ["'][^"']+["'];\]/g, ''))).toBe(false);
    expect(/\bimport\(\s*["']@aws-sdk\//.test(code)).toBe(false);
    // Only the optional SigV4a signers stay a require (inside try/catch in the SDK, never installed here).
    const optional = new Set(['@aws-sdk/signature-v4-crt', '@aws-sdk/signature-v4a']);
    const required = new Set([...code.matchAll(/require\(["'](@aws-sdk\/[^"']+)["']\)/g)].map((m) => m[1]!));
    expect([...required].filter((m) => !optional.has(m))).toEqual([]);
    expect(statSync(join(dir, 'index.mjs')).size).toBeLessThan(5 * 1024 * 1024);
  });
  it('takes credentials from the environment only: no SSO, shared-file, process or web-identity source, no STS client (stacks/bundling.ts)', () => {
    // Strings of the default chain's sources (@aws-sdk/credential-provider-ini, -sso, -process, -web-identity).
    for (const marker of ['sso_start_url', 'credential_process', 'AssumeRoleWithWebIdentity']) expect(code.includes(marker), marker).toBe(false);
    // The environment provider is there (@aws-sdk/credential-provider-env reads these).
    expect(code.includes('AWS_SESSION_TOKEN')).toBe(true);
  });
});
