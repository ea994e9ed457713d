/**
 * The local HTTP gateway: turns each request into an API Gateway v2 (HTTP API, payload 2.0)
 * event for the same handler the stack deploys, and the handler's result back into a response.
 * Also serves `POST /_local/run/{function}` to run a scheduled function now and, given a clock,
 * `GET/PUT /_local/clock` (local/clock.ts): the hub's controllable "now"; `POST /_local/settle` waits
 * until the queues the pollers consume are empty.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { entryOf, FUNCTIONS, type FunctionSpec, type RouteSpec } from '../lib/manifest.ts';
import { applyClockRequest, ClockBackwardsError, ClockRequest, type LocalClock } from './clock.ts';

/** API Gateway's payload limit for HTTP APIs is 10 MB; the handlers enforce their own. */
const GATEWAY_MAX_BODY = 10 * 1024 * 1024;

type AnyHandler = (event: unknown, context: Context) => Promise<unknown>;

export interface LoadedFunction {
  spec: FunctionSpec;
  handler: AnyHandler;
}

/** Imports the entry module (entryOf: `functions/<name>.ts` or a source's handler) of every manifest entry. */
export async function loadFunctions(only?: string[]): Promise<Map<string, LoadedFunction>> {
  const out = new Map<string, LoadedFunction>();
  for (const spec of FUNCTIONS) {
    if (only && !only.includes(spec.name)) continue;
    const mod = (await import(/* @vite-ignore */ `../${entryOf(spec)}`)) as { handler: AnyHandler };
    out.set(spec.name, { spec, handler: mod.handler });
  }
  return out;
}

export function lambdaContext(name: string, timeoutSeconds = 30): Context {
  const deadline = Date.now() + timeoutSeconds * 1000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${name}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

interface CompiledRoute {
  spec: RouteSpec;
  fn: string;
  regex: RegExp;
  params: string[];
}

function compile(functions: Map<string, LoadedFunction>): CompiledRoute[] {
  const routes: CompiledRoute[] = [];
  for (const { spec } of functions.values()) {
    for (const r of spec.routes ?? []) {
      const params: string[] = [];
      const pattern = r.path
        .split('/')
        .map((seg) => {
          const m = /^\{(\w+)\}$/.exec(seg);
          if (m) {
            params.push(m[1]!);
            return '([^/]+)';
          }
          return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        })
        .join('/');
      routes.push({ spec: r, fn: spec.name, regex: new RegExp(`^${pattern}$`), params });
    }
  }
  // Literal routes before parameterised ones (e.g. /attribution/channels.csv).
  return routes.sort((a, b) => a.params.length - b.params.length);
}

/** `requestContext.time`: API Gateway's receive time, the hub's clock locally (default: the wall clock). */
export function toEvent(req: IncomingMessage, body: Buffer, route: CompiledRoute, match: RegExpExecArray, url: URL, now = Date.now()): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(',') : v;
  const qs: Record<string, string> = {};
  for (const [k, v] of url.searchParams) qs[k] = qs[k] === undefined ? v : `${qs[k]},${v}`;
  const pathParameters: Record<string, string> = {};
  route.params.forEach((p, i) => (pathParameters[p] = decodeURIComponent(match[i + 1]!)));
  const textual = /^(text\/|application\/(json|xml|x-www-form-urlencoded))/i.test(headers['content-type'] ?? 'text/plain');
  return {
    version: '2.0',
    routeKey: `${route.spec.method} ${route.spec.path}`,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    ...(Object.keys(qs).length ? { queryStringParameters: qs } : {}),
    ...(route.params.length ? { pathParameters } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? '127.0.0.1',
      domainPrefix: 'local',
      http: {
        method: req.method ?? 'GET',
        path: url.pathname,
        protocol: 'HTTP/1.1',
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: `${route.spec.method} ${route.spec.path}`,
      stage: '$default',
      time: new Date(now).toISOString(),
      timeEpoch: now,
    },
    ...(body.length ? { body: textual ? body.toString('utf8') : body.toString('base64') } : {}),
    isBase64Encoded: body.length > 0 && !textual,
  };
}

function send(res: ServerResponse, result: APIGatewayProxyStructuredResultV2 | string | undefined): void {
  if (typeof result === 'string' || result === undefined) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(result ?? '');
    return;
  }
  const headers = { ...(result.headers ?? {}) } as Record<string, string | number | boolean>;
  res.writeHead(result.statusCode ?? 200, headers as Record<string, string>);
  res.end(result.body ? Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8') : undefined);
}

export interface GatewayOptions {
  port: number;
  host?: string;
  functions: Map<string, LoadedFunction>;
  /** Runs a scheduled function now (POST /_local/run/{function}). */
  runScheduled?: (name: string) => Promise<unknown>;
  /** The context of an invocation (the local hub adds its runtime); default: lambdaContext. */
  context?: (name: string, timeoutSeconds?: number) => Context;
  /** The hub's controllable clock: serves GET/PUT /_local/clock and stamps the events. */
  clock?: LocalClock;
  /** Waits until the consumed queues are empty (POST /_local/settle). */
  settle?: () => Promise<unknown>;
}

const JSON_HEADERS = { 'content-type': 'application/json' };
const problem = (statusCode: number, error: string, message: string): APIGatewayProxyStructuredResultV2 => ({ statusCode, headers: JSON_HEADERS, body: JSON.stringify({ error, message }) });

/** GET/PUT /_local/clock. */
function clockRoute(clock: LocalClock, method: string | undefined, body: Buffer): APIGatewayProxyStructuredResultV2 {
  if (method === 'GET') return { statusCode: 200, headers: JSON_HEADERS, body: JSON.stringify(clock.state()) };
  if (method !== 'PUT') return problem(405, 'method_not_allowed', 'GET or PUT /_local/clock');
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return problem(400, 'bad_request', 'the body is not JSON');
  }
  const req = ClockRequest.safeParse(parsed);
  if (!req.success) return problem(400, 'bad_request', 'expected {at: ISO 8601 date-time with offset | epoch ms} or {advanceMs: integer ≥ 0}');
  try {
    return { statusCode: 200, headers: JSON_HEADERS, body: JSON.stringify(applyClockRequest(clock, req.data)) };
  } catch (err) {
    if (err instanceof ClockBackwardsError) return problem(409, 'clock_backwards', err.message);
    if (err instanceof RangeError) return problem(400, 'bad_request', err.message);
    throw err;
  }
}

export async function startGateway(opts: GatewayOptions): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const routes = compile(opts.functions);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > GATEWAY_MAX_BODY) tooLarge = true;
      else chunks.push(c);
    });
    req.on('end', () => {
      void (async () => {
        try {
          if (tooLarge) return send(res, { statusCode: 413, body: JSON.stringify({ error: 'payload_too_large', message: 'request body too large' }) });
          const url = new URL(req.url ?? '/', 'http://127.0.0.1');
          if (url.pathname === '/_local/clock' && opts.clock) return send(res, clockRoute(opts.clock, req.method, Buffer.concat(chunks)));
          if (url.pathname === '/_local/settle' && req.method === 'POST' && opts.settle) {
            try {
              return send(res, { statusCode: 200, headers: JSON_HEADERS, body: JSON.stringify(await opts.settle()) });
            } catch (err) {
              return send(res, problem(504, 'not_settled', (err as Error).message));
            }
          }
          const run = /^\/_local\/run\/([\w-]+)$/.exec(url.pathname);
          if (run && req.method === 'POST' && opts.runScheduled) {
            const out = await opts.runScheduled(run[1]!);
            return send(res, { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(out ?? {}) });
          }
          let methodMismatch = false;
          for (const r of routes) {
            const m = r.regex.exec(url.pathname);
            if (!m) continue;
            if (r.spec.method !== req.method) {
              methodMismatch = true;
              continue;
            }
            const fn = opts.functions.get(r.fn)!;
            let event: APIGatewayProxyEventV2;
            try {
              event = toEvent(req, Buffer.concat(chunks), r, m, url, opts.clock?.now());
            } catch {
              // A malformed percent-escape in the path: API Gateway answers 400 too.
              return send(res, { statusCode: 400, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ error: 'bad_request', message: 'malformed path' }) });
            }
            const result = (await fn.handler(event, (opts.context ?? lambdaContext)(fn.spec.name, fn.spec.timeoutSeconds))) as APIGatewayProxyStructuredResultV2;
            return send(res, result);
          }
          send(res, {
            statusCode: methodMismatch ? 405 : 404,
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ error: methodMismatch ? 'method_not_allowed' : 'not_found', message: 'no such route' }),
          });
        } catch (err) {
          // A handler that throws is a Lambda error: API Gateway answers 500 without details.
          console.error('[gateway] handler error', err);
          send(res, { statusCode: 500, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: 'Internal Server Error' }) });
        }
      })();
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(opts.port, opts.host ?? '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  return {
    server,
    url: `http://${opts.host ?? '127.0.0.1'}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
