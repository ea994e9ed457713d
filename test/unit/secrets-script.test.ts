/**
 * The secrets fill script (scripts/secrets.ts) and the grouped secrets of the runtime
 * (lib/config: HUB_SECRET_ARNS). The merge/validate logic is checked directly; the AWS path runs
 * through the real @aws-sdk/client-secrets-manager against a small Secrets Manager stand-in that
 * speaks the service's JSON 1.1 wire protocol (X-Amz-Target secretsmanager.GetSecretValue /
 * PutSecretValue, `__type` errors), with the endpoint overridden.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, SECRET_GROUP_NAMES } from '../../lib/config/index.ts';
import { checkStored, mergeSecret, parseSecretFile, run, SecretsInputError } from '../../scripts/secrets.ts';

const AES = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'; // 43 letters/digits
const TOKEN = 'Token0123456789ab'; // 17 letters/digits
/** Independent of lib/config: `(<n> chars, sha256 <8 hex>)`. */
const fp = (v: string) => `(${v.length} chars, sha256 ${createHash('sha256').update(v).digest('hex').slice(0, 8)})`;

describe('parseSecretFile: only hub secrets, each valid by the runtime schema', () => {
  it('splits the keys by group', () => {
    const groups = parseSecretFile({ WECHAT_TOKEN: TOKEN, WECHAT_AES_KEY: AES, TMALL_APP_SECRET: 's3cret', CODE_SIGNING_SECRET: 'k'.repeat(32) });
    expect(Object.fromEntries(groups)).toEqual({
      wechat: { WECHAT_TOKEN: TOKEN, WECHAT_AES_KEY: AES },
      tmall: { TMALL_APP_SECRET: 's3cret' },
      keys: { CODE_SIGNING_SECRET: 'k'.repeat(32) },
    });
  });
  it.each([
    [{ WECHAT_APP_ID: 'wx1' }, /WECHAT_APP_ID is not a hub secret/],
    [{ NOPE: 'x' }, /NOPE is not a hub secret/],
    [{ WECHAT_AES_KEY: 'short' }, /WECHAT_AES_KEY: must be 43 characters/],
    [{ WECHAT_TOKEN: 'QDG6eK' }, /WECHAT_TOKEN must be 16-32 letters or digits/],
    [{ CODE_SIGNING_SECRET: 'too-short' }, /CODE_SIGNING_SECRET/],
    [{ JD_APP_SECRET: '   ' }, /JD_APP_SECRET is empty/],
    [{ JD_APP_SECRET: 'REPLACE_ME' }, /JD_APP_SECRET is the placeholder/],
    [{ JD_APP_SECRET: 42 }, /JD_APP_SECRET must be a string/],
    [[], /one JSON object/],
    [{}, /names no secret/],
  ])('refuses %j', (file, message) => {
    expect(() => parseSecretFile(file)).toThrow(SecretsInputError);
    expect(() => parseSecretFile(file)).toThrow(message);
  });
  it('lists every problem at once', () => {
    expect(() => parseSecretFile({ NOPE: 'x', WECHAT_AES_KEY: 'short', TMALL_APP_SECRET: 'fine' })).toThrow(/NOPE.*; WECHAT_AES_KEY/);
  });
});

describe('mergeSecret: never drops a key', () => {
  it('keeps, adds, changes and reports fingerprints only', () => {
    const { merged, lines } = mergeSecret({ WECHAT_TOKEN: TOKEN, WECHAT_APP_SECRET: 'old' }, { WECHAT_APP_SECRET: 'new', WECHAT_AES_KEY: AES });
    expect(merged).toEqual({ WECHAT_TOKEN: TOKEN, WECHAT_APP_SECRET: 'new', WECHAT_AES_KEY: AES });
    expect(lines).toEqual([
      { key: 'WECHAT_AES_KEY', change: 'added', fingerprint: fp(AES) },
      { key: 'WECHAT_APP_SECRET', change: 'changed', fingerprint: fp('new') },
      { key: 'WECHAT_TOKEN', change: 'kept', fingerprint: fp(TOKEN) },
    ]);
    expect(mergeSecret({ JD_APP_SECRET: 'same' }, { JD_APP_SECRET: 'same' }).lines[0]!.change).toBe('unchanged');
  });
});

describe('checkStored', () => {
  const complete = new Map<(typeof SECRET_GROUP_NAMES)[number], Record<string, string>>([
    ['wechat', { WECHAT_TOKEN: TOKEN, WECHAT_AES_KEY: AES, WECHAT_APP_SECRET: 'app' }],
    ['tmall', { TMALL_APP_SECRET: 't' }],
    ['jd', { JD_APP_SECRET: 'j' }],
    ['youzan', { YOUZAN_CLIENT_SECRET: 'y' }],
    ['sms', {}],
    ['keys', { CODE_SIGNING_SECRET: 'c'.repeat(32), PHONE_HASH_SECRET: 'p'.repeat(32), HUB_OTP_SECRET: 'o'.repeat(32) }],
    ['admin', { HUB_ADMIN_TOKEN: 'admin-token-123' }],
  ]);
  it('passes a complete stage; SMS keys are needed only with SMS_PROVIDER tencent', () => {
    expect(checkStored(complete, {})).toEqual([]);
    expect(checkStored(complete, { SMS_PROVIDER: 'tencent' })).toEqual(['TENCENT_SMS_SECRET_ID is missing (secret sms)', 'TENCENT_SMS_SECRET_KEY is missing (secret sms)']);
  });
  it('names a missing key, a key in the wrong secret and an invalid value', () => {
    const broken = new Map(complete);
    broken.set('keys', { PHONE_HASH_SECRET: 'p'.repeat(32), HUB_OTP_SECRET: 'short' });
    broken.set('jd', { JD_APP_SECRET: 'j', TMALL_APP_SECRET: 'x' });
    expect(checkStored(broken, {})).toEqual(['jd: TMALL_APP_SECRET does not belong in this secret', 'CODE_SIGNING_SECRET is missing (secret keys)', expect.stringMatching(/^HUB_OTP_SECRET: /)]);
  });
});

describe('grouped secrets in the runtime (HUB_SECRET_ARNS)', () => {
  const lambda = { AWS_LAMBDA_FUNCTION_NAME: 'f', HUB_TABLE: 'scrm-hub-prod', WECHAT_APP_ID: 'wx1', TMALL_APP_KEY: '1', JD_APP_KEY: 'j', YOUZAN_CLIENT_ID: 'y' };
  it('needs every key of its groups, and only those; the others throw when read', () => {
    const cfg = loadConfig({ env: { ...lambda, HUB_SECRET_ARNS: JSON.stringify({ tmall: 'arn:t' }), TMALL_APP_SECRET: 'sec' } });
    expect(cfg.TMALL_APP_SECRET).toBe('sec');
    expect(() => cfg.WECHAT_APP_SECRET).toThrow(/not available to this function/);
    expect(() => cfg.CODE_SIGNING_SECRET).toThrow(/not available to this function/);
    expect(() => loadConfig({ env: { ...lambda, HUB_SECRET_ARNS: JSON.stringify({ tmall: 'arn:t', keys: 'arn:k' }), TMALL_APP_SECRET: 'sec' } })).toThrow(
      /CODE_SIGNING_SECRET is missing from the secret; PHONE_HASH_SECRET is missing/,
    );
  });
  it('refuses a HUB_SECRET_ARNS that is not {group: arn}', () => {
    expect(() => loadConfig({ env: { ...lambda, HUB_SECRET_ARNS: '{"vault":"arn"}' } })).toThrow(/HUB_SECRET_ARNS must map secret groups/);
    expect(() => loadConfig({ env: { ...lambda, HUB_SECRET_ARNS: 'arn' } })).toThrow(/HUB_SECRET_ARNS is not JSON/);
  });
});

// --- The AWS path: the real SDK client against a JSON 1.1 stand-in.
describe('npm run secrets against a Secrets Manager stand-in', () => {
  const store = new Map<string, string>();
  const calls: { target: string; body: Record<string, string> }[] = [];
  let server: Server;
  let client: SecretsManagerClient;
  let dir: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const target = String(req.headers['x-amz-target'] ?? '');
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, string>;
        calls.push({ target, body });
        const reply = (status: number, payload: unknown) => {
          res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
          res.end(JSON.stringify(payload));
        };
        const ok = req.method === 'POST' && req.headers['content-type'] === 'application/x-amz-json-1.1' && /^AWS4-HMAC-SHA256 /.test(String(req.headers.authorization));
        if (!ok) return reply(400, { __type: 'InvalidRequestException', message: 'not a signed JSON 1.1 request' });
        const arn = `arn:aws:secretsmanager:ap-southeast-1:111111111111:secret:${body.SecretId}-AbCdEf`;
        if (!store.has(body.SecretId!)) return reply(400, { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." });
        if (target === 'secretsmanager.GetSecretValue') {
          return reply(200, { ARN: arn, Name: body.SecretId, SecretString: store.get(body.SecretId!), VersionId: 'v1', VersionStages: ['AWSCURRENT'], CreatedDate: 1_700_000_000 });
        }
        if (target === 'secretsmanager.PutSecretValue') {
          store.set(body.SecretId!, body.SecretString!);
          return reply(200, { ARN: arn, Name: body.SecretId, VersionId: 'v2', VersionStages: ['AWSCURRENT'] });
        }
        return reply(400, { __type: 'InvalidRequestException', message: `unsupported ${target}` });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    client = new SecretsManagerClient({
      region: 'ap-southeast-1',
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'stand-in' },
    });
    dir = mkdtempSync(join(tmpdir(), 'secrets-'));
  });
  afterAll(async () => {
    client.destroy();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    store.clear();
    calls.length = 0;
    // As the stack creates them: every group `{}`; wechat already partly filled.
    for (const g of SECRET_GROUP_NAMES) store.set(`scrm-hub/prod/${g}`, '{}');
    store.set('scrm-hub/prod/wechat', JSON.stringify({ WECHAT_TOKEN: TOKEN, WECHAT_APP_SECRET: 'old-app-secret' }));
  });
  const file = (values: unknown) => {
    const path = join(dir, `f${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(path, JSON.stringify(values));
    return path;
  };
  const cli = async (...argv: string[]) => {
    const lines: string[] = [];
    const code = await run(argv, { client, out: (l) => lines.push(l) });
    return { code, text: lines.join('\n') };
  };

  it('put merges into the stored value, writes only touched groups and prints no value', async () => {
    const { code, text } = await cli('put', '--stage', 'prod', '--from', file({ WECHAT_APP_SECRET: 'new-app-secret', WECHAT_AES_KEY: AES, JD_APP_SECRET: 'jd-secret-1' }));
    expect(code).toBe(0);
    expect(JSON.parse(store.get('scrm-hub/prod/wechat')!)).toEqual({ WECHAT_TOKEN: TOKEN, WECHAT_APP_SECRET: 'new-app-secret', WECHAT_AES_KEY: AES });
    expect(JSON.parse(store.get('scrm-hub/prod/jd')!)).toEqual({ JD_APP_SECRET: 'jd-secret-1' });
    expect(calls.filter((c) => c.target === 'secretsmanager.PutSecretValue').map((c) => c.body.SecretId).sort()).toEqual(['scrm-hub/prod/jd', 'scrm-hub/prod/wechat']);
    for (const secret of ['new-app-secret', 'old-app-secret', AES, TOKEN, 'jd-secret-1']) expect(text).not.toContain(secret);
    expect(text).toContain(`WECHAT_APP_SECRET        changed   ${fp('new-app-secret')}`);
    expect(text).toContain(`WECHAT_TOKEN             kept      ${fp(TOKEN)}`);
  });
  it('put refuses an invalid file before any call, and --dry-run writes nothing', async () => {
    await expect(cli('put', '--stage', 'prod', '--from', file({ WECHAT_AES_KEY: 'bad', HUB_TIMEZONE: 'UTC' }))).rejects.toThrow(/WECHAT_AES_KEY: must be 43 characters.*; HUB_TIMEZONE is not a hub secret/);
    expect(calls).toEqual([]);
    const { code } = await cli('put', '--stage', 'prod', '--from', file({ JD_APP_SECRET: 'jd-secret-2' }), '--dry-run');
    expect(code).toBe(0);
    expect(calls.map((c) => c.target)).toEqual(['secretsmanager.GetSecretValue']);
    expect(store.get('scrm-hub/prod/jd')).toBe('{}');
  });
  it('put stops before writing anything when a secret does not exist', async () => {
    store.delete('scrm-hub/prod/tmall');
    await expect(cli('put', '--stage', 'prod', '--from', file({ JD_APP_SECRET: 'jd-secret-3', TMALL_APP_SECRET: 't' }))).rejects.toThrow(/scrm-hub\/prod\/tmall does not exist/);
    expect(calls.some((c) => c.target === 'secretsmanager.PutSecretValue')).toBe(false);
  });
  it('get prints fingerprints; check fails until every needed key is set', async () => {
    const got = await cli('get', '--stage', 'prod');
    expect(got.text).toContain(`WECHAT_TOKEN             ${fp(TOKEN)}`);
    expect(got.text).toContain('CODE_SIGNING_SECRET      (not set)');
    expect(got.text).not.toContain('old-app-secret');
    const before = await cli('check', '--stage', 'prod');
    expect(before.code).toBe(1);
    expect(before.text).toContain('problem: CODE_SIGNING_SECRET is missing (secret keys)');
    await cli(
      'put', '--stage', 'prod', '--from',
      file({
        WECHAT_AES_KEY: AES, TMALL_APP_SECRET: 't', JD_APP_SECRET: 'j', YOUZAN_CLIENT_SECRET: 'y', HUB_ADMIN_TOKEN: 'admin-token-123',
        CODE_SIGNING_SECRET: 'c'.repeat(32), PHONE_HASH_SECRET: 'p'.repeat(32), HUB_OTP_SECRET: 'o'.repeat(32),
      }),
    );
    const after = await cli('check', '--stage', 'prod');
    expect(after).toEqual({ code: 0, text: 'stage prod: every needed secret is set and valid' });
  });
});
