/**
 * The Tmall 会员通 (brand membership) SPI the brand's server answers, called by the Tmall member
 * centre through 奇门 (docs/platforms.md#tmall-mei-spi):
 *
 *   POST /tmall/mei/{appKey}?method=…&app_key=…&timestamp=…&sign_method=…&sign=…   body: JSON
 *
 * - The request is checked before anything is parsed: the 奇门 / TOP SPI signature (md5 / hmac /
 *   hmac-sha256 over the sorted query parameters, the headers named in `top-sign-list` and the
 *   raw body, lib/sources/tmall/sign.ts) with TMALL_APP_SECRET, and its timestamp within
 *   HUB_WEBHOOK_MAX_SKEW_SECONDS of the server clock. Bad → 401, nothing read or written.
 * - The answer budget is tight (the member centre's flight mode starts when a join times out;
 *   queries must answer within 1.2 s): a query is consistent reads only, a bind/register is ONE
 *   apply() transaction (`platform.member_join` with the phone's HMAC, `membership`), and no
 *   platform is called. A bind/register plans no outbox row, so nothing is sent after the commit.
 * - Methods: `tmall.mei.crm.member.bind.query` (bind_code SUC / E02 / E04), `tmall.mei.crm.bind`
 *   and `tmall.mei.crm.member.register` (join or create the member by `ouid` and phone HMAC),
 *   `tmall.mei.crm.query` (query_code + member{point, level}). Any other method → 400.
 * - Behind TMALL_MEI_SPI_ENABLED (default off → 404): the bind/register field lists and the
 *   answer envelope rest on third-party code, not on the platform's documentation.
 */
import * as z from 'zod';
import { BadRequestError, ConflictError, NotFoundError } from '../errors.ts';
import type { HubConfig } from '../config/index.ts';
import type { Identity } from '../events/hub-event.ts';
import { hashPhone, maskPhone, normalisePhone } from '../members/phone.ts';
import { readMember, type StoredMember } from '../members/record.ts';
import { identities, identityRef } from '../store/entities/identity.ts';
import { stableId } from '../ids.ts';
import { applyWith } from './apply-with.ts';
import { COMMERCE_PLANNERS } from './planners/orders.ts';
import type { ApplyDeps } from '../port.ts';
import type { Store } from '../store/client.ts';
import type { InboundRequest } from '../sources/types.ts';
import { verifyTmallRequest } from '../sources/tmall/sign.ts';

export const MEI_METHODS = ['tmall.mei.crm.member.bind.query', 'tmall.mei.crm.bind', 'tmall.mei.crm.member.register', 'tmall.mei.crm.query'] as const;
export type MeiMethod = (typeof MEI_METHODS)[number];

/** The largest SPI body accepted (a handful of short fields). */
export const MEI_MAX_BODY_BYTES = 16 * 1024;

/** What a bind/register may take of its answer budget before it gives up (503, the member centre retries). */
export const MEI_APPLY_BUDGET_MS = 1000;

const field = z.string().max(256).optional();
/**
 * The fields the hub reads (doc 108453 / 109384 names; unknown fields are ignored). `mobile` is
 * the plaintext number; `mix_mobile` is encrypted by default and cannot be matched.
 */
export const MeiRequest = z.looseObject({
  seller_name: field,
  ouid: z.string().min(1).max(128).optional(),
  omid: z.string().min(1).max(128).optional(),
  mobile: field,
  mix_mobile: field,
  nick: field,
});
export type MeiRequest = z.infer<typeof MeiRequest>;

export interface MeiDeps extends ApplyDeps {
  store: Store;
}

export interface MeiAnswer {
  statusCode: 200;
  body: Record<string, unknown>;
}

/** The phone of a request as the member record keys it (HMAC), when a plaintext mobile came. */
function phoneOf(req: MeiRequest, cfg: HubConfig): { hash: string; masked: string } | undefined {
  if (!req.mobile) return undefined;
  const phone = normalisePhone(req.mobile);
  return { hash: hashPhone(phone, cfg.PHONE_HASH_SECRET), masked: maskPhone(phone) };
}

function platformIds(req: MeiRequest): Identity[] {
  const out: Identity[] = [];
  if (req.ouid) out.push({ kind: 'tmall_ouid', value: req.ouid });
  if (req.omid) out.push({ kind: 'tmall_omid', value: req.omid });
  return out;
}

/** The first member (in the order given) one of these identities is bound to. */
async function memberOf(store: Store, ids: Identity[]): Promise<StoredMember | undefined> {
  if (ids.length === 0) return undefined;
  const bound = await identities.readMany(store, ids);
  for (const id of ids) {
    const memberId = bound.get(identityRef(id));
    if (memberId) return readMember(store, memberId);
  }
  return undefined;
}

const isMember = (m: StoredMember | undefined): m is StoredMember => m !== undefined && m.history.registeredAt !== undefined;

/**
 * Verifies the request (switch, app key, signature, timestamp) and answers its method. Throws
 * NotFoundError when the door is off, SignatureError (401) on a bad or stale signature,
 * BadRequestError (400) for an unknown method or a malformed body.
 */
export async function answerMeiSpi(req: InboundRequest, deps: MeiDeps): Promise<MeiAnswer> {
  const { cfg } = deps;
  if (cfg.TMALL_MEI_SPI_ENABLED !== 'true') throw new NotFoundError('the Tmall 会员通 SPI is not enabled (TMALL_MEI_SPI_ENABLED)');
  if (req.account !== cfg.TMALL_APP_KEY) throw new NotFoundError('unknown app key');
  const verified = verifyTmallRequest(req, cfg);
  const method = req.query['method'];
  if (!(MEI_METHODS as readonly (string | undefined)[]).includes(method)) {
    throw new BadRequestError(`unsupported 会员通 method "${String(method ?? '').slice(0, 64)}"`, [`method: one of ${MEI_METHODS.join(', ')}`], 'unsupported_method');
  }
  const format = req.query['format'] ?? 'json';
  if (format !== 'json') throw new BadRequestError('only format=json bodies are accepted', undefined, 'unsupported_format');
  let raw: unknown;
  try {
    raw = JSON.parse(req.body.toString('utf8'));
  } catch {
    throw new BadRequestError('the body is not JSON', undefined, 'invalid_json');
  }
  const parsed = MeiRequest.safeParse(raw);
  if (!parsed.success) throw new BadRequestError('invalid 会员通 request', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  const body = parsed.data;
  const phone = phoneOf(body, cfg);
  switch (method as MeiMethod) {
    case 'tmall.mei.crm.member.bind.query':
      return bindQuery(body, phone, deps);
    case 'tmall.mei.crm.query':
      return memberQuery(body, phone, deps);
    case 'tmall.mei.crm.bind':
    case 'tmall.mei.crm.member.register':
      return bind(method as MeiMethod, body, phone, verified.timestamp, req.receivedAt, deps);
  }
}

/**
 * bind.query: E02 when the `ouid` already belongs to a member of the programme; SUC (bindable,
 * the plaintext mobile echoed as the documentation asks) when the phone belongs to one; E04 (no
 * member, may register) otherwise — the hub accepts every Tmall shopper's registration.
 */
async function bindQuery(body: MeiRequest, phone: { hash: string } | undefined, deps: MeiDeps): Promise<MeiAnswer> {
  const byOuid = await memberOf(deps.store, platformIds(body));
  if (isMember(byOuid)) return ok({ bind_code: 'E02', bindable: false });
  const byPhone = phone ? await memberOf(deps.store, [{ kind: 'phone', value: phone.hash }]) : undefined;
  if (isMember(byPhone)) return ok({ bind_code: 'SUC', bindable: true, ...(body.mobile ? { mobile: body.mobile } : {}) });
  return ok({ bind_code: 'E04', bindable: true });
}

/** query: the programme member by `ouid`, else by phone: SUC with points and tier, E02 known but not a member, E01 none. */
async function memberQuery(body: MeiRequest, phone: { hash: string } | undefined, deps: MeiDeps): Promise<MeiAnswer> {
  const ids = [...platformIds(body), ...(phone ? [{ kind: 'phone' as const, value: phone.hash }] : [])];
  if (ids.length === 0) throw new BadRequestError('a query needs ouid, omid or mobile', ['ouid: required without mobile'], 'missing_field');
  const m = await memberOf(deps.store, ids);
  if (!m) return ok({ query_code: 'E01' });
  if (!isMember(m)) return ok({ query_code: 'E02' });
  return ok({ query_code: 'SUC', member: { point: m.points, level: m.tier, ...(body.mobile ? { mobile: body.mobile } : {}) } });
}

/**
 * bind / register: one transaction that joins the shopper (ouid, omid, phone HMAC) to the record
 * holding any of them, or creates the member. A phone needs the plaintext `mobile` (a join by
 * `ouid` alone is kept: the phone arrives with a later bind). Repeats are duplicates (same answer).
 */
async function bind(method: MeiMethod, body: MeiRequest, phone: { hash: string; masked: string } | undefined, at: number, receivedAt: number, deps: MeiDeps): Promise<MeiAnswer> {
  if (!body.ouid) throw new BadRequestError(`${method} needs ouid`, ['ouid: required'], 'missing_field');
  const buyer = platformIds(body);
  try {
    const r = await applyWith(
      COMMERCE_PLANNERS,
      {
        type: 'platform.member_join',
        source: 'tmall',
        platform: 'tmall',
        // The phone's HMAC is an identity value: the dedupe key carries a digest of it.
        eventId: `tmall:mei:bind:${body.ouid}:${phone ? stableId('mei-phone', phone.hash) : '-'}`,
        occurredAt: at,
        shopId: (body.seller_name || deps.cfg.TMALL_SELLER_ID || deps.cfg.TMALL_APP_KEY).slice(0, 128),
        buyer,
        ...(phone ? { phoneHash: phone.hash, phoneMasked: phone.masked } : {}),
        membership: true,
      },
      deps,
      {},
      { deadline: receivedAt + MEI_APPLY_BUDGET_MS, afterCommitQueueFailure: 'sweep' },
    );
    return ok({ bind_code: 'SUC', member_id: r.memberId });
  } catch (err) {
    // Another phone on the record, or two records that cannot be one person: not bindable.
    if (err instanceof ConflictError) return ok({ bind_code: 'E02', bindable: false, message: err.message });
    throw err;
  }
}

const ok = (body: Record<string, unknown>): MeiAnswer => ({ statusCode: 200, body });
