/**
 * The words of an unanswered text message, counted per day so marketing sees what fans type that
 * no keyword rule answers (`GET /insight/keywords` → `unmatched`).
 *
 * Chinese has no spaces, so a message is split in two ways, by length:
 * - a SHORT message (at most PHRASE_MAX code points once normalised) is one term as a whole:
 *   what people type as a keyword ("优惠券", "狗粮多少钱") is exactly what a rule would match;
 * - a LONGER message gives its words from `Intl.Segmenter` (Node's built-in ICU word breaking,
 *   dictionary-based for Chinese and Japanese, spaces and punctuation elsewhere): the word-like
 *   segments of at least two code points, common function words (STOP_WORDS) left out, at most
 *   MAX_WORDS distinct per message, each counted once per message.
 * Terms are lower-cased NFKC text. Nothing that may identify a person is counted: a term with
 * four or more digits (a phone, an order or member number), an `@` or a link is dropped, and a
 * longer message's e-mail addresses and links are cut out before it is split.
 * The segmentation follows the ICU data of the Node version (docs/design.md#menus-and-keywords).
 */
import { normaliseText } from './keywords.ts';

/** A message of at most this many code points is one term. */
export const PHRASE_MAX = 16;
/** Words counted from one longer message. */
export const MAX_WORDS = 5;
/** Longest word kept (code points); a longer segment is dropped. */
export const WORD_MAX = 16;

/** Frequent function words and question words that say nothing about what the fan wants. */
export const STOP_WORDS: ReadonlySet<string> = new Set([
  '什么', '怎么', '怎样', '请问', '没有', '可以', '你们', '我们', '我的', '我想', '一下', '哪里', '为什么', '这个', '那个', '就是', '还是', '但是', '因为', '所以', '如果', '已经', '时候', '现在', '你好', '谢谢',
  'the', 'and', 'for', 'you', 'are', 'is', 'to', 'of', 'in', 'it', 'my', 'me', 'do', 'can', 'how', 'what', 'at', 'on', 'an', 'be', 'we', 'so', 'or', 'if', 'by', 'as', 'no', 'hi',
]);

const segmenter = new Intl.Segmenter('zh', { granularity: 'word' });
const codePoints = (s: string) => [...s].length;

/** E-mail addresses and links, cut out before a message is split (their parts would be words). */
const ADDRESSES = /\S+@\S+|(?:https?:\/\/|www\.)\S+/giu;

/** A term that could identify a person (or is no word at all). */
function identifying(term: string): boolean {
  return (term.match(/\p{Nd}/gu)?.length ?? 0) >= 4 || term.includes('@') || /https?:|www\./i.test(term);
}

/** The terms one unanswered message counts (see the module comment); [] for nothing countable. */
export function unmatchedTerms(text: string): string[] {
  const normalised = normaliseText(text).toLowerCase();
  if (normalised === '') return [];
  if (codePoints(normalised) <= PHRASE_MAX) return identifying(normalised) ? [] : [normalised];
  const out: string[] = [];
  for (const { segment, isWordLike } of segmenter.segment(normalised.replace(ADDRESSES, ' '))) {
    if (!isWordLike) continue;
    const n = codePoints(segment);
    if (n < 2 || n > WORD_MAX || STOP_WORDS.has(segment) || identifying(segment) || out.includes(segment)) continue;
    out.push(segment);
    if (out.length === MAX_WORDS) break;
  }
  return out;
}
