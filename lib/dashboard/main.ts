/**
 * The dashboard page script (bundled with chart.js into one inline script by
 * scripts/build-dashboard.ts). It asks for the admin token, keeps it in sessionStorage, and
 * reads the attribution API with it: the channel table (sortable), totals, a fan → member →
 * order funnel and a daily trend for the selected channel, the CSV download, the cohort heatmap
 * (value by acquisition channel: GMV per acquired person per cohort and channel), and the lift of
 * each marketing rule against the holdout (GET /insight/lift).
 *
 * The page reports its progress on <body>: data-state (signed-out, loading, ready, error),
 * data-query (`from|to|model` of the table shown), data-selected (the drilled-down channel),
 * data-lift / data-lift-query (the lift view's state and range); the heatmap on
 * data-cohort-state (loading, ready, error) and data-cohort-query
 * (`from|to|granularity|horizon` of the heatmap shown).
 */
import {
  CategoryScale,
  Chart,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from 'chart.js';
import type { ApiModel, ChannelRow, DayRow } from '../attribution/query.ts';
import type { LiftReport } from '../insight/lift.ts';
import type { CohortResult } from '../attribution/cohort-query.ts';
import { cohortFrom, COLUMNS, formatArm, formatInt, formatInterval, formatPoints, formatRate, formatYuan, heatShade, shiftDay, sortRows, spanDays, todayIn, VERDICT_LABELS, type ColumnKey, type SortDir } from './format.ts';
import { insightView } from './insight.ts';

Chart.register(LineController, LineElement, PointElement, CategoryScale, LinearScale, Tooltip, Legend, Filler);

const TOKEN_KEY = 'scrm-hub.adminToken';
const DEFAULT_DAYS = 30;
const MAX_DAYS = 366;
const FONT =
  'system-ui, -apple-system, "Segoe UI", "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Micro Hei", sans-serif';
Chart.defaults.font.family = FONT;
Chart.defaults.color = '#667085';

interface ChannelsResponse {
  from: string;
  to: string;
  model: ApiModel;
  channels: ChannelRow[];
}
interface DailyResponse {
  channel: string;
  from: string;
  to: string;
  model: ApiModel;
  days: DayRow[];
}

class Unauthorized extends Error {}

// ---------------------------------------------------------------------------------------------
// DOM helpers

const $ = <T extends HTMLElement = HTMLElement>(sel: string): T => {
  const el = document.querySelector<T>(sel);
  if (!el) throw new Error(`missing element ${sel}`);
  return el;
};

function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | undefined> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) el.setAttribute(k, v);
  for (const c of children) el.append(c);
  return el;
}

const tz = document.querySelector<HTMLMetaElement>('meta[name="hub-timezone"]')?.content || 'Asia/Shanghai';

const els = {
  body: document.body,
  login: $('#login'),
  loginForm: $<HTMLFormElement>('#login-form'),
  token: $<HTMLInputElement>('#token'),
  loginError: $('#login-error'),
  app: $('#app'),
  signOut: $<HTMLButtonElement>('#sign-out'),
  from: $<HTMLInputElement>('#from'),
  to: $<HTMLInputElement>('#to'),
  model: $('#model'),
  account: $<HTMLSelectElement>('#account'),
  csv: $<HTMLButtonElement>('#csv'),
  status: $('#status'),
  kpis: $('#kpis'),
  thead: $('#channels thead tr'),
  tbody: $('#channels tbody'),
  funnel: $('#funnel'),
  funnelChannel: $('#funnel-channel'),
  trend: $<HTMLCanvasElement>('#trend'),
  trendChannel: $('#trend-channel'),
  liftBody: $('#lift tbody'),
  liftStatus: $('#lift-status'),
  cohortGranularity: $('#cohort-granularity'),
  cohortHorizon: $('#cohort-horizon'),
  cohortHead: $('#cohorts thead tr'),
  cohortBody: $('#cohorts tbody'),
  cohortFoot: $('#cohorts tfoot'),
  cohortNote: $('#cohort-note'),
};

// ---------------------------------------------------------------------------------------------
// State

/** sessionStorage, tolerating browsers or origins where it is unavailable (the token then lives in memory). */
const store = {
  get(): string | null {
    try {
      return sessionStorage.getItem(TOKEN_KEY);
    } catch {
      return null;
    }
  },
  set(v: string | null): void {
    try {
      if (v === null) sessionStorage.removeItem(TOKEN_KEY);
      else sessionStorage.setItem(TOKEN_KEY, v);
    } catch {
      // memory only
    }
  },
};

const state = {
  token: store.get(),
  model: 'first_touch' as ApiModel,
  /** '' = all accounts (brand scope); else one official account (account scope). */
  appId: '',
  rows: [] as ChannelRow[],
  sortKey: 'newFans' as ColumnKey,
  sortDir: 'desc' as SortDir,
  selected: null as string | null,
  seq: 0,
  dailySeq: 0,
  liftSeq: 0,
  cohortGranularity: 'month' as 'week' | 'month',
  cohortHorizon: '90',
  cohortSeq: 0,
};

/** Menus and keywords (./insight.ts): same range and account as the channel table. */
const insight = insightView({ api: (path) => api(path), h, isUnauthorized: (err) => err instanceof Unauthorized, onUnauthorized: (err) => handleError(err) });

function setStatus(message: string, isError = false): void {
  els.status.textContent = message;
  els.status.classList.toggle('error', isError);
}

// ---------------------------------------------------------------------------------------------
// API

async function api(path: string): Promise<Response> {
  const res = await fetch(path, { headers: { authorization: `Bearer ${state.token ?? ''}` }, cache: 'no-store' });
  if (res.status === 401) throw new Unauthorized('unauthorized');
  if (!res.ok) {
    let reason = `${res.status} ${res.statusText}`;
    try {
      const body = (await res.json()) as { message?: string };
      if (body.message) reason = body.message;
    } catch {
      // not JSON: keep the status line
    }
    throw new Error(reason);
  }
  return res;
}

/** Range, model and the account switcher: all accounts is the brand view, one account its own channels (docs/design.md#wechat-accounts). */
const rangeQuery = () =>
  new URLSearchParams({ from: els.from.value, to: els.to.value, model: state.model, ...(state.appId ? { scope: 'account', appId: state.appId } : { scope: 'brand' }) }).toString();

/** Fills the account switcher from GET /attribution/accounts (the configured official accounts). */
async function loadAccounts(): Promise<void> {
  try {
    const res = (await (await api('attribution/accounts')).json()) as { accounts: { appId: string; name: string }[] };
    els.account.replaceChildren(h('option', { value: '' }, '全部账号 All accounts'), ...res.accounts.map((a) => h('option', { value: a.appId }, `${a.name} · ${a.appId}`)));
    els.account.value = state.appId;
    els.body.dataset.accounts = String(res.accounts.length);
  } catch (err) {
    handleError(err);
  }
}

// ---------------------------------------------------------------------------------------------
// Sign-in

function showLogin(error?: string): void {
  state.token = null;
  store.set(null);
  els.app.hidden = true;
  els.signOut.hidden = true;
  els.login.hidden = false;
  els.loginError.hidden = !error;
  els.loginError.textContent = error ?? '';
  els.body.dataset.state = 'signed-out';
  els.token.focus();
}

function showApp(): void {
  els.login.hidden = true;
  els.app.hidden = false;
  els.signOut.hidden = false;
}

function handleError(err: unknown): void {
  if (err instanceof Unauthorized) {
    showLogin('令牌无效或已过期 The token was refused.');
    return;
  }
  setStatus(`加载失败 Failed: ${err instanceof Error ? err.message : String(err)}`, true);
  els.body.dataset.state = 'error';
}

// ---------------------------------------------------------------------------------------------
// Rendering

function renderHead(): void {
  els.thead.replaceChildren(
    ...COLUMNS.map((c) => {
      const th = h('th', { scope: 'col', tabindex: '0', 'data-key': c.key }, h('span', { class: 'zh' }, c.zh), h('span', { class: 'en' }, c.en));
      if (c.key === state.sortKey) th.setAttribute('aria-sort', state.sortDir === 'asc' ? 'ascending' : 'descending');
      const activate = () => {
        if (state.sortKey === c.key) state.sortDir = state.sortDir === 'asc' ? 'desc' : 'asc';
        else {
          state.sortKey = c.key;
          state.sortDir = c.key === 'name' ? 'asc' : 'desc';
        }
        renderHead();
        renderRows();
      };
      th.addEventListener('click', activate);
      th.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          activate();
        }
      });
      return th;
    }),
  );
}

function renderRows(): void {
  const rows = sortRows(state.rows, state.sortKey, state.sortDir);
  if (!rows.length) {
    els.tbody.replaceChildren(h('tr', {}, h('td', { class: 'empty', colspan: String(COLUMNS.length) }, '该时间段没有渠道数据 No channels in this range.')));
    return;
  }
  els.tbody.replaceChildren(
    ...rows.map((r) => {
      const tr = h('tr', { 'data-channel': r.channel, tabindex: '0', 'aria-selected': String(r.channel === state.selected) });
      for (const c of COLUMNS) {
        if (c.key === 'name') {
          tr.append(h('td', { 'data-key': 'name', 'data-value': r.name }, r.name, h('span', { class: 'cid' }, r.channel)));
          continue;
        }
        const raw = r[c.key];
        tr.append(
          h(
            'td',
            { 'data-key': c.key, 'data-value': raw === null ? '' : String(raw), class: raw === 0 || raw === null ? 'zero' : undefined },
            c.format(r),
          ),
        );
      }
      const pick = () => select(r.channel);
      tr.addEventListener('click', pick);
      tr.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          pick();
        }
      });
      return tr;
    }),
  );
}

function renderKpis(): void {
  const sum = (k: 'newFans' | 'convertedFans' | 'newMembers' | 'orders' | 'gmvFen') => state.rows.reduce((s, r) => s + r[k], 0);
  const fans = sum('newFans');
  const converted = sum('convertedFans');
  const rate = fans > 0 ? Math.round((converted / fans) * 10_000) / 10_000 : 0;
  const kpi = (key: string, zh: string, en: string, raw: number, text: string) =>
    h('div', { class: 'kpi', 'data-key': key, 'data-value': String(raw) }, h('div', { class: 'k' }, `${zh} `, h('span', { class: 'en' }, en)), h('div', { class: 'v' }, text));
  els.kpis.replaceChildren(
    kpi('newFans', '新增粉丝', 'New fans', fans, formatInt(fans)),
    kpi('convertedFans', '转化粉丝', 'Converted', converted, formatInt(converted)),
    kpi('conversionRate', '转化率', 'Conv. rate', rate, formatRate(rate)),
    kpi('newMembers', '新会员', 'New members', sum('newMembers'), formatInt(sum('newMembers'))),
    kpi('orders', '订单', 'Orders', sum('orders'), formatInt(sum('orders'))),
    kpi('gmvFen', '成交额', 'GMV', sum('gmvFen'), formatYuan(sum('gmvFen'))),
  );
}

function renderFunnel(row: ChannelRow | undefined): void {
  if (!row) {
    els.funnel.replaceChildren(h('p', { class: 'hint' }, '选择一个渠道 Select a channel.'));
    els.funnelChannel.textContent = '';
    return;
  }
  els.funnelChannel.textContent = `${row.name} · ${row.channel}`;
  const steps = [
    { key: 'newFans', zh: '新增粉丝', en: 'New fans', n: row.newFans, note: '' },
    { key: 'convertedFans', zh: '成为会员', en: 'Became members', n: row.convertedFans, note: `转化率 ${formatRate(row.conversionRate)} of new fans` },
    { key: 'orders', zh: '付款订单', en: 'Paid orders', n: row.orders, note: `成交额 ${formatYuan(row.gmvFen)}` },
  ];
  const max = Math.max(1, ...steps.map((s) => s.n));
  els.funnel.replaceChildren(
    ...steps.map((s) => {
      const fill = h('i');
      fill.style.width = `${(s.n / max) * 100}%`;
      return h(
        'div',
        { class: 'step', 'data-key': s.key, 'data-value': String(s.n) },
        h('div', { class: 'row' }, h('span', {}, s.zh, h('span', { class: 'en' }, s.en)), h('span', { class: 'n' }, formatInt(s.n))),
        h('div', { class: 'bar', role: 'presentation' }, fill),
        ...(s.note ? [h('div', { class: 'rate' }, s.note)] : []),
      );
    }),
  );
}

let chart: Chart<'line', number[], string> | undefined;

function renderTrend(channel: string, days: DayRow[]): void {
  const row = state.rows.find((r) => r.channel === channel);
  els.trendChannel.textContent = row ? `${row.name} · ${row.channel}` : channel;
  const labels = days.map((d) => d.day.slice(5));
  const fans = days.map((d) => d.newFans);
  const conv = days.map((d) => d.convertedFans);
  // The canvas's fallback content: the same numbers as a table, for screen readers and tests.
  const table = h(
    'table',
    { class: 'sr-only', 'data-channel': channel },
    h('thead', {}, h('tr', {}, h('th', {}, 'day'), h('th', {}, 'newFans'), h('th', {}, 'convertedFans'))),
    h(
      'tbody',
      {},
      ...days.map((d) =>
        h('tr', { 'data-day': d.day }, h('td', {}, d.day), h('td', { 'data-key': 'newFans' }, String(d.newFans)), h('td', { 'data-key': 'convertedFans' }, String(d.convertedFans))),
      ),
    ),
  );
  els.trend.replaceChildren(table);
  if (!chart) {
    chart = new Chart(els.trend, {
      type: 'line',
      data: {
        labels,
        datasets: [
          { label: '新增粉丝 New fans', data: fans, borderColor: '#2e6be6', backgroundColor: 'rgba(46,107,230,0.10)', fill: true, tension: 0, pointRadius: 2, borderWidth: 2 },
          { label: '转化 Conversions', data: conv, borderColor: '#07c160', backgroundColor: 'rgba(7,193,96,0.10)', fill: true, tension: 0, pointRadius: 2, borderWidth: 2 },
        ],
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: 'index', intersect: false },
        plugins: { legend: { position: 'bottom', labels: { usePointStyle: true, pointStyle: 'circle', boxWidth: 8, boxHeight: 8 } } },
        scales: {
          x: { grid: { display: false }, ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: 10 } },
          y: { beginAtZero: true, ticks: { precision: 0 }, grid: { color: '#eef1f5' } },
        },
      },
    });
  } else {
    chart.data.labels = labels;
    chart.data.datasets[0]!.data = fans;
    chart.data.datasets[1]!.data = conv;
    chart.update();
  }
}

// ---------------------------------------------------------------------------------------------
// Loading

function rangeProblem(): string | undefined {
  const from = els.from.value;
  const to = els.to.value;
  if (!from || !to) return '请选择日期 Pick both dates.';
  if (from > to) return '开始日期晚于结束日期 From is after To.';
  if (spanDays(from, to) > MAX_DAYS) return `范围最多 ${MAX_DAYS} 天 At most ${MAX_DAYS} days.`;
  return undefined;
}

async function load(): Promise<void> {
  const problem = rangeProblem();
  if (problem) {
    setStatus(problem, true);
    els.body.dataset.state = 'error';
    return;
  }
  const seq = ++state.seq;
  els.body.dataset.state = 'loading';
  setStatus('加载中… Loading…');
  // The lift view loads alongside; `ready` waits for it (it reports its own failure).
  const lift = loadLift();
  void insight.load({ from: els.from.value, to: els.to.value, appId: state.appId });
  try {
    const res = (await (await api(`attribution/channels?${rangeQuery()}`)).json()) as ChannelsResponse;
    if (seq !== state.seq) return;
    state.rows = res.channels;
    if (!state.rows.some((r) => r.channel === state.selected)) state.selected = sortRows(state.rows, 'newFans', 'desc')[0]?.channel ?? null;
    renderKpis();
    renderRows();
    await loadDaily(seq);
    if (seq !== state.seq) return;
    setStatus(`${res.from} — ${res.to} · ${res.model === 'first_touch' ? '首次触点 First touch' : '末次触点 Last touch'} · ${state.rows.length} 个渠道 channels`);
    els.body.dataset.query = `${res.from}|${res.to}|${res.model}`;
    els.body.dataset.account = state.appId;
    await lift;
    if (seq !== state.seq) return;
    els.body.dataset.state = 'ready';
    void loadCohorts();
  } catch (err) {
    await lift;
    if (seq === state.seq) handleError(err);
  }
}

async function loadDaily(seq: number): Promise<void> {
  const channel = state.selected;
  const row = state.rows.find((r) => r.channel === channel);
  renderFunnel(row);
  els.body.dataset.selected = channel ?? '';
  if (!channel) {
    els.trend.replaceChildren();
    chart?.destroy();
    chart = undefined;
    els.trendChannel.textContent = '';
    return;
  }
  const mine = ++state.dailySeq;
  const res = (await (await api(`attribution/channels/${encodeURIComponent(channel)}/daily?${rangeQuery()}`)).json()) as DailyResponse;
  if (seq !== state.seq || mine !== state.dailySeq) return;
  renderTrend(channel, res.days);
}

/**
 * The lift view (GET /insight/lift for the range, every rule): its own state on <body>
 * (data-lift: loading, ready, error; data-lift-query: `from|to`), so a token without the
 * insight scope still sees the channels.
 */
async function loadLift(): Promise<void> {
  const mine = ++state.liftSeq;
  const from = els.from.value;
  const to = els.to.value;
  els.body.dataset.lift = 'loading';
  els.liftStatus.textContent = '';
  els.liftStatus.classList.remove('error');
  try {
    const res = (await (await api(`insight/lift?${new URLSearchParams({ from, to }).toString()}`)).json()) as { rules: LiftReport[] };
    if (mine !== state.liftSeq) return;
    renderLift(res.rules);
    if (!res.rules.length) els.liftStatus.textContent = '所选日期内没有营销规则的触达记录 No marketing rule had eligible members in the range.';
    els.body.dataset.liftQuery = `${from}|${to}`;
    els.body.dataset.lift = 'ready';
  } catch (err) {
    if (mine !== state.liftSeq) return;
    if (err instanceof Unauthorized) return handleError(err);
    els.liftStatus.textContent = `增量加载失败 Lift failed: ${err instanceof Error ? err.message : String(err)}`;
    els.liftStatus.classList.add('error');
    els.body.dataset.lift = 'error';
  }
}

function renderLift(rules: LiftReport[]): void {
  const cell = (key: string, value: string, text: string) => h('td', { 'data-key': key, 'data-value': value }, text);
  els.liftBody.replaceChildren(
    ...rules.map((r) =>
      h(
        'tr',
        { 'data-rule': r.rule, 'data-verdict': r.verdict },
        h('th', { scope: 'row' }, r.rule),
        cell('treated', `${r.treated.converted}/${r.treated.eligible}`, formatArm(r.treated)),
        cell('holdout', `${r.holdout.converted}/${r.holdout.eligible}`, formatArm(r.holdout)),
        cell('absoluteLift', r.absoluteLift === null ? '' : String(r.absoluteLift), formatPoints(r.absoluteLift)),
        cell('ci95', r.ci95 === null ? '' : `${r.ci95.low}|${r.ci95.high}`, formatInterval(r.ci95)),
        cell('relativeLift', r.relativeLift === null ? '' : String(r.relativeLift), r.relativeLift === null ? '—' : formatPoints(r.relativeLift).replace(' pp', '%')),
        h('td', { 'data-key': 'verdict', 'data-value': r.verdict }, h('span', { class: `verdict verdict-${r.verdict}` }, VERDICT_LABELS[r.verdict]), h('div', { class: 'verdict-message' }, r.message)),
      ),
    ),
  );
}

function select(channel: string): void {
  if (state.selected === channel) return;
  state.selected = channel;
  els.tbody.querySelectorAll('tr[data-channel]').forEach((tr) => tr.setAttribute('aria-selected', String(tr.getAttribute('data-channel') === channel)));
  const seq = state.seq;
  els.body.dataset.state = 'loading';
  loadDaily(seq)
    .then(() => {
      if (seq === state.seq) els.body.dataset.state = 'ready';
    })
    .catch(handleError);
}

async function downloadCsv(): Promise<void> {
  const problem = rangeProblem();
  if (problem) return setStatus(problem, true);
  els.csv.disabled = true;
  try {
    const res = await api(`attribution/channels.csv?${rangeQuery()}`);
    const blob = await res.blob();
    const disposition = res.headers.get('content-disposition') ?? '';
    const name = /filename="([^"]+)"/.exec(disposition)?.[1] ?? `attribution_${state.model}_${els.from.value}_${els.to.value}.csv`;
    const url = URL.createObjectURL(blob);
    const a = h('a', { href: url, download: name });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (err) {
    handleError(err);
  } finally {
    els.csv.disabled = false;
  }
}

// ---------------------------------------------------------------------------------------------
// Cohorts: value by acquisition channel

/** The heatmap: cohort rows × first-touch channel columns, each cell GMV per acquired person, shaded by it. */
function renderCohorts(res: Omit<CohortResult, 'requests'>): void {
  const names = new Map(state.rows.map((r) => [r.channel, r.name]));
  const channels = res.channels.map((c) => c.channel);
  const cohorts = [...new Set(res.rows.map((r) => r.cohort))];
  const max = Math.max(0, ...res.rows.map((r) => r.gmvPerAcquiredFen));
  els.cohortHead.replaceChildren(
    h('th', { scope: 'col' }, h('span', { class: 'zh' }, '获客批次'), h('span', { class: 'en' }, res.granularity === 'month' ? 'Cohort (month)' : 'Cohort (ISO week)')),
    ...channels.map((c) => h('th', { scope: 'col', 'data-channel': c }, h('span', { class: 'zh' }, names.get(c) ?? c), h('span', { class: 'en' }, c))),
  );
  if (!cohorts.length) {
    els.cohortBody.replaceChildren(h('tr', {}, h('td', { class: 'empty', colspan: String(channels.length + 1) }, '该时间段没有获客 Nobody acquired in these cohorts.')));
    els.cohortFoot.replaceChildren();
  } else {
    els.cohortBody.replaceChildren(
      ...cohorts.map((cohort) => {
        const rows = res.rows.filter((r) => r.cohort === cohort);
        const mature = rows.every((r) => r.mature);
        const tr = h('tr', { 'data-cohort': cohort, class: mature ? undefined : 'immature' }, h('td', { 'data-key': 'cohort' }, mature ? cohort : `${cohort} *`));
        for (const channel of channels) {
          const r = rows.find((x) => x.channel === channel);
          if (!r || r.acquired === 0) {
            tr.append(h('td', { class: 'none', 'data-channel': channel, 'data-value': '' }, '—'));
            continue;
          }
          const shade = heatShade(r.gmvPerAcquiredFen, max);
          const td = h(
            'td',
            {
              class: shade > 0.5 ? 'cell dark' : 'cell',
              'data-channel': channel,
              'data-value': String(r.gmvPerAcquiredFen),
              'data-acquired': String(r.acquired),
              'data-shade': String(shade),
              title: `${cohort} · ${channel}: 获客 ${r.acquired} acquired, 会员 ${r.members}, 购买 ${r.buyers}, 复购 ${r.repeatBuyers}, 成交额 ${formatYuan(r.gmvFen)}`,
            },
            formatYuan(r.gmvPerAcquiredFen),
            h('small', {}, `${formatInt(r.acquired)} 人`),
          );
          td.style.background = `rgba(46, 107, 230, ${shade})`;
          tr.append(td);
        }
        return tr;
      }),
    );
    els.cohortFoot.replaceChildren(
      h(
        'tr',
        { 'data-total': 'true' },
        h('td', {}, '合计 · 头部客户占比 ', h('span', { class: 'en' }, 'All · top-20 % share')),
        ...res.channels.map((c) =>
          h(
            'td',
            { 'data-channel': c.channel, 'data-value': String(c.gmvPerAcquiredFen), 'data-top-share': String(c.topShare) },
            formatYuan(c.gmvPerAcquiredFen),
            h('small', {}, `头部 ${formatRate(c.topShare)}`),
          ),
        ),
      ),
    );
  }
  const threshold = res.topThresholdFen === null ? '—' : `≥ ${formatYuan(res.topThresholdFen)}`;
  els.cohortNote.textContent = `期限 Horizon ${res.horizon} 天 days · 头部 20% 客户门槛 Top-20 % threshold ${threshold} · * 尚未满期 cohort still within the horizon`;
}

async function loadCohorts(): Promise<void> {
  const to = els.to.value;
  if (!to) return;
  const seq = ++state.cohortSeq;
  const from = cohortFrom(to, state.cohortGranularity);
  els.body.dataset.cohortState = 'loading';
  try {
    const q = new URLSearchParams({ from, to, granularity: state.cohortGranularity, horizon: state.cohortHorizon }).toString();
    const res = (await (await api(`attribution/cohorts?${q}`)).json()) as Omit<CohortResult, 'requests'>;
    if (seq !== state.cohortSeq) return;
    renderCohorts(res);
    els.body.dataset.cohortQuery = `${res.from}|${res.to}|${res.granularity}|${res.horizon}`;
    els.body.dataset.cohortState = 'ready';
  } catch (err) {
    if (seq !== state.cohortSeq) return;
    els.body.dataset.cohortState = 'error';
    handleError(err);
  }
}

/** A segmented radio group: marks the clicked button and calls `pick` with its data value. */
function radioGroup(group: HTMLElement, attr: string, pick: (value: string) => void): void {
  const buttons = group.querySelectorAll<HTMLButtonElement>(`[data-${attr}]`);
  buttons.forEach((b) =>
    b.addEventListener('click', () => {
      if (b.getAttribute('aria-checked') === 'true') return;
      buttons.forEach((x) => x.setAttribute('aria-checked', String(x === b)));
      pick(b.dataset[attr]!);
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Wiring

function setRange(days: number): void {
  const today = todayIn(tz);
  els.to.value = today;
  els.from.value = shiftDay(today, -(days - 1));
}

function start(): void {
  $('#tz-label').textContent = `时区 ${tz}`;
  setRange(DEFAULT_DAYS);
  renderHead();

  els.loginForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const token = els.token.value.trim();
    if (!token) return;
    state.token = token;
    store.set(token);
    els.token.value = '';
    showApp();
    void loadAccounts();
    void load();
  });
  els.signOut.addEventListener('click', () => showLogin());
  for (const input of [els.from, els.to]) input.addEventListener('change', () => void load());
  document.querySelectorAll<HTMLButtonElement>('[data-preset]').forEach((b) =>
    b.addEventListener('click', () => {
      setRange(Number(b.dataset.preset));
      void load();
    }),
  );
  const modelButtons = els.model.querySelectorAll<HTMLButtonElement>('[data-model]');
  modelButtons.forEach((b) =>
    b.addEventListener('click', () => {
      const model = b.dataset.model as ApiModel;
      if (model === state.model) return;
      state.model = model;
      modelButtons.forEach((x) => x.setAttribute('aria-checked', String(x === b)));
      void load();
    }),
  );
  els.csv.addEventListener('click', () => void downloadCsv());
  radioGroup(els.cohortGranularity, 'granularity', (v) => {
    state.cohortGranularity = v as 'week' | 'month';
    void loadCohorts();
  });
  radioGroup(els.cohortHorizon, 'horizon', (v) => {
    state.cohortHorizon = v;
    void loadCohorts();
  });
  els.account.addEventListener('change', () => {
    state.appId = els.account.value;
    void load();
  });

  if (state.token) {
    showApp();
    void loadAccounts();
    void load();
  } else {
    showLogin();
  }
}

start();
