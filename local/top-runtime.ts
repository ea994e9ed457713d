/**
 * The TOP side of the local runtime: starts the TOP stand-in (local/top-standin.ts) with the
 * configured Tmall app key and secret, and points `TOP_API_BASE` at it so the `tmc-pull`
 * function consumes from it. Messages are fed with `enqueue` on the returned stand-in.
 *
 * Port: `port` when given (0 picks a free one), else `TOP_STANDIN_PORT` (default 3002).
 * `TOP_API_BASE` is left alone when it is set explicitly and a fixed port was asked for (a
 * developer pointing the hub at another gateway); with port 0 it always follows the stand-in.
 */
import { startTopStandin, type TopStandin } from './top-standin.ts';
import { config, resetConfig } from '../lib/config/index.ts';

export interface TopRuntimeOptions {
  port?: number;
  host?: string;
}

export async function startTopRuntime(opts: TopRuntimeOptions = {}): Promise<TopStandin> {
  const cfg = config();
  const port = opts.port ?? cfg.TOP_STANDIN_PORT;
  const standin = await startTopStandin({
    port,
    ...(opts.host ? { host: opts.host } : {}),
    appKey: cfg.TMALL_APP_KEY,
    secret: cfg.TMALL_APP_SECRET,
  });
  process.env.TOP_STANDIN_PORT = String(standin.port);
  if (!process.env.TOP_API_BASE || port === 0) process.env.TOP_API_BASE = standin.url;
  resetConfig();
  return standin;
}
