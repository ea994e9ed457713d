/**
 * Referrals (老带新): every member gets a personal member-centre link carrying a signed referral
 * token (`GET /me/referral`); a person who registers through it (`POST /members` with
 * `referralToken`) records `referredBy`, and the referrer earns HUB_REFERRAL_POINTS once per
 * referred person, at most HUB_REFERRAL_MONTHLY_CAP paid referrals per local month (more are
 * recorded as `capped`). The referral lands in the referrer's history (`referrals`), so the
 * attribution counters get the referrer's `referredMembers` and `referringMembers` from the same
 * order-independent credits as everything else (lib/attribution/credits.ts).
 *
 * Token: `<payload>.<mac>`, payload the base64url of `{r: referrerId, exp}` (epoch seconds,
 * HUB_REFERRAL_TOKEN_TTL_DAYS), mac the base64url HMAC-SHA256 under HUB_SESSION_SECRET of
 * `referral.<payload>` (a purpose prefix, so a referral token is never a session token).
 *
 * Ignored for credit and recorded (REFERRAL#BY row, lib/store/entities/referral.ts): a forged or
 * expired token, the member's own link (also a record merged with the referrer), an unknown
 * referrer. A referral between two records that later merge is reversed: the points are taken
 * back and the referral leaves the history (`unwindMergedReferrals`).
 *
 * Not built: the temporary parametric QR (`QR_STR_SCENE`) per member (docs/loyalty.md#referrals).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { HubConfig } from '../config/index.ts';
import { TransientError } from '../errors.ts';
import type { Port } from '../port.ts';
import { consume, earn } from '../members/points.ts';
import { writeMember, type StoredMember } from '../members/record.ts';
import { referralRows, type ReferralRow } from '../store/entities/referral.ts';
import { DAY_MS, localDay } from '../time.ts';

/** What a registration's referral token says, once read (MemberRegister `referral`). */
export type ReferralClaim = { referrerId: string } | { rejected: 'forged' | 'expired' };

function secretOf(cfg: HubConfig): string {
  const s = cfg.HUB_SESSION_SECRET;
  if (!s) throw new TransientError('referral links are not configured (HUB_SESSION_SECRET)');
  return s;
}

const mac = (secret: string, payload: string) => createHmac('sha256', secret).update(`referral.${payload}`, 'utf8').digest('base64url');

/** The member's referral link: a token valid HUB_REFERRAL_TOKEN_TTL_DAYS, and the member-centre URL carrying it. */
export function referralLink(cfg: HubConfig, memberId: string, now: number): { token: string; expiresAt: number; link: string } {
  const exp = Math.floor((now + cfg.HUB_REFERRAL_TOKEN_TTL_DAYS * DAY_MS) / 1000);
  const payload = Buffer.from(JSON.stringify({ r: memberId, exp }), 'utf8').toString('base64url');
  const token = `${payload}.${mac(secretOf(cfg), payload)}`;
  const url = new URL(cfg.HUB_MEMBER_CENTRE_URL);
  url.searchParams.set('ref', token);
  return { token, expiresAt: exp * 1000, link: url.toString() };
}

/** Reads a referral token: the referrer, or why it is rejected (never throws for a bad token). */
export function readReferralToken(cfg: HubConfig, token: string, now: number): ReferralClaim {
  const m = /^([A-Za-z0-9_-]{1,400})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!m) return { rejected: 'forged' };
  const want = Buffer.from(mac(secretOf(cfg), m[1]!));
  const got = Buffer.from(m[2]!);
  if (want.length !== got.length || !timingSafeEqual(want, got)) return { rejected: 'forged' };
  let body: { r?: unknown; exp?: unknown };
  try {
    body = JSON.parse(Buffer.from(m[1]!, 'base64url').toString('utf8')) as { r?: unknown; exp?: unknown };
  } catch {
    return { rejected: 'forged' };
  }
  if (typeof body.r !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(body.r) || typeof body.exp !== 'number') return { rejected: 'forged' };
  if (body.exp * 1000 <= now) return { rejected: 'expired' };
  return { referrerId: body.r };
}

/** Every record id a member stands for (its own and those merged into it). */
const idsOf = (m: Pick<StoredMember, 'memberId' | 'mergedFrom'>) => new Set([m.memberId, ...(m.mergedFrom ?? [])]);

/**
 * A first registration that came with a referral: records how (REFERRAL#BY of `referred`) and
 * credits the referrer (points, the referral in its history, its profile written in this
 * transaction under its version). Call before the referred member is saved.
 */
export async function planReferral(p: Port, referred: StoredMember, claim: ReferralClaim, at: number): Promise<void> {
  const record = (row: Omit<ReferralRow, 'memberId' | 'at'>) => referralRows.create(p.tx, { memberId: referred.memberId, at, ...row });
  if ('rejected' in claim) return record({ status: 'ignored', reason: claim.rejected, points: 0 });
  const referrer = await p.reads.member<StoredMember>(claim.referrerId);
  if (!referrer) return record({ status: 'ignored', reason: 'unknown_referrer', referrerId: claim.referrerId, points: 0 });
  const mine = idsOf(referred);
  if ([...idsOf(referrer)].some((id) => mine.has(id))) return record({ status: 'ignored', reason: 'self', referrerId: referrer.memberId, points: 0 });

  const month = localDay(at, p.tz).slice(0, 7);
  const earlier = (referrer.history.referrals ?? []).filter((r) => r.memberId !== referred.memberId);
  const paidThisMonth = earlier.filter((r) => r.points > 0 && localDay(r.at, p.tz).slice(0, 7) === month).length;
  const points = paidThisMonth < p.cfg.HUB_REFERRAL_MONTHLY_CAP ? p.cfg.HUB_REFERRAL_POINTS : 0;
  referrer.history.referrals = [...earlier, { at, memberId: referred.memberId, points }].sort((a, b) => a.at - b.at);
  if (points > 0) earn(p, referrer, points, 'referral', referred.memberId, at);
  writeMember(p.tx, referrer, false, {
    tz: p.tz,
    shards: p.cfg.HUB_COUNTER_SHARDS,
    rules: p.cfg.memberRules,
    now: p.now,
    ...(p.creditWrites ? { creditWrites: p.creditWrites } : {}),
  });
  referred.referredBy = referrer.memberId;
  record({ status: points > 0 ? 'credited' : 'capped', referrerId: referrer.memberId, points });
}

/** The referrals of a merged history that are between records now one person. */
export function referralsWithin(m: Pick<StoredMember, 'memberId' | 'mergedFrom' | 'history'>) {
  const ids = idsOf(m);
  return (m.history.referrals ?? []).filter((r) => ids.has(r.memberId));
}

/**
 * After a merge: a referral between the merged records (the referred person merged into its
 * referrer, or the other way) is reversed — the points taken back, the referral out of the
 * history (so out of the referral counters).
 */
export async function unwindMergedReferrals(p: Port, survivor: StoredMember): Promise<void> {
  const within = referralsWithin(survivor);
  if (!within.length) return;
  const gone = new Set(within.map((r) => r.memberId));
  survivor.history.referrals = (survivor.history.referrals ?? []).filter((r) => !gone.has(r.memberId));
  if (!survivor.history.referrals.length) delete survivor.history.referrals;
  for (const r of within) if (r.points > 0) await consume(p, survivor, r.points, 'referral_reversal', r.memberId, p.now);
}

/** GET /me/referral: the member's link and what it brought. */
export async function meReferral(m: StoredMember, deps: { cfg: HubConfig; now: number }) {
  const referrals = m.history.referrals ?? [];
  return {
    ...referralLink(deps.cfg, m.memberId, deps.now),
    referred: referrals.length,
    pointsEarned: referrals.reduce((s, r) => s + r.points, 0),
    referrals: referrals.map((r) => ({ at: r.at, points: r.points })),
  };
}
