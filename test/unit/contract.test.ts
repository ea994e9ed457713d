/** The HTTP contract (openapi.yaml) and the function manifest describe the same routes. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FUNCTIONS } from '../../lib/manifest.ts';

const spec = readFileSync(new URL('../../openapi.yaml', import.meta.url), 'utf8');

function documented(): Set<string> {
  const out = new Set<string>();
  let path = '';
  for (const line of spec.split('\n')) {
    const p = /^ {2}(\/\S*):\s*$/.exec(line);
    if (p) path = p[1]!;
    const m = /^ {4}(get|post|put|delete|patch):/.exec(line);
    if (m && path) out.add(`${m[1]!.toUpperCase()} ${path}`);
  }
  return out;
}

describe('HTTP contract', () => {
  const routes = FUNCTIONS.flatMap((f) => (f.routes ?? []).map((r) => `${r.method} ${r.path}`));
  it('documents every route the hub serves, and serves every documented route', () => {
    expect([...documented()].sort()).toEqual([...new Set(routes)].sort());
  });
  it('keeps the fixed routes of the architecture', () => {
    for (const r of [
      'GET /wechat/{appId}',
      'POST /wechat/{appId}',
      'POST /tmall/{appKey}',
      'POST /jd/{appKey}',
      'POST /youzan/{clientId}',
      'POST /codes/scan',
      'POST /members',
      'GET /members/{id}',
      'POST /channels',
      'GET /channels',
      'POST /codes/batches',
      'GET /codes/batches/{id}/codes.csv',
      'GET /attribution/channels',
      'GET /attribution/channels/{id}/daily',
      'GET /attribution/channels.csv',
      'GET /dashboard',
    ]) expect(routes).toContain(r);
  });
  it('marks exactly the admin routes as needing the admin token, with the scope of the manifest', () => {
    const admin = FUNCTIONS.flatMap((f) => (f.routes ?? []).filter((r) => r.admin));
    for (const r of admin) {
      expect(spec).toMatch(
        new RegExp(`\\n  ${r.path.replace(/[{}.]/g, '\\$&')}:\\n(    .*\\n)*?    ${r.method.toLowerCase()}:\\n(    .*\\n)*?      security: \\[\\{ admin: \\['${r.scope}'\\] \\}\\]`),
      );
    }
  });
});
