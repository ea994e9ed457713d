/** An API Gateway v2 GET event as the HTTP API hands it to a function (for tests that call handlers directly). */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';

export function getEvent(path: string, o: { routeKey: string; qs?: Record<string, string>; headers?: Record<string, string>; pathParameters?: Record<string, string> }): APIGatewayProxyEventV2 {
  const qs = o.qs ?? {};
  const raw = new URLSearchParams(qs).toString();
  return {
    version: '2.0',
    routeKey: o.routeKey,
    rawPath: path,
    rawQueryString: raw,
    headers: o.headers ?? {},
    ...(raw ? { queryStringParameters: qs } : {}),
    ...(o.pathParameters ? { pathParameters: o.pathParameters } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'test',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: { method: 'GET', path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'vitest' },
      requestId: 'r',
      routeKey: o.routeKey,
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
    },
    isBase64Encoded: false,
  };
}
