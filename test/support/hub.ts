/**
 * The whole hub in process for one test file (local/hub.ts: gateway over the real handlers, the
 * WeChat, TOP and Youzan stand-ins) on this file's table and queues:
 *
 *   const hub = useTestHub({ queuePrefix: 'ord', functions: ['tmall', 'jd'] });
 *
 * Registers a beforeAll that starts it on free ports and an afterAll that stops it. The object
 * returned stands for the running hub (and this file's AWS resources, `hub.aws`) from the first
 * test on; used before that it throws.
 */
import { afterAll, beforeAll } from 'vitest';
import type { SQSEvent } from 'aws-lambda';
import { baseSettings, setActiveRuntime, useLocalAws, type LocalAws } from './env.ts';
import { startHub, type RunningHub } from '../../local/hub.ts';
import { LOCAL_DEFAULTS, LOCAL_MAX_SKEW_SECONDS } from '../../lib/config/index.ts';
import type { Runtime, RuntimeOverrides } from '../../lib/runtime/runtime.ts';
import { DEFAULT_MAX_SKEW_SECONDS } from '../../lib/sources/wechat/inbound.ts';

export interface TestHubOptions {
  /** Queue name prefix; the start time in ms is appended. */
  queuePrefix: string;
  /** Load only these functions; default: the whole manifest. */
  functions?: string[];
  /** Run the SQS pollers (default false: tests invoke consumers themselves). Schedules never run. */
  pollers?: boolean;
  /**
   * The file posts signed pushes dated in the past (follows days or months ago): the hub runs
   * with the widest webhook window the local runtime allows instead of the default 300 s. The
   * default window itself is what test/security exercises.
   */
  replaysHistory?: boolean;
  /** Extra configuration for this file's hub (e.g. WECHAT_MESSAGE_MODE). */
  env?: Record<string, string>;
  /** Keep the archive as local files in this directory (lib/archive/file-sink.ts); default: none kept. */
  archiveDir?: string;
}

/** Settings of a shop whose Youzan store is bound to the configured official account (YOUZAN_WECHAT_APP_ID = WECHAT_APP_ID). */
export const YOUZAN_ON_OFFICIAL_ACCOUNT: Record<string, string> = { YOUZAN_WECHAT_APP_ID: process.env.WECHAT_APP_ID ?? LOCAL_DEFAULTS.WECHAT_APP_ID };

export interface TestHub extends RunningHub {
  /** This file's table and queues (see env.ts). */
  readonly aws: LocalAws;
}

export function useTestHub(opts: TestHubOptions): TestHub {
  let aws: LocalAws | undefined;
  let running: RunningHub | undefined;
  beforeAll(async () => {
    aws = await useLocalAws();
    const env = { ...baseSettings(aws), ...(opts.replaysHistory ? { HUB_WEBHOOK_MAX_SKEW_SECONDS: String(LOCAL_MAX_SKEW_SECONDS) } : {}), ...opts.env };
    running = await startHub({ port: 0, standinPort: 0, env, clients: { ddb: aws.db, sqs: aws.sqs }, queuePrefix: `${opts.queuePrefix}${Date.now()}`, pollers: opts.pollers ?? false, schedules: false, functions: opts.functions, ...(opts.archiveDir ? { archiveDir: opts.archiveDir } : {}) });
    const hub = running;
    setActiveRuntime(() => hub.runtime);
  });
  afterAll(async () => {
    setActiveRuntime(undefined);
    await running?.stop();
  });

  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the test hub is not started yet: use it inside a test or a hook');
    return value;
  };
  return {
    get aws() {
      return ready(aws);
    },
    get url() {
      return ready(running).url;
    },
    get standin() {
      return ready(running).standin;
    },
    get top() {
      return ready(running).top;
    },
    get youzan() {
      return ready(running).youzan;
    },
    get queues() {
      return ready(running).queues;
    },
    get runtime() {
      return ready(running).runtime;
    },
    get clock() {
      return ready(running).clock;
    },
    reconfigure: (overrides: RuntimeOverrides) => ready(running).reconfigure(overrides),
    restore: (runtime: Runtime) => ready(running).restore(runtime),
    runScheduled: (name: string) => ready(running).runScheduled(name),
    settle: (timeoutMs?: number) => ready(running).settle(timeoutMs),
    invokeConsumer: (name: string, event: SQSEvent) => ready(running).invokeConsumer(name, event),
    stop: () => ready(running).stop(),
  };
}

/**
 * In a file whose hub replays history (the widest window), the tests of the calling describe
 * block run with the default webhook window (HUB_WEBHOOK_MAX_SKEW_SECONDS unset → 300 s): the
 * hub's runtime is swapped on entry and restored on exit, when the file's window comes back.
 */
export function useDefaultWebhookWindow(hub: TestHub): void {
  let saved: Runtime | undefined;
  beforeAll(() => {
    saved = hub.runtime;
    const rt = hub.reconfigure({ settings: { HUB_WEBHOOK_MAX_SKEW_SECONDS: undefined } });
    if (rt.cfg.HUB_WEBHOOK_MAX_SKEW_SECONDS !== DEFAULT_MAX_SKEW_SECONDS) throw new Error('the default webhook window is not in force');
  });
  afterAll(() => {
    if (saved) hub.restore(saved);
  });
}
