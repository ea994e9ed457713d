/**
 * GET /dashboard: the marketing dashboard, one self-contained HTML page (script, chart.js and
 * styles inline; nothing fetched from a CDN). The page itself needs no token: it asks for the
 * admin token and sends it to the attribution API. The page is generated at build time by
 * scripts/build-dashboard.ts into lib/dashboard/page.generated.ts.
 *
 * The only runtime substitution is the hub's time zone (HUB_TIMEZONE), which the page uses for
 * its default date range. This function reads no secret and no table.
 */
import type { HttpResult } from '../lib/runtime/http.ts';
import { http } from '../lib/runtime/lambda.ts';
import { DASHBOARD_CSP, DASHBOARD_HTML } from '../lib/dashboard/page.generated.ts';

const DEFAULT_TIMEZONE = 'Asia/Shanghai';

/** An IANA zone name safe to place in an HTML attribute, else the default. */
export function pageTimezone(value: string | undefined): string {
  if (!value || !/^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$/.test(value)) return DEFAULT_TIMEZONE;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return value;
  } catch {
    return DEFAULT_TIMEZONE;
  }
}

let page: { tz: string; html: string } | undefined;

/** The page for the hub's time zone (cfg.HUB_TIMEZONE). */
export function dashboardHtml(timezone: string): string {
  const tz = pageTimezone(timezone);
  if (page?.tz !== tz) page = { tz, html: DASHBOARD_HTML.replace('{{HUB_TIMEZONE}}', () => tz) };
  return page.html;
}

export const handler = http({ name: 'dashboard' }, async (event, rt): Promise<HttpResult> => {
  const method = event.requestContext?.http?.method ?? 'GET';
  if (method !== 'GET' && method !== 'HEAD') {
    return { statusCode: 405, headers: { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }, body: 'method not allowed' };
  }
  return {
    statusCode: 200,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': DASHBOARD_CSP,
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
    },
    body: method === 'HEAD' ? '' : dashboardHtml(rt.cfg.HUB_TIMEZONE),
  };
});
