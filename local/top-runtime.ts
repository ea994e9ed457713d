/**
 * The TOP side of the local runtime: starts the TOP stand-in (local/top-standin.ts) with the
 * configured Tmall app key and secret and says which `TOP_API_BASE` the hub's runtime uses, so
 * the `tmc-pull` function consumes from it. Messages are fed with `enqueue` on the stand-in.
 *
 * Port: `port` when given (0 picks a free one), else `TOP_STANDIN_PORT` (default 3002).
 * An explicit `TOP_API_BASE` wins when a fixed port was asked for (a developer pointing the hub
 * at another gateway); with port 0 the hub always follows the stand-in.
 */
import { startTopStandin, type TopStandin } from './top-standin.ts';
import type { HubConfig } from '../lib/config/index.ts';

export interface TopRuntimeOptions {
  port?: number;
  host?: string;
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
  });
  return { standin, apiBase: explicitBase && port !== 0 ? explicitBase : standin.url };
}
