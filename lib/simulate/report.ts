/** The simulator's end-of-run summary as plain text. */
import type { AttributionRow, SimulateResult } from './index.ts';
import { percentile } from './http.ts';

const n = (x: number) => x.toLocaleString('en-US');
const pad = (s: string, w: number) => (s.length >= w ? s : s + ' '.repeat(w - s.length));
const lpad = (s: string, w: number) => (s.length >= w ? s : ' '.repeat(w - s.length) + s);
const statusName = (s: string) => (s === '0' ? 'ERR' : s);
const yuan = (fen: number) => `¥${n(Math.round(fen / 100))}`;

function statusList(counts: Record<string, number>): string {
  return Object.entries(counts)
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([s, c]) => `${statusName(s)}×${n(c)}`)
    .join('  ');
}

export function formatSummary(r: SimulateResult, hub?: AttributionRow[]): string {
  const lines: string[] = [];
  const secs = r.elapsedMs / 1000;
  lines.push('');
  lines.push(`Simulated ${n(r.fans)} fans over ${r.days} days (seed ${r.seed}), window ${r.from} → ${r.to}`);
  lines.push(`people: ${n(r.people.fans)} fans, ${n(r.people.scanners)} code scanners who never followed, ${n(r.people.tmall)} Tmall, ${n(r.people.jd)} JD and ${n(r.people.youzan)} Youzan-only buyers`);
  lines.push('');
  lines.push('Requests by route and final status (retried answers in brackets)');
  const width = Math.max(...Object.keys(r.requests.routes).map((k) => k.length), 10) + 2;
  for (const [route, s] of Object.entries(r.requests.routes)) {
    const total = Object.values(s.final).reduce((a, b) => a + b, 0);
    const retried = Object.keys(s.retried).length ? `  [retried ${statusList(s.retried)}]` : '';
    const ms = `p50 ${percentile(s.latencies, 50).toFixed(0)} ms, p95 ${percentile(s.latencies, 95).toFixed(0)} ms`;
    lines.push(`  ${pad(route, width)}${lpad(n(total), 8)}   ${pad(statusList(s.final), 14)}  ${ms}${retried}`);
  }
  lines.push(
    `  total ${n(r.requests.total)} requests (${n(r.requests.attempts)} attempts), ${n(r.requests.failed)} failed after retries (${(r.requests.failureRate * 100).toFixed(2)} %)` +
      (r.skipped ? `, ${n(r.skipped)} actions skipped` : ''),
  );
  if (Object.keys(r.scanResults).length) lines.push(`  code scans: ${Object.entries(r.scanResults).map(([k, v]) => `${k} ${n(v)}`).join(', ')}`);
  lines.push('');
  lines.push(`elapsed ${secs.toFixed(1)} s (traffic ${(r.trafficMs / 1000).toFixed(1)} s), ${n(r.events)} events, ${r.eventsPerSecond.toFixed(1)} events/s`);

  lines.push('');
  lines.push(`Ground truth per first-touch channel${hub ? ' (sent / hub, first_touch)' : ''}`);
  const byId = new Map((hub ?? []).map((row) => [row.channel, row]));
  const head = ['channel', 'new fans', 'members', 'orders', 'GMV', 'unfollows', 'code scans'];
  const cols = [24, 15, 15, 15, 19, 15, 15];
  lines.push('  ' + head.map((h, i) => (i === 0 ? pad(h, cols[i]!) : lpad(h, cols[i]!))).join(''));
  for (const [id, t] of Object.entries(r.tallies)) {
    const h = byId.get(id);
    const both = (sent: number, got: number | undefined, fmt: (x: number) => string = n) => (h ? `${fmt(sent)} / ${fmt(got ?? 0)}` : fmt(sent));
    if (!h && t.firstFollows + t.registrations + t.orders + t.codeScans === 0) continue;
    const cells = [
      id,
      both(t.firstFollows, h?.newFans),
      both(t.registrations, h?.newMembers),
      both(t.orders, h?.orders),
      both(t.gmvFen, h?.gmvFen, yuan),
      both(t.unfollows, h?.unfollows),
      both(t.codeScans, h?.scans),
    ];
    lines.push('  ' + cells.map((c, i) => (i === 0 ? pad(c, cols[i]!) : lpad(c, cols[i]!))).join(''));
  }
  if (hub) lines.push('  (a hub that already held data, e.g. from an earlier run, shows more than was sent now)');

  if (r.failures.length) {
    lines.push('');
    lines.push(`First ${r.failures.length} failures:`);
    for (const f of r.failures) {
      lines.push(`  ${f.route} → ${statusName(String(f.status))} ${f.response.replace(/\s+/g, ' ').slice(0, 300)}`);
      lines.push(`    ${f.request.split('\n')[0]}`);
    }
  }
  lines.push('');
  lines.push(`Dashboard: ${r.dashboardUrl}  (admin token: HUB_ADMIN_TOKEN; range ${r.from} → ${r.to})`);
  return lines.join('\n');
}
