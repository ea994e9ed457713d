/**
 * Builds commerce pushes signed as the platforms send them: the Tmall TMC relay (TOP md5 over
 * the query and the raw body), the JD relay (JD md5) and Youzan (`Event-Sign` header), and posts
 * them to a hub.
 */
import { hubConfig } from './active.ts';
import { signJdParams } from '../../lib/sources/jd/sign.ts';
import { signTopParams, type TopSignMethod } from '../../lib/sources/tmall/sign.ts';
import { youzanEventSign } from '../../lib/sources/youzan/sign.ts';
import { formatChinaTime } from '../../lib/sources/commerce/time.ts';


/** TOP query parameters (app_key, timestamp, sign_method, then `extra`) with their sign over `body`. */
export function topSignedQuery(o: { appKey: string; secret: string; at: number; body: string; method?: TopSignMethod; extra?: Record<string, string> }): Record<string, string> {
  const method = o.method ?? 'md5';
  const params: Record<string, string> = { app_key: o.appKey, timestamp: formatChinaTime(o.at), sign_method: method, ...o.extra };
  return { ...params, sign: signTopParams(params, o.secret, method, o.body) };
}

/** JD relay query parameters (app_key, timestamp) with their md5 sign over `body`. */
export function jdSignedQuery(o: { appKey: string; secret: string; at: number; body: string }): Record<string, string> {
  const params = { app_key: o.appKey, timestamp: formatChinaTime(o.at) };
  return { ...params, sign: signJdParams(params, o.secret, o.body) };
}

export interface SignOptions {
  /** Default: the configured secret. */
  secret?: string;
  /** Request time (TOP / JD timestamp), epoch ms; default now. */
  at?: number;
  /** Changes the body after it was signed. */
  tamper?: (body: string) => string;
}

export interface SignedCommerceRequest {
  path: string;
  body: string;
  headers: Record<string, string>;
}

/** A TMC relay POST to the configured Tmall app key. */
export function signedTmall(body: string, o: SignOptions = {}): SignedCommerceRequest {
  const cfg = hubConfig();
  const query = topSignedQuery({ appKey: cfg.TMALL_APP_KEY, secret: o.secret ?? cfg.TMALL_APP_SECRET, at: o.at ?? Date.now(), body });
  return { path: `/tmall/${cfg.TMALL_APP_KEY}?${new URLSearchParams(query)}`, body: o.tamper ? o.tamper(body) : body, headers: {} };
}

/** A JD relay POST to the configured JD app key. */
export function signedJd(body: string, o: SignOptions = {}): SignedCommerceRequest {
  const cfg = hubConfig();
  const query = jdSignedQuery({ appKey: cfg.JD_APP_KEY, secret: o.secret ?? cfg.JD_APP_SECRET, at: o.at ?? Date.now(), body });
  return { path: `/jd/${cfg.JD_APP_KEY}?${new URLSearchParams(query)}`, body: o.tamper ? o.tamper(body) : body, headers: {} };
}

/** A Youzan push of event `type` to the configured client id, `Event-Sign` = md5(client_id + raw body + client_secret). */
export function signedYouzan(body: string, type: string, o: SignOptions = {}): SignedCommerceRequest {
  const cfg = hubConfig();
  const sign = youzanEventSign(cfg.YOUZAN_CLIENT_ID, body, o.secret ?? cfg.YOUZAN_CLIENT_SECRET);
  return { path: `/youzan/${cfg.YOUZAN_CLIENT_ID}`, body: o.tamper ? o.tamper(body) : body, headers: { 'event-sign': sign, 'event-type': type } };
}

export interface Reply {
  status: number;
  text: string;
}

/** POSTs a request to the hub at `base`; the reply's status and text. */
export async function postCommerce(base: string, req: { path: string; body: string; headers?: Record<string, string> }, contentType = 'application/json; charset=utf-8'): Promise<Reply> {
  const res = await fetch(base + req.path, { method: 'POST', body: req.body, headers: { 'content-type': contentType, ...req.headers } });
  return { status: res.status, text: await res.text() };
}
