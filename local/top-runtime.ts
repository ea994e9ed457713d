/**
 * The platform API stand-ins of the local runtime (TOP and Youzan). The TOP side: starts the TOP stand-in (local/top-standin.ts) with the
 * configured Tmall app key and secret and says which `TOP_API_BASE` the hub's runtime uses, so
 * the `tmc-pull` function consumes from it. Messages are fed with `enqueue` on the stand-in.
 *
 * Port: `port` when given (0 picks a free one), else `TOP_STANDIN_PORT` (default 3002).
 * An explicit `TOP_API_BASE` wins when a fixed port was asked for (a developer pointing the hub
 * at another gateway); with port 0 the hub always follows the stand-in.
 */
import { startTopStandin, type TopStandin } from './top-standin.ts';
import { startYouzanStandin, type YouzanStandin } from './youzan-standin.ts';
import type { HubConfig } from '../lib/config/index.ts';

export interface TopRuntimeOptions {
  port?: number;
  host?: string;
  /** The Youzan stand-in's clock (the local hub's; default: the wall clock). The TOP stand-in keeps the wall clock: TOP checks a request's signed timestamp against real time, and the hub's TOP client signs with it. */
  now?: () => number;
}

export interface TopRuntime {
  standin: TopStandin;
  /** The TOP_API_BASE the hub's runtime takes. */
  apiBase: string;
}

/** `cfg`: the configuration the hub starts from; `explicitBase`: TOP_API_BASE as the environment gives it. */
export async function startTopRuntime(cfg: HubConfig, explicitBase: string | undefined, opts: TopRuntimeOptions = {}): Promise<TopRuntime> {
  const port = opts.port ?? cfg.TOP_STANDIN_PORT;
  const standin = await startTopStandin({
    port,
    ...(opts.host ? { host: opts.host } : {}),
    appKey: cfg.TMALL_APP_KEY,
    secret: cfg.TMALL_APP_SECRET,
    ...(cfg.TMALL_SESSION_KEY ? { session: cfg.TMALL_SESSION_KEY } : {}),
  });
  return { standin, apiBase: explicitBase && port !== 0 ? explicitBase : standin.url };
}

export interface YouzanRuntime {
  standin: YouzanStandin;
  /** The YOUZAN_API_BASE the hub's runtime takes. */
  apiBase: string;
}

/**
 * The Youzan side, the same way: the Youzan API stand-in (local/youzan-standin.ts) on `port`,
 * else YOUZAN_STANDIN_PORT (default 3003), for the configured client and shop
 * (YOUZAN_KDT_ID); an explicit YOUZAN_API_BASE wins when a fixed port was asked for.
 */
export async function startYouzanRuntime(cfg: HubConfig, explicitBase: string | undefined, opts: TopRuntimeOptions = {}): Promise<YouzanRuntime> {
  const port = opts.port ?? cfg.YOUZAN_STANDIN_PORT;
  const standin = await startYouzanStandin({
    port,
    ...(opts.host ? { host: opts.host } : {}),
    ...(opts.now ? { now: opts.now } : {}),
    clientId: cfg.YOUZAN_CLIENT_ID,
    clientSecret: cfg.YOUZAN_CLIENT_SECRET,
    kdtId: cfg.YOUZAN_KDT_ID ?? '0',
  });
  return { standin, apiBase: explicitBase && port !== 0 ? explicitBase : standin.url };
}
