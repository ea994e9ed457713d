/** Admin scopes (requireAdmin with a JWT context) and the dashboard's PKCE helpers (RFC 7636). */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { ForbiddenError, UnauthorizedError } from '../../lib/errors.ts';
import { requireAdmin } from '../../lib/runtime/http.ts';
import { ADMIN_SCOPES, FUNCTIONS, routeScope } from '../../lib/manifest.ts';
import { authorizationUrl, base64Url, codeChallenge, codeVerifier } from '../../lib/dashboard/pkce.ts';

const event = (opts: { bearer?: string; claims?: Record<string, unknown> }): APIGatewayProxyEventV2 =>
  ({
    headers: opts.bearer ? { authorization: `Bearer ${opts.bearer}` } : {},
    requestContext: opts.claims ? { authorizer: { jwt: { claims: opts.claims, scopes: null } } } : {},
  }) as unknown as APIGatewayProxyEventV2;

describe('requireAdmin with scopes', () => {
  it('locally: the bearer token, whatever the scope', () => {
    expect(() => requireAdmin(event({ bearer: 'local-admin-token' }), 'local-admin-token', 'codes:write')).not.toThrow();
    expect(() => requireAdmin(event({ bearer: 'wrong-admin-token' }), 'local-admin-token', 'codes:write')).toThrow(UnauthorizedError);
  });
  it('with a JWT context: the scope must be in the scope claim (space-separated, or API Gateway\'s [a b])', () => {
    expect(() => requireAdmin(event({ claims: { scope: 'openid members:read codes:write' } }), 'x', 'codes:write')).not.toThrow();
    expect(() => requireAdmin(event({ claims: { scope: '[openid codes:write]' } }), 'x', 'codes:write')).not.toThrow();
    expect(() => requireAdmin(event({ claims: { scope: 'openid members:read' } }), 'x', 'codes:write')).toThrow(ForbiddenError);
    expect(() => requireAdmin(event({ claims: { scope: 'codes:writer' } }), 'x', 'codes:write')).toThrow(/lacks the scope codes:write/);
    expect(() => requireAdmin(event({ claims: {} }), 'x', 'attribution:read')).toThrow(ForbiddenError);
    // No scope asked: any token the authorizer let through.
    expect(() => requireAdmin(event({ claims: {} }), 'x')).not.toThrow();
  });
  it('every admin route declares a known scope; routeScope finds it by route key (hand-written table)', () => {
    for (const f of FUNCTIONS) for (const r of f.routes ?? []) if (r.admin) expect(ADMIN_SCOPES, `${r.method} ${r.path}`).toContain(r.scope);
    expect(routeScope('GET /attribution/channels')).toBe('attribution:read');
    expect(routeScope('GET /members/{id}')).toBe('members:read');
    expect(routeScope('POST /channels')).toBe('channels:write');
    expect(routeScope('POST /codes/batches')).toBe('codes:write');
    expect(routeScope('GET /codes/batches/{id}/codes.csv')).toBe('codes:export');
    expect(routeScope('POST /codes/scan')).toBeUndefined();
  });
});

describe('PKCE (RFC 7636)', () => {
  it('appendix B known answer: verifier → S256 challenge', async () => {
    // RFC 7636 appendix B: the 32 octets, their base64url verifier, and the challenge.
    const octets = new Uint8Array([116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37, 77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121]);
    expect(base64Url(octets)).toBe('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk');
    expect(codeVerifier(() => octets)).toBe('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk');
    expect(await codeChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
  });
  it('a random verifier is 43 unreserved characters, different each time', () => {
    const a = codeVerifier();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(codeVerifier()).not.toBe(a);
  });
  it('refuses a verifier outside 43-128 unreserved characters', async () => {
    await expect(codeChallenge('short')).rejects.toThrow(/43-128/);
    await expect(codeChallenge('a'.repeat(129))).rejects.toThrow(/43-128/);
    await expect(codeChallenge(`${'a'.repeat(42)}+`)).rejects.toThrow(/43-128/);
  });
  it('the authorization URL carries code, client, redirect, scopes with openid, state and the S256 challenge', () => {
    const url = new URL(
      authorizationUrl({
        authorizationEndpoint: 'https://login.scrm-hub.test/authorize?tenant=a',
        clientId: 'dash',
        redirectUri: 'https://hub.scrm-hub.test/dashboard',
        scopes: ['attribution:read', 'openid'],
        state: 's1',
        challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      }),
    );
    expect(url.origin + url.pathname).toBe('https://login.scrm-hub.test/authorize');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      tenant: 'a',
      response_type: 'code',
      client_id: 'dash',
      redirect_uri: 'https://hub.scrm-hub.test/dashboard',
      scope: 'openid attribution:read',
      state: 's1',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    });
  });
});
