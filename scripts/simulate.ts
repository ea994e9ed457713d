/**
 * Fills a running hub with a month of realistic traffic through its real, signed webhooks.
 *
 *   npm run simulate -- [--base URL] [--fans N] [--days D] [--seed S] [--concurrency C]
 *                       [--retries R] [--timeout MS] [--wechat-mode safe|plain]
 *   npm run simulate -- --months M [--fans N] [--seed S] [--standin URL] ...
 *
 * With --months: the months scenario (lib/simulate/months.ts, docs/design.md#simulated-months)
 * through the local hub's controllable clock; its ground truth is printed as JSON on stdout.
 *
 * Secrets come from the same environment names and local defaults as the hub
 * (lib/config/load.ts). Progress goes to stderr (a bar on a TTY, a line per 10 % otherwise);
 * the summary — requests by route and status, elapsed time, events/s, the ground truth next to
 * the hub's attribution table — and the dashboard URL go to stdout. Exit status 1 when more than
 * 1 % of the requests failed after retries, 2 for bad arguments.
 *
 * The pushes are dated over the past --days, as they happened: the hub must accept history,
 * i.e. run with a webhook window as wide as the days replayed (allowed only in the local
 * runtime), e.g. `HUB_WEBHOOK_MAX_SKEW_SECONDS=31708800 npm start` (367 days). With the
 * default 300 s window WeChat pushes older than five minutes are refused as stale (401).
 */
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { loadConfig } from '../lib/config/index.ts';
import { fetchAttribution, simulate, type AttributionRow } from '../lib/simulate/index.ts';
import { formatSummary } from '../lib/simulate/report.ts';
import { simulateMonths } from '../lib/simulate/months.ts';

const USAGE = `Usage: npm run simulate -- [options]

  --base <url>          the hub (default http://127.0.0.1:$PORT, i.e. http://127.0.0.1:3000)
  --fans <n>            fans to simulate (default 20000)
  --days <d>            days of history ending now (default 30)
  --seed <s>            random seed; the same seed gives the same traffic (default 42)
  --concurrency <c>     requests in flight (default 16)
  --retries <r>         retries of a 5xx / 429 / network error (default 4)
  --timeout <ms>        per-request timeout (default 15000)
  --wechat-mode <m>     safe (encrypted, default) or plain WeChat pushes
  --months <m>          the months scenario instead (2..12 months through the local clock;
                        --fans defaults to 600 then; 6 months of 500 fans took 2–6 min on 2 shared cores)
  --standin <url>       the WeChat stand-in for --months (default WECHAT_API_BASE)
  -h, --help            this text
`;

function positiveInt(name: string, value: string | undefined, def: number, min = 1): number {
  if (value === undefined) return def;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}`);
  return n;
}

/** Progress on stderr: a bar on a TTY, otherwise one line per 10 %. */
function progress(total: number): { update(done: number): void; stop(): void } {
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: 'traffic [{bar}] {percentage}% | {value}/{total} requests | {eta_formatted} left', hideCursor: true, stream: process.stderr },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0);
    return { update: (d) => bar.update(d), stop: () => bar.stop() };
  }
  let next = 10;
  const started = Date.now();
  return {
    update(done) {
      const pct = total ? Math.floor((done * 100) / total) : 100;
      while (pct >= next && next <= 100) {
        process.stderr.write(`traffic ${next}% (${done}/${total} requests, ${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
        next += 10;
      }
    },
    stop() {},
  };
}

async function main(): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      options: {
        base: { type: 'string' },
        fans: { type: 'string' },
        days: { type: 'string' },
        seed: { type: 'string' },
        concurrency: { type: 'string' },
        retries: { type: 'string' },
        timeout: { type: 'string' },
        'wechat-mode': { type: 'string' },
        months: { type: 'string' },
        standin: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const cfg = loadConfig({ env: process.env });
  const str = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  let opts;
  try {
    const mode = str('wechat-mode') ?? 'safe';
    if (mode !== 'safe' && mode !== 'plain') throw new Error('--wechat-mode must be safe or plain');
    const days = positiveInt('days', str('days'), 30);
    if (days > 366) throw new Error('--days must be at most 366');
    opts = {
      base: str('base') ?? `http://127.0.0.1:${cfg.PORT}`,
      fans: positiveInt('fans', str('fans'), 20_000),
      days,
      seed: str('seed') ?? '42',
      concurrency: positiveInt('concurrency', str('concurrency'), 16),
      retries: positiveInt('retries', str('retries'), 4, 0),
      timeoutMs: positiveInt('timeout', str('timeout'), 15_000),
      wechatMode: mode as 'safe' | 'plain',
    };
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }

  const months = str('months');
  if (months !== undefined) return runMonths({ base: opts.base, seed: opts.seed, concurrency: opts.concurrency, retries: opts.retries, timeoutMs: opts.timeoutMs, wechatMode: opts.wechatMode }, months, str('fans'), str('standin'), cfg);

  process.stderr.write(`simulating ${opts.fans} fans over ${opts.days} days against ${opts.base} (seed ${opts.seed}, concurrency ${opts.concurrency})\n`);
  let bar: ReturnType<typeof progress> | undefined;
  const result = await simulate({
    ...opts,
    config: cfg,
    log: (line) => process.stderr.write(`${line}\n`),
    onProgress: (done, total) => {
      bar ??= progress(total);
      bar.update(done);
    },
  });
  bar?.stop();

  let hub: AttributionRow[] | undefined;
  try {
    // The local runtime folds credit deltas every 2 s; fold now so the table includes the last events
    // (a deployed hub has no such route: its table is at most the fold lag behind, docs/design.md).
    await fetch(`${opts.base.replace(/\/+$/, '')}/_local/run/counter-fold`, { method: 'POST', signal: AbortSignal.timeout(60_000) }).catch(() => undefined);
    hub = await fetchAttribution(opts.base, cfg.HUB_ADMIN_TOKEN, result.from, result.to);
  } catch (err) {
    process.stderr.write(`could not read the attribution table: ${(err as Error).message}\n`);
  }
  process.stdout.write(`${formatSummary(result, hub)}\n`);
  if (result.requests.failureRate > 0.01) {
    process.stderr.write(`\n${(result.requests.failureRate * 100).toFixed(2)} % of the requests failed after retries (limit 1 %)\n`);
    if (result.failures.some((f) => f.status === 401 && f.response.includes('stale timestamp'))) {
      process.stderr.write('the hub refused dated pushes as stale: start it with a window covering --days, e.g. HUB_WEBHOOK_MAX_SKEW_SECONDS=31708800 npm start\n');
    }
    return 1;
  }
  return 0;
}

async function runMonths(opts: { base: string; seed: string; concurrency: number; retries: number; timeoutMs: number; wechatMode: 'safe' | 'plain' }, monthsArg: string, fansArg: string | undefined, standin: string | undefined, cfg: ReturnType<typeof loadConfig>): Promise<number> {
  let months: number;
  let fans: number;
  try {
    months = positiveInt('months', monthsArg, 6, 2);
    if (months > 12) throw new Error('--months must be at most 12');
    fans = positiveInt('fans', fansArg, 600);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  process.stderr.write(`simulating ${fans} fans over ${months} months against ${opts.base} through its local clock (seed ${opts.seed})\n`);
  let bar: ReturnType<typeof progress> | undefined;
  const result = await simulateMonths({
    ...opts,
    fans,
    months,
    config: cfg,
    ...(standin ? { standinUrl: standin } : {}),
    log: (line) => process.stderr.write(`${line}\n`),
    onProgress: (day, days) => {
      bar ??= progress(days);
      bar.update(day);
    },
  });
  bar?.stop();
  process.stdout.write(`${JSON.stringify({ from: result.from, to: result.to, requests: { total: result.requests.total, failed: result.requests.failed }, elapsedMs: result.elapsedMs, replies: result.replies, truth: result.truth }, null, 2)}\n`);
  if (result.requests.failed > 0) {
    process.stderr.write(`${result.requests.failed} requests failed after retries; first: ${JSON.stringify(result.failures[0] ?? null)}\n`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`simulate: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
