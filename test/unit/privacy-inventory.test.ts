/**
 * The data inventory (docs/privacy.md#inventory, lib/privacy/inventory.ts) against the item types
 * of the key schema (the header of lib/store/keys.ts): a new item type without an inventory line
 * in both fails here. Also the retention table's defaults against the configuration, the
 * identifier matching of the erasure, the consent gate of the guardrails and the fan-retention
 * date — each against hand-written expectations.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { erasePolicyOf, INVENTORY, sectionOf, typeOf } from '../../lib/privacy/inventory.ts';
import { identityToken, tokenMatcher } from '../../lib/privacy/tokens.ts';
import { fanRetentionAt } from '../../lib/privacy/fan-retention.ts';
import { decide, mayMarket } from '../../lib/engagement/guardrails.ts';
import { DEFAULT_POLICY } from '../../lib/config/engagement.ts';
import { loadConfig } from '../../lib/config/load.ts';
import { digestOf, tombstoned, tombstoneDigests, tombstoneRecord } from '../../lib/archive/erase.ts';

const keysSource = readFileSync(new URL('../../lib/store/keys.ts', import.meta.url), 'utf8');
const privacyDoc = readFileSync(new URL('../../docs/privacy.md', import.meta.url), 'utf8');

/** The item-type names of the key schema's header: ` *   <name> <KEY#pattern>` lines of the "Item types" block (names are lower case). */
function keySchemaTypes(): string[] {
  const block = keysSource.slice(keysSource.indexOf(' * Item types'), keysSource.indexOf(' * Member review index'));
  const out: string[] = [];
  for (const line of block.split('\n')) {
    const m = /^ \* {3}([a-z][a-z ()]*?)\s+[A-Z]+#/.exec(line);
    if (m) out.push(m[1]!.trim());
  }
  return out;
}

/** The inventory table of docs/privacy.md: item type → its cells. */
function docInventory(): Map<string, string[]> {
  const section = privacyDoc.slice(privacyDoc.indexOf('## Inventory'));
  const rows = new Map<string, string[]>();
  for (const line of section.split('\n')) {
    if (!line.startsWith('| ') || line.startsWith('| item type') || line.startsWith('|---')) continue;
    const cells = line.split('|').slice(1, -1).map((c) => c.trim());
    rows.set(cells[0]!, cells);
  }
  return rows;
}

describe('the data inventory', () => {
  const schema = keySchemaTypes();

  it('reads the item types of the key schema (a sanity check of the parser)', () => {
    expect(schema).toContain('dedupe marker');
    expect(schema).toContain('sms send limit');
    expect(schema).toContain('consent record');
    expect(schema.length).toBeGreaterThanOrEqual(33);
    expect(new Set(schema).size).toBe(schema.length);
  });

  it('docs/privacy.md has exactly one line per item type of lib/store/keys.ts', () => {
    expect([...docInventory().keys()].sort()).toEqual([...schema].sort());
  });

  it('lib/privacy/inventory.ts has exactly one entry per item type, with the erasure the docs state', () => {
    expect(INVENTORY.map((t) => t.type).sort()).toEqual([...schema].sort());
    const doc = docInventory();
    for (const t of INVENTORY) expect(doc.get(t.type)?.at(-1), t.type).toBe(t.erase);
  });

  it("finds an item type by its key; anything of the person's member partition or unknown is deleted, another member's partition kept", () => {
    const cases: [string, string, string | undefined, string][] = [
      ['MEMBER#m1', '#PROFILE', 'member profile', 'delete'],
      ['MEMBER#m1', 'CONSENT#0000000000000001#x', 'consent record', 'delete'],
      ['MEMBER#m1', 'COUPON#c1', undefined, 'delete'],
      ['ORDER#youzan#s#o', '#', 'order', 'anonymise'],
      ['SENDMSG#wx1#99', '#', 'send by msgid', 'delete'],
      ['SEND#m', '#', 'send record', 'delete'],
      ['SEQ#codes', '#', 'serial sequence', 'keep'],
      ['DELTA#3', '0000000000000001#m1#0000000000000002', 'credit delta', 'rekey'],
      ['ERASE#m1', '#', 'erasure job', 'keep'],
      ['LOYALTY#x', '#', undefined, 'delete'],
    ];
    for (const [pk, sk, type, policy] of cases) {
      expect(typeOf({ pk, sk })?.type, `${pk} ${sk}`).toBe(type);
      expect(erasePolicyOf({ pk, sk }, ['m1']), `${pk} ${sk}`).toBe(policy);
    }
    // The erasure of m1 and the record merged into it (m0): another member's partition is theirs.
    expect(erasePolicyOf({ pk: 'MEMBER#m0', sk: '#PROFILE' }, ['m1', 'm0'])).toBe('delete');
    expect(erasePolicyOf({ pk: 'MEMBER#m2', sk: '#PROFILE' }, ['m1', 'm0'])).toBe('keep');
    expect(erasePolicyOf({ pk: 'MEMBER#m2', sk: 'LEDGER#0000000000000001#e' }, ['m1'])).toBe('keep');
    expect(erasePolicyOf({ pk: 'MEMBER#m10', sk: '#PROFILE' }, ['m1'])).toBe('keep');
    expect(sectionOf({ pk: 'MEMBER#m1', sk: 'COUPON#c1' })).toBe('COUPON');
    expect(sectionOf({ pk: 'LOYALTY#x', sk: '#' })).toBe('LOYALTY');
  });

  it('states the retention defaults the configuration has', () => {
    const cfg = loadConfig({ env: {}, local: true }) as unknown as Record<string, unknown>;
    const retention = privacyDoc.slice(privacyDoc.indexOf('## Retention'), privacyDoc.indexOf('## Inventory'));
    const expected: Record<string, number> = { HUB_DEDUPE_TTL_DAYS: 30, HUB_MESSAGE_RETENTION_DAYS: 180, HUB_REFUSAL_RETENTION_DAYS: 180, HUB_AUDIT_RETENTION_DAYS: 1095, HUB_FAN_RETENTION_DAYS: 30 };
    for (const [name, days] of Object.entries(expected)) {
      expect(cfg[name], name).toBe(days);
      const row = retention.split('\n').find((l) => l.includes(`\`${name}\``));
      expect(row, name).toBeDefined();
      expect(Number(/\| (\d+) days/.exec(row!)?.[1]), name).toBe(days);
    }
  });

  it('refuses a retention setting that is set but empty, or out of range', () => {
    for (const name of ['HUB_FAN_RETENTION_DAYS', 'HUB_MESSAGE_RETENTION_DAYS', 'HUB_REFUSAL_RETENTION_DAYS', 'HUB_AUDIT_RETENTION_DAYS']) {
      expect(() => loadConfig({ env: { [name]: '' }, local: true }), name).toThrow(name);
      expect(() => loadConfig({ env: { [name]: '0' }, local: true }), name).toThrow(name);
    }
    expect(loadConfig({ env: { HUB_FAN_RETENTION_DAYS: '7' }, local: true }).HUB_FAN_RETENTION_DAYS).toBe(7);
  });
});

describe('identifier matching of the erasure', () => {
  const match = tokenMatcher(['oAbcdefghijklmnopqrstuvwxyz', '01JABCDEFGHJKMNPQRSTVWXYZ0', '123456789']);

  it('finds a token as a whole field of keys, JSON and XML', () => {
    expect(match('{"pk":"SCANLIMIT#wx1:oAbcdefghijklmnopqrstuvwxyz","sk":"2026-01-01"}')).toBe(true);
    expect(match('{"pk":"MEMBER#01JABCDEFGHJKMNPQRSTVWXYZ0","sk":"#PROFILE"}')).toBe(true);
    expect(match('<FromUserName><![CDATA[oAbcdefghijklmnopqrstuvwxyz]]></FromUserName>')).toBe(true);
    expect(match('{"pk":"IDENT#youzan_open_id#123456789"}')).toBe(true);
    expect(match('{"buyer":"123456789"}')).toBe(true);
  });

  it('never matches a longer id containing it, nor a digit token inside a JSON number', () => {
    expect(match('{"openid":"oAbcdefghijklmnopqrstuvwxyz9"}')).toBe(false);
    expect(match('{"openid":"xoAbcdefghijklmnopqrstuvwxyz"}')).toBe(false);
    expect(match('{"at":123456789,"n":1123456789}')).toBe(false);
    expect(match('{"paidFen":1234567890}')).toBe(false);
    expect(tokenMatcher(['short'])('short')).toBe(false);
    expect(tokenMatcher([])('anything')).toBe(false);
  });

  it('takes the person part of scoped identity values', () => {
    expect(identityToken({ kind: 'wechat_openid', value: 'wx5823bf96d3bd56c7:oPerson' })).toBe('oPerson');
    expect(identityToken({ kind: 'wecom_external_userid', value: 'ww1436:wmExternal' })).toBe('wmExternal');
    expect(identityToken({ kind: 'phone', value: 'ab'.repeat(32) })).toBe('ab'.repeat(32));
  });

  it('a tombstone lists digests only, and readers drop the records holding a listed identifier', () => {
    const stone = tombstoneRecord('01JABCDEFGHJKMNPQRSTVWXYZ0', ['01JABCDEFGHJKMNPQRSTVWXYZ0', 'oAbcdefghijklmnopqrstuvwxyz'], Date.UTC(2026, 0, 2));
    expect(stone.event).not.toContain('oAbcdefghijklmnopqrstuvwxyz');
    expect(stone.event).toContain(digestOf('oAbcdefghijklmnopqrstuvwxyz'));
    expect(stone.dt).toBe('2026-01-02');
    const digests = tombstoneDigests([stone]);
    const event = { ...stone, type: 'wechat.follow', event: '{"openid":"oAbcdefghijklmnopqrstuvwxyz"}' };
    expect(tombstoned(event, digests)).toBe(true);
    expect(tombstoned({ ...event, event: '{"openid":"oSomeoneElse_000000000000"}' }, digests)).toBe(false);
    expect(tombstoned(stone, digests)).toBe(false);
  });
});

describe('the consent gate of the sender', () => {
  const row = (cls: 'marketing' | 'transactional') => ({ ruleId: 'r', class: cls, destination: 'member' as const, payload: { templateId: 'TPL' }, triggeredAt: 0 });
  const at = Date.UTC(2026, 0, 10, 4, 0); // 12:00 Asia/Shanghai, outside quiet hours
  const decision = (cls: 'marketing' | 'transactional', member: Record<string, unknown>) =>
    decide({ row: row(cls), member: { memberId: 'zz-not-in-holdout', wechat: { followed: true }, ...member }, now: at, sentMarketingToday: 0, sentMarketingWeek: 0, policy: { ...DEFAULT_POLICY, holdout: 0 }, tz: 'Asia/Shanghai' });

  it('suppresses marketing to a registered member without consent, never transactional', () => {
    expect(decision('marketing', { status: 'member' })).toEqual({ action: 'suppress', reason: 'no_consent' });
    expect(decision('marketing', { status: 'member', consent: { marketing: false } })).toEqual({ action: 'suppress', reason: 'no_consent' });
    expect(decision('transactional', { status: 'member' })).toEqual({ action: 'send', via: 'template' });
    expect(decision('marketing', { status: 'member', consent: { marketing: true } })).toEqual({ action: 'send', via: 'template' });
    expect(decision('marketing', { status: 'fan' })).toEqual({ action: 'send', via: 'template' });
    expect(mayMarket({ status: 'buyer' })).toBe(true);
  });
});

describe('fan retention date', () => {
  const DAY = 86_400_000;
  const fan = (over: Record<string, unknown> = {}) => ({ history: { unfollows: [1_000], registeredAt: undefined as number | undefined }, apps: { wx1: { openid: 'o', followed: false, unfollowedAt: 1_000 } }, ...over });

  it('is the last unfollow plus the grace period, for an unregistered fan following nowhere', () => {
    expect(fanRetentionAt(fan(), 30)).toBe(1_000 + 30 * DAY);
    expect(fanRetentionAt(fan({ apps: { wx1: { openid: 'o', followed: false, unfollowedAt: 1_000 }, wx2: { openid: 'p', followed: false, unfollowedAt: 5_000 } } }), 1)).toBe(5_000 + DAY);
    expect(fanRetentionAt({ history: { unfollows: [7_000] }, wechat: { appId: 'wx1', openid: 'o', followed: false, unfollowedAt: 7_000 } }, 2)).toBe(7_000 + 2 * DAY);
  });

  it('is none for a member, a fan still following somewhere, a current WeCom contact, or someone never on WeChat', () => {
    expect(fanRetentionAt(fan({ history: { unfollows: [1_000], registeredAt: 500 } }), 30)).toBeUndefined();
    expect(fanRetentionAt(fan({ apps: { wx1: { openid: 'o', followed: false, unfollowedAt: 1_000 }, wx2: { openid: 'p', followed: true } } }), 30)).toBeUndefined();
    expect(fanRetentionAt(fan({ wecom: { corpId: 'ww', externalUserId: 'wm', guides: { staff1: { addedAt: 2_000 } } } }), 30)).toBeUndefined();
    expect(fanRetentionAt(fan({ wecom: { corpId: 'ww', externalUserId: 'wm', guides: { staff1: { addedAt: 2_000, removedAt: 3_000 } } } }), 30)).toBe(1_000 + 30 * DAY);
    expect(fanRetentionAt({ history: { unfollows: [] } }, 30)).toBeUndefined();
  });
});
