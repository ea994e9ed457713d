import { describe, expect, it } from 'vitest';
import { createRateLimiter, taggingBatches, tagSyncMessages, type TagMember } from '../../lib/engagement/tags.ts';

const A = 'wxaaaaaaaaaaaaaaaa';
const B = 'wxbbbbbbbbbbbbbbbb';
const M = 'wxmmmmmmmmmmmmmmmm';

const member = (over: Partial<TagMember> = {}): TagMember => ({
  memberId: 'm1',
  tier: 'gold',
  lifecycle: 'repeat',
  wechat: { appId: A, openid: 'oA', followed: true },
  apps: { [A]: { openid: 'oA', followed: true }, [B]: { openid: 'oB', followed: true }, [M]: { openid: 'oM', followed: false } },
  ...over,
});

describe('tagSyncMessages', () => {
  it.each([
    ['segment not held', [{ segment: 'tier:silver', tagId: 1 }], member(), []],
    ['tier held: every official account', [{ segment: 'tier:gold', tagId: 5 }], member(), [`${A}:5:oA`, `${B}:5:oB`]],
    ['lifecycle held, one account named', [{ segment: 'lifecycle:repeat', tagId: 6, appId: B }], member(), [`${B}:6:oB`]],
    ['already planned on A', [{ segment: 'tier:gold', tagId: 5 }], member({ wechatTags: [`${A}:5`] }), [`${B}:5:oB`]],
    ['one-account record (wechat only)', [{ segment: 'lifecycle:repeat', tagId: 2 }], member({ apps: undefined }), [`${A}:2:oA`]],
    ['no WeChat address', [{ segment: 'tier:gold', tagId: 5 }], member({ apps: undefined, wechat: undefined }), []],
  ] as const)('%s', (_name, rules, m, expected) => {
    const rows = tagSyncMessages([...rules], m, [A, B], 1000);
    expect(rows.map((r) => `${r.step}:${(r.payload.openids as string[]).join(',')}`)).toEqual(expected);
    for (const r of rows) expect(r).toMatchObject({ ruleId: 'wechat_tag_sync', class: 'transactional', destination: 'member', triggeredAt: 1000 });
  });
});

describe('taggingBatches', () => {
  it.each([
    [0, []],
    [1, [1]],
    [50, [50]],
    [51, [50, 1]],
    [120, [50, 50, 20]],
  ])('%i openids → slices %j', (n, sizes) => {
    const ids = Array.from({ length: n }, (_, i) => `o${i}`);
    const batches = taggingBatches(ids);
    expect(batches.map((b) => b.length)).toEqual(sizes);
    expect(batches.flat()).toEqual(ids);
  });

  it('drops a repeated openid', () => {
    expect(taggingBatches(['o1', 'o2', 'o1'])).toEqual([['o1', 'o2']]);
  });
});

describe('createRateLimiter', () => {
  it('spaces calls of one key by the interval; another key does not wait', async () => {
    let t = 10_000;
    const slept: number[] = [];
    const wait = createRateLimiter(100, () => t, async (ms) => {
      slept.push(ms);
    });
    await wait('A');
    await wait('A');
    await wait('A');
    await wait('B');
    expect(slept).toEqual([100, 200]);
    t += 1_000; // long after: no wait
    await wait('A');
    expect(slept).toEqual([100, 200]);
  });
});
