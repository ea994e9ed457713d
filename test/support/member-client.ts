/**
 * HTTP helpers for the member centre and the admin API against a running test hub: sessions on
 * the WeChat stand-in's OAuth codes (`local:<openid>`), member routes with the session token,
 * admin routes with the local admin token, code batches downloaded through the admin CSV, scans.
 */
import { expect } from 'vitest';
import { hubConfig } from './env.ts';

export interface Reply<T = Record<string, unknown>> {
  status: number;
  text: string;
  body: T;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are checked field by field
type Loose = any;

export function memberClient(base: () => string) {
  const cfg = () => hubConfig();
  async function request(method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<Reply<Loose>> {
    const res = await fetch(base() + path, {
      method,
      headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    let parsed: unknown = {};
    try {
      parsed = JSON.parse(text);
    } catch {
      /* CSV */
    }
    return { status: res.status, text, body: parsed };
  }
  const admin = (method: string, path: string, body?: unknown) => request(method, path, { authorization: `Bearer ${cfg().HUB_ADMIN_TOKEN}` }, body);

  /** A session token for the openid on the default official account. */
  async function session(openid: string): Promise<string> {
    const r = await request('POST', '/sessions', {}, { appId: cfg().WECHAT_APP_ID, oauthCode: `local:${openid}` });
    expect(r.status, r.text).toBe(200);
    return String(r.body.token);
  }
  const member = (token: string, method: string, path: string, body?: unknown) => request(method, path, { authorization: `Bearer ${token}` }, body);

  /** A code batch on its own channel; its printable codes in serial order. */
  async function batch(spec: { sku: string; name: string; points: number; channel: string; count: number }): Promise<string[]> {
    const ch = await admin('POST', '/channels', { id: spec.channel, name: spec.channel, kind: 'code_batch' });
    expect([201, 409], ch.text).toContain(ch.status);
    const b = await admin('POST', '/codes/batches', spec);
    expect(b.status, b.text).toBe(201);
    const csv = await admin('GET', `/codes/batches/${String(b.body.batchId)}/codes.csv`);
    expect(csv.status, csv.text).toBe(200);
    return csv.text
      .trimEnd()
      .split('\r\n')
      .slice(1)
      .map((l) => l.split(',')[0]!);
  }

  const scan = (openid: string, code: string) => request('POST', '/codes/scan', {}, { appId: cfg().WECHAT_APP_ID, oauthCode: `local:${openid}`, code });

  return { request, admin, session, member, batch, scan };
}
