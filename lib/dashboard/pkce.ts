/**
 * OAuth 2.0 PKCE (RFC 7636) for the dashboard's OIDC sign-in (authorization code + PKCE, S256):
 * a random code verifier, its challenge BASE64URL(SHA256(ASCII(verifier))), and the
 * authorization request URL. Uses Web Crypto only, so the same code runs in the page and in Node.
 */

/** 43-128 characters of [A-Za-z0-9-._~] (RFC 7636 §4.1). */
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

/** Base64url without padding (RFC 4648 §5, RFC 7636 appendix A). */
export function base64Url(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** A fresh code verifier: 32 random octets, base64url (43 characters, 256 bits). */
export function codeVerifier(random: (bytes: Uint8Array) => Uint8Array = (b) => crypto.getRandomValues(b)): string {
  return base64Url(random(new Uint8Array(32)));
}

/** code_challenge for method S256. */
export async function codeChallenge(verifier: string): Promise<string> {
  if (!VERIFIER.test(verifier)) throw new Error('code verifier must be 43-128 characters of [A-Za-z0-9-._~]');
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64Url(new Uint8Array(digest));
}

export interface AuthorizationRequest {
  /** The issuer's authorization endpoint (from its discovery document). */
  authorizationEndpoint: string;
  clientId: string;
  redirectUri: string;
  scopes: readonly string[];
  state: string;
  challenge: string;
}

/** The authorization request URL (response_type=code, code_challenge_method=S256; `openid` always asked for). */
export function authorizationUrl(req: AuthorizationRequest): string {
  const url = new URL(req.authorizationEndpoint);
  const scope = ['openid', ...req.scopes.filter((s) => s !== 'openid')].join(' ');
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', req.clientId);
  url.searchParams.set('redirect_uri', req.redirectUri);
  url.searchParams.set('scope', scope);
  url.searchParams.set('state', req.state);
  url.searchParams.set('code_challenge', req.challenge);
  url.searchParams.set('code_challenge_method', 'S256');
  return url.toString();
}
