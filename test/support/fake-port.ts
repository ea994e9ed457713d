/**
 * An in-memory Port (lib/port.ts) for planner tests: reads answer from the maps given, writes go
 * into a real Tx (inspected with `tx.build()`), emitted messages are collected.
 */
import type { HubConfig } from '../../lib/config/index.ts';
import { loadConfig } from '../../lib/config/index.ts';
import type { PlannedMessage } from '../../lib/events/messages.ts';
import type { Port, Reads } from '../../lib/port.ts';
import { Tx } from '../../lib/store/tx.ts';

export interface FakePort extends Port {
  readonly emitted: PlannedMessage[];
  /** The transaction's item tags in order (counters last), as apply() would commit them. */
  tags(): string[];
}

/** The local configuration (no environment read), with `overrides` on top. */
export function testConfig(overrides: Partial<HubConfig> = {}): HubConfig {
  return { ...loadConfig({ env: {}, local: true }), ...overrides };
}

export function fakePort(o: { now: number; cfg?: HubConfig; reads?: Partial<Reads> }): FakePort {
  const cfg = o.cfg ?? testConfig();
  const none = async () => undefined;
  const reads: Reads = {
    identities: async () => new Map(),
    member: none,
    channel: none,
    batch: none,
    redemption: none,
    scanLimit: none,
    order: none,
    refund: none,
    otp: none,
    sendByMsgId: none,
    lots: async () => [],
    coupon: none,
    keywordRules: none,
    ...o.reads,
  };
  const tx = new Tx('test-table');
  const emitted: PlannedMessage[] = [];
  return {
    now: o.now,
    tz: cfg.HUB_TIMEZONE,
    cfg,
    tx,
    reads,
    emitted,
    emit: (m) => void emitted.push(m),
    tags: () => tx.build().tags,
  };
}
