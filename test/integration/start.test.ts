/**
 * `npm start` as a developer runs it: a separate process on free ports, up and answering the
 * routes, and Ctrl-C (SIGINT) stops everything, DynamoDB Local's java process included.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { freePort } from '../../local/emulators.ts';
import { sha1Signature } from '../../lib/sources/wechat/signature.ts';
import { LOCAL_DEFAULTS } from '../../lib/config/index.ts';

let child: ChildProcess | undefined;
afterAll(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
});

function javaPids(port: number): string[] {
  try {
    return execFileSync('pgrep', ['-f', `DynamoDBLocal.jar.*ddb.port=${port}`], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

describe('npm start', () => {
  it('starts every service, answers the routes, and stops cleanly on SIGINT', async () => {
    const [port, standin, ddbPort, sqsPort, topPort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), WECHAT_STANDIN_PORT: String(standin), TOP_STANDIN_PORT: String(topPort), HUB_TABLE: 'scrm-hub', HUB_LOG_LEVEL: 'WARN' };
    for (const k of ['AWS_ENDPOINT_URL_DYNAMODB', 'AWS_ENDPOINT_URL_SQS', 'ENGAGEMENT_QUEUE_URL', 'STAFF_QUEUE_URL', 'WECHAT_API_BASE', 'TOP_API_BASE']) delete env[k];
    child = spawn(process.execPath, ['--import', 'tsx', 'local/start.ts', '--dynamodb-port', String(ddbPort), '--sqs-port', String(sqsPort)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`not ready:\n${out}`)), 90_000);
      const check = setInterval(() => {
        if (out.includes('Ctrl-C to stop')) {
          clearTimeout(t);
          clearInterval(check);
          resolve();
        }
        if (child!.exitCode !== null) {
          clearTimeout(t);
          clearInterval(check);
          reject(new Error(`exited early:\n${out}`));
        }
      }, 100);
    });
    const base = `http://127.0.0.1:${port}`;
    expect(out).toContain(`Gateway          ${base}`);
    // Secrets as length and fingerprint: sha256('local-admin-token') starts bc32a9a6 (computed with sha256sum).
    expect(out).toMatch(/HUB_ADMIN_TOKEN\s+\(17 chars, sha256 bc32a9a6\)/);
    expect(out).not.toContain(LOCAL_DEFAULTS.HUB_ADMIN_TOKEN);
    expect(out).not.toContain(LOCAL_DEFAULTS.WECHAT_AES_KEY);

    const ts = String(Math.floor(Date.now() / 1000));
    const sig = sha1Signature(LOCAL_DEFAULTS.WECHAT_TOKEN, ts, 'n');
    const verify = await fetch(`${base}/wechat/${LOCAL_DEFAULTS.WECHAT_APP_ID}?signature=${sig}&timestamp=${ts}&nonce=n&echostr=up`);
    expect(await verify.text()).toBe('up');
    expect((await fetch(`${base}/dashboard`)).status).toBe(200);
    const channels = await fetch(`${base}/channels`, { headers: { authorization: `Bearer ${LOCAL_DEFAULTS.HUB_ADMIN_TOKEN}` } });
    expect(channels.status).toBe(200);
    expect((await fetch(`${base}/channels`)).status).toBe(401);
    const run = await fetch(`${base}/_local/run/outbox-sweep`, { method: 'POST' });
    expect(run.status).toBe(200);
    const msgs = await fetch(`http://127.0.0.1:${standin}/_local/messages`);
    expect(msgs.status).toBe(200);

    expect(javaPids(ddbPort).length).toBeGreaterThan(0);
    child.kill('SIGINT');
    await new Promise<void>((resolve) => child!.once('exit', () => resolve()));
    expect(child.exitCode).toBe(0);
    expect(javaPids(ddbPort)).toEqual([]);
  }, 150_000);
});
