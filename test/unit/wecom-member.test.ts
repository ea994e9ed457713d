/** Folding two records' WeCom guides (a merge): hand-written expectations, both directions. */
import { describe, expect, it } from 'vitest';
import { mergeWecom, type WecomPresence } from '../../lib/members/model.ts';

const corp = { corpId: 'ww1', externalUserId: 'wm1' };

describe('mergeWecom', () => {
  it('keeps the later add and the later removal of each guide, whichever record is the survivor', () => {
    const a: WecomPresence = { ...corp, guides: { li: { addedAt: 100, state: 'cw_a' }, wang: { addedAt: 50, removedAt: 70, removedBy: 'customer' } } };
    const b: WecomPresence = { ...corp, guides: { li: { addedAt: 90, state: 'cw_b', removedAt: 95, removedBy: 'staff' }, zhao: { addedAt: 10 } } };
    const expected = {
      li: { addedAt: 100, state: 'cw_a', removedAt: 95, removedBy: 'staff' },
      wang: { addedAt: 50, removedAt: 70, removedBy: 'customer' },
      zhao: { addedAt: 10 },
    };
    expect(mergeWecom(a, b)?.guides).toEqual(expected);
    expect(mergeWecom(b, a)?.guides).toEqual(expected);
  });

  it('takes the one side present, as a copy', () => {
    const b: WecomPresence = { ...corp, guides: { li: { addedAt: 1 } } };
    const merged = mergeWecom(undefined, b);
    expect(merged).toEqual(b);
    expect(merged).not.toBe(b);
    expect(mergeWecom(undefined, undefined)).toBeUndefined();
  });
});
