/**
 * HTTP for the simulator: each request is built afresh per attempt (TOP and JD sign the current
 * time), sent with a timeout, and retried on a 5xx, 408, 429 or a network error with exponential
 * backoff — what the platforms do when a webhook does not answer success. Every final answer is
 * counted by route and status.
 */
import type { BuiltRequest } from './payloads.ts';

export interface SenderOptions {
  base: string;
  /** Retries after the first attempt. */
  retries: number;
  timeoutMs: number;
  /** First backoff in ms (doubles per retry, with jitter). */
  backoffMs?: number;
}

export interface Outcome {
  ok: boolean;
  /** HTTP status, or 0 for a network error / timeout. */
  status: number;
  body: string;
  headers: Headers | undefined;
  attempts: number;
}

export interface FailureSample {
  route: string;
  status: number;
  response: string;
  request: string;
}

export interface RouteStats {
  /** Final answers: status (0 = network error) → count. */
  final: Record<string, number>;
  /** Answers that were retried: status → count. */
  retried: Record<string, number>;
  attempts: number;
  /** Milliseconds per attempt, for percentiles. */
  latencies: number[];
}

/** The p-th percentile (0..100) of a list of numbers; 0 when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (!values.length) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const isTransient = (status: number) => status === 0 || status === 408 || status === 429 || status >= 500;
const MAX_SAMPLES = 20;

export class Sender {
  readonly routes = new Map<string, RouteStats>();
  readonly failures: FailureSample[] = [];
  requests = 0;
  failed = 0;
  attempts = 0;

  constructor(private readonly opts: SenderOptions) {}

  private route(name: string): RouteStats {
    let r = this.routes.get(name);
    if (!r) this.routes.set(name, (r = { final: {}, retried: {}, attempts: 0, latencies: [] }));
    return r;
  }

  /**
   * Sends until a non-transient answer or the retries run out. `ok` lists the statuses that count
   * as success besides 2xx (e.g. 409 for a channel that already exists).
   */
  async send(route: string, build: () => BuiltRequest, ok: readonly number[] = []): Promise<Outcome> {
    const stats = this.route(route);
    const backoff = this.opts.backoffMs ?? 250;
    let last: Outcome = { ok: false, status: 0, body: '', headers: undefined, attempts: 0 };
    let req: BuiltRequest | undefined;
    for (let attempt = 0; attempt <= this.opts.retries; attempt++) {
      req = build();
      stats.attempts++;
      this.attempts++;
      let status = 0;
      let body = '';
      let headers: Headers | undefined;
      const t0 = performance.now();
      try {
        const res = await fetch(this.opts.base + req.path, {
          method: req.method,
          headers: req.headers,
          ...(req.body !== undefined ? { body: req.body } : {}),
          signal: AbortSignal.timeout(this.opts.timeoutMs),
        });
        status = res.status;
        headers = res.headers;
        body = await res.text();
      } catch (err) {
        body = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      }
      stats.latencies.push(performance.now() - t0);
      last = { ok: (status >= 200 && status < 300) || ok.includes(status), status, body, headers, attempts: attempt + 1 };
      if (!isTransient(status) || attempt === this.opts.retries) break;
      stats.retried[status] = (stats.retried[status] ?? 0) + 1;
      const retryAfter = Number(headers?.get('retry-after'));
      const wait = Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(retryAfter * 1000, 10_000) : backoff * 2 ** attempt;
      await sleep(wait * (0.5 + Math.random()));
    }
    this.requests++;
    stats.final[last.status] = (stats.final[last.status] ?? 0) + 1;
    if (!last.ok) {
      this.failed++;
      if (this.failures.length < MAX_SAMPLES && req) {
        this.failures.push({
          route,
          status: last.status,
          response: last.body.slice(0, 400),
          request: `${req.method} ${req.path.slice(0, 300)}${req.body ? `\n${req.body.slice(0, 600)}` : ''}`,
        });
      }
    }
    return last;
  }
}

/** Runs tasks with at most `limit` in flight; tasks of the same key run one after another, in order. */
export class KeyedPool {
  private inFlight = 0;
  private readonly waiters: (() => void)[] = [];
  private readonly tails = new Map<string, Promise<void>>();
  private readonly all = new Set<Promise<void>>();

  constructor(private readonly limit: number) {}

  private async acquire(): Promise<void> {
    if (this.inFlight < this.limit) {
      this.inFlight++;
      return;
    }
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  private release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.inFlight--;
  }

  /** Waits for a free slot, then starts the task (after the previous task of its key). */
  async submit(key: string, task: () => Promise<void>): Promise<void> {
    await this.acquire();
    const prev = this.tails.get(key);
    const run = (async () => {
      try {
        if (prev) await prev;
        await task();
      } finally {
        this.release();
      }
    })();
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, settled);
    this.all.add(settled);
    void settled.then(() => {
      this.all.delete(settled);
      if (this.tails.get(key) === settled) this.tails.delete(key);
    });
  }

  async drain(): Promise<void> {
    while (this.all.size) await Promise.all([...this.all]);
  }
}
