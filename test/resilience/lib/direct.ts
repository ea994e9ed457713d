/**
 * Calls a function's handler directly with the API Gateway v2 event the local gateway would build
 * for the same request: the event comes from local/gateway.ts `toEvent`, given a stand-in for the
 * incoming request (method, headers, socket address) and the route of the manifest.
 */
import type { IncomingMessage } from 'node:http';
import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { lambdaContext, toEvent } from '../../../local/gateway.ts';
import { functionByName } from '../../../lib/manifest.ts';
import type { Runtime } from '../../../lib/runtime/runtime.ts';
import type { HubContext } from '../../../lib/runtime/middleware.ts';

type Route = Parameters<typeof toEvent>[2];
type Handler = (event: unknown, context: Context) => Promise<unknown>;

export interface DirectRequest {
  method: string;
  /** Path with query string. */
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

const compiled = new Map<string, Route[]>();

function routesOf(fn: string): Route[] {
  let routes = compiled.get(fn);
  if (routes) return routes;
  const spec = functionByName(fn);
  if (!spec?.routes) throw new Error(`no routes for ${fn}`);
  routes = spec.routes.map((r) => {
    const params: string[] = [];
    const pattern = r.path
      .split('/')
      .map((seg) => {
        const m = /^\{(\w+)\}$/.exec(seg);
        if (!m) return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        params.push(m[1]!);
        return '([^/]+)';
      })
      .join('/');
    return { spec: r, fn, regex: new RegExp(`^${pattern}$`), params };
  });
  compiled.set(fn, routes);
  return routes;
}

/** The handler's answer, or `{ statusCode: 404 }` when no route of `fn` matches (as the gateway does). */
export async function invokeDirect(fn: string, handler: Handler, req: DirectRequest, runtime?: Runtime): Promise<APIGatewayProxyStructuredResultV2> {
  const url = new URL(req.path, 'http://127.0.0.1');
  for (const route of routesOf(fn)) {
    const match = route.regex.exec(url.pathname);
    if (!match || route.spec.method !== req.method) continue;
    const incoming = {
      method: req.method,
      headers: { host: '127.0.0.1', 'content-length': String(req.body.length), ...req.headers },
      socket: { remoteAddress: '127.0.0.1' },
    } as unknown as IncomingMessage;
    const event = toEvent(incoming, req.body, route, match, url);
    const spec = functionByName(fn)!;
    const context: HubContext = { ...lambdaContext(fn, spec.timeoutSeconds), ...(runtime ? { hub: runtime } : {}) };
    return (await handler(event, context)) as APIGatewayProxyStructuredResultV2;
  }
  return { statusCode: 404 };
}
