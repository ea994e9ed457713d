/**
 * The local hub's controllable clock: the "now" of every handler the local hub runs (webhook
 * freshness windows, registrations, the scheduled functions run by `POST /_local/run/{function}`,
 * the engagement sender's quiet hours, caps and windows, the pollers) and of the platform
 * WeChat and Youzan stand-ins (their token expiry, windows, message times), so months of history can
 * be driven through the real signed doors in minutes.
 *
 * It is the wall clock plus an offset: time keeps running while it is shifted. It only moves
 * FORWARD: the hub's stored state (leases, dedupe windows, due rows, counters stamped with
 * "now") assumes time never runs back, so a request that would move it back is refused (409);
 * start a fresh hub (another table) to start over.
 *
 *   GET /_local/clock                         → {now, iso, offsetMs}
 *   PUT /_local/clock {at: ISO 8601 | epoch ms}  → the clock jumps to `at` (not before its now)
 *   PUT /_local/clock {advanceMs: n}          → the clock moves n ≥ 0 ms ahead
 *
 * It exists only in the local runtime (local/hub.ts, local/gateway.ts): nothing in lib/,
 * functions/ or stacks/ imports local/ (.dependency-cruiser.cjs), and the deployed stack has no
 * such route (test/stack asserts it). A Lambda's runtime reads the system clock (lib/runtime).
 */
import * as z from 'zod';

export interface ClockState {
  /** The clock's now, epoch ms. */
  now: number;
  iso: string;
  /** now − the wall clock, ms (0 until the clock is moved). */
  offsetMs: number;
}

export interface LocalClock {
  now(): number;
  state(): ClockState;
  /** Moves the clock to `at` (epoch ms); throws ClockBackwardsError when `at` is before its now. */
  set(at: number): ClockState;
  /** Moves the clock `ms` ahead (ms ≥ 0). */
  advance(ms: number): ClockState;
}

/** A request that would move the clock back. */
export class ClockBackwardsError extends Error {
  constructor(readonly now: number, readonly at: number) {
    super(`the local clock only moves forward: ${new Date(at).toISOString()} is before its now ${new Date(now).toISOString()}`);
    this.name = 'ClockBackwardsError';
  }
}

/** The latest instant the clock accepts (JavaScript's date range). */
const MAX_INSTANT = 8.64e15;

export function createLocalClock(options: { wall?: () => number; offsetMs?: number } = {}): LocalClock {
  const wall = options.wall ?? Date.now;
  let offset = options.offsetMs ?? 0;
  const now = () => wall() + offset;
  const state = (): ClockState => {
    const t = now();
    return { now: t, iso: new Date(t).toISOString(), offsetMs: offset };
  };
  return {
    now,
    state,
    set(at) {
      if (!Number.isFinite(at) || Math.abs(at) > MAX_INSTANT) throw new RangeError('at is not a valid instant');
      const current = now();
      if (at < current) throw new ClockBackwardsError(current, at);
      offset += at - current;
      return state();
    },
    advance(ms) {
      if (!Number.isFinite(ms) || ms < 0 || ms > MAX_INSTANT) throw new RangeError('advanceMs must be a finite number ≥ 0');
      offset += ms;
      return state();
    },
  };
}

/** The body of `PUT /_local/clock`: exactly one of `at` (ISO 8601 or epoch ms) and `advanceMs`. */
export const ClockRequest = z.union([
  z.strictObject({ at: z.union([z.iso.datetime({ offset: true }), z.number().int().nonnegative()]) }),
  z.strictObject({ advanceMs: z.number().int().nonnegative() }),
]);

export type ClockRequest = z.infer<typeof ClockRequest>;

/** Applies a parsed request to the clock. */
export function applyClockRequest(clock: LocalClock, req: ClockRequest): ClockState {
  if ('advanceMs' in req) return clock.advance(req.advanceMs);
  return clock.set(typeof req.at === 'number' ? req.at : Date.parse(req.at));
}
