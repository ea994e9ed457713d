/**
 * The menus and keywords view of the dashboard (GET /insight/menus, GET /insight/keywords, scope
 * insight:read): menu CLICK / VIEW by key or URL, text messages by matched keyword with the share
 * answered, and the most frequent terms of unanswered messages, for the page's date range and
 * account. Reports its progress on <body data-insight> (loading, ready, error) and the query it
 * shows on data-insight-query (`from|to|appId`). A refusal (a token without insight:read) shows
 * in this card only; the channel view goes on.
 */
import type { KeywordRow, MenuRow } from '../insight/query.ts';
import { formatInt, formatRate } from './format.ts';

/** Unanswered terms shown. */
export const TOP_WORDS = 20;

type El = <K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Record<string, string | undefined>, ...children: (Node | string)[]) => HTMLElementTagNameMap[K];

export interface InsightDeps {
  api(path: string): Promise<Response>;
  h: El;
  /** The error of a refused token (the page signs out). */
  isUnauthorized(err: unknown): boolean;
  onUnauthorized(err: unknown): void;
}

interface KeywordsResponse {
  matched: KeywordRow[];
  unmatched: { word: string; count: number }[];
}

const cell = (h: El, key: string, value: string | number, text = String(value)) => h('td', { 'data-key': key, 'data-value': String(value) }, text);

export function insightView(deps: InsightDeps) {
  const { h } = deps;
  const body = document.body;
  const q = <T extends HTMLElement>(sel: string) => document.querySelector<T>(sel)!;
  const menus = q<HTMLTableSectionElement>('#menus tbody');
  const keywords = q<HTMLTableSectionElement>('#keywords tbody');
  const words = q<HTMLTableSectionElement>('#words tbody');
  const status = q<HTMLElement>('#insight-status');
  let seq = 0;

  const empty = (tbody: HTMLElement, cols: number, text: string) => tbody.replaceChildren(h('tr', {}, h('td', { class: 'empty', colspan: String(cols) }, text)));

  function render(m: MenuRow[], k: KeywordsResponse): void {
    if (!m.length) empty(menus, 3, '没有菜单点击 No menu events.');
    else
      menus.replaceChildren(
        ...m.map((r) => h('tr', { 'data-app': r.appId, 'data-event': r.event, 'data-menu-key': r.key }, cell(h, 'event', r.event, r.event === 'CLICK' ? '点击 CLICK' : '跳转 VIEW'), h('td', { 'data-key': 'key', class: 'text', title: r.key }, r.key, h('span', { class: 'cid' }, r.appId)), cell(h, 'count', r.count, formatInt(r.count)))),
      );
    if (!k.matched.length) empty(keywords, 4, '没有命中的关键词 No keyword matched.');
    else
      keywords.replaceChildren(
        ...k.matched.map((r) =>
          h('tr', { 'data-app': r.appId, 'data-keyword': r.keyword }, h('td', { 'data-key': 'keyword', class: 'text' }, r.keyword, h('span', { class: 'cid' }, r.appId)), cell(h, 'count', r.count, formatInt(r.count)), cell(h, 'replies', r.replies, formatInt(r.replies)), cell(h, 'replyRate', r.count ? r.replies / r.count : 0, formatRate(r.count ? r.replies / r.count : 0))),
        ),
      );
    if (!k.unmatched.length) empty(words, 2, '没有未回复的消息 No unanswered messages.');
    else words.replaceChildren(...k.unmatched.map((w) => h('tr', { 'data-word': w.word }, h('td', { 'data-key': 'word', class: 'text' }, w.word), cell(h, 'count', w.count, formatInt(w.count)))));
  }

  /** Loads and shows the view for the range and account ('' = all accounts). */
  async function load(range: { from: string; to: string; appId: string }): Promise<void> {
    const mine = ++seq;
    body.dataset.insight = 'loading';
    status.textContent = '';
    const qs = new URLSearchParams({ from: range.from, to: range.to, ...(range.appId ? { appId: range.appId } : {}) });
    try {
      const [m, k] = await Promise.all([
        deps.api(`insight/menus?${qs.toString()}`).then((r) => r.json() as Promise<{ rows: MenuRow[] }>),
        deps.api(`insight/keywords?${qs.toString()}&limit=${TOP_WORDS}`).then((r) => r.json() as Promise<KeywordsResponse>),
      ]);
      if (mine !== seq) return;
      render(m.rows, k);
      body.dataset.insightQuery = `${range.from}|${range.to}|${range.appId}`;
      body.dataset.insight = 'ready';
    } catch (err) {
      if (mine !== seq) return;
      if (deps.isUnauthorized(err)) return deps.onUnauthorized(err);
      status.textContent = `加载失败 Failed: ${err instanceof Error ? err.message : String(err)}`;
      body.dataset.insight = 'error';
    }
  }

  return { load };
}
