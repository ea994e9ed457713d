/** The local hub's controllable clock (local/clock.ts) on a hand-driven wall clock. */
import { describe, expect, it } from 'vitest';
import { applyClockRequest, ClockBackwardsError, ClockRequest, createLocalClock } from '../../local/clock.ts';

const T0 = Date.UTC(2026, 11, 3, 12, 0, 0);

function driven() {
  let wall = T0;
  const clock = createLocalClock({ wall: () => wall });
  return { clock, tick: (ms: number) => (wall += ms) };
}

describe('local clock', () => {
  it('is the wall clock until moved, then the wall clock plus the offset (time keeps running)', () => {
    const { clock, tick } = driven();
    expect(clock.state()).toEqual({ now: T0, iso: '2026-12-03T12:00:00.000Z', offsetMs: 0 });
    clock.set(T0 + 10 * 86_400_000);
    expect(clock.now()).toBe(T0 + 864_000_000);
    tick(1500);
    expect(clock.now()).toBe(T0 + 864_001_500);
    expect(clock.advance(500)).toEqual({ now: T0 + 864_002_000, iso: '2026-12-13T12:00:02.000Z', offsetMs: 864_000_500 });
  });

  it('moves forward only: an earlier instant throws and leaves the clock as it was', () => {
    const { clock } = driven();
    clock.set(T0 + 60_000);
    expect(() => clock.set(T0 + 59_999)).toThrow(ClockBackwardsError);
    expect(clock.now()).toBe(T0 + 60_000);
    expect(clock.set(T0 + 60_000).now).toBe(T0 + 60_000);
    expect(() => clock.advance(-1)).toThrow(RangeError);
    expect(() => clock.set(Number.NaN)).toThrow(RangeError);
    expect(() => clock.advance(Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });

  it('takes exactly {at: ISO 8601 with offset | epoch ms} or {advanceMs}', () => {
    const { clock } = driven();
    const ok = (body: unknown) => ClockRequest.safeParse(body).success;
    expect([{ at: '2026-12-04T08:00:00+08:00' }, { at: T0 + 1 }, { advanceMs: 0 }].map(ok)).toEqual([true, true, true]);
    expect([{}, { at: '2026-12-04T08:00:00' }, { at: 'tomorrow' }, { at: -1 }, { advanceMs: 1.5 }, { at: T0, advanceMs: 1 }, { at: T0, x: 1 }].map(ok)).toEqual([false, false, false, false, false, false, false]);
    expect(applyClockRequest(clock, ClockRequest.parse({ at: '2026-12-04T08:00:00+08:00' })).iso).toBe('2026-12-04T00:00:00.000Z');
    expect(applyClockRequest(clock, ClockRequest.parse({ advanceMs: 3_600_000 })).iso).toBe('2026-12-04T01:00:00.000Z');
  });
});
