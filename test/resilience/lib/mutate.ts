/**
 * Mutation operators for the fuzz test: each takes a payload (text or bytes) and a seeded RNG
 * and returns a damaged copy. XML operators know about elements, JSON operators about values;
 * the byte-level ones (bit flips, truncation, random bytes) apply to anything.
 */
import { isLosslessNumber, parse as parseLossless, stringify as stringifyLossless } from 'lossless-json';

export type Rng = () => number;

export const int = (rnd: Rng, n: number): number => Math.floor(rnd() * n);
export const pick = <T>(rnd: Rng, xs: readonly T[]): T => xs[int(rnd, xs.length)]!;

// ---------------------------------------------------------------------------------------------
// Bytes

export function flipBits(buf: Buffer, rnd: Rng, flips = 1 + int(rnd, 8)): Buffer {
  if (buf.length === 0) return buf;
  const out = Buffer.from(buf);
  for (let i = 0; i < flips; i++) {
    const at = int(rnd, out.length);
    out[at] = out[at]! ^ (1 << int(rnd, 8));
  }
  return out;
}

export function truncate(buf: Buffer, rnd: Rng): Buffer {
  return buf.subarray(0, int(rnd, Math.max(1, buf.length)));
}

export function randomBytesOf(rnd: Rng, size = int(rnd, 2048)): Buffer {
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i++) out[i] = int(rnd, 256);
  return out;
}

/** Byte sequences that are not valid UTF-8, or valid but hostile. */
export const ODD_BYTES: readonly Buffer[] = [
  Buffer.from([0xc3, 0x28]),
  Buffer.from([0xed, 0xa0, 0x80]), // a UTF-16 surrogate encoded as UTF-8
  Buffer.from([0xf4, 0x90, 0x80, 0x80]), // beyond U+10FFFF
  Buffer.from([0x00]),
  Buffer.from([0xef, 0xbb, 0xbf]), // BOM
  Buffer.from([0xff, 0xfe]),
  Buffer.from('\u202e\u200b\ufeff', 'utf8'),
  Buffer.from('😀𠜎中文', 'utf8'),
];

export function insertBytes(buf: Buffer, rnd: Rng): Buffer {
  const at = int(rnd, buf.length + 1);
  return Buffer.concat([buf.subarray(0, at), pick(rnd, ODD_BYTES), buf.subarray(at)]);
}

// ---------------------------------------------------------------------------------------------
// Strings shared by both formats

export function hugeString(rnd: Rng): string {
  const n = pick(rnd, [256, 4_096, 40_000, 70_000, 600_000]);
  const unit = pick(rnd, ['A', '中', '😀', '&amp;', '<', '"', '\\', '%', ' ', '\u0000']);
  return unit.repeat(Math.ceil(n / unit.length));
}

export const WEIRD_VALUES: readonly string[] = [
  '',
  ' ',
  '-1',
  '0',
  '1.5',
  '1e308',
  '1e-400',
  'NaN',
  'Infinity',
  '0x1F',
  '99999999999999999999999999999999999999999',
  '-99999999999999999999',
  'null',
  'true',
  '[]',
  '{}',
  '<xml/>',
  '%00',
  '\u0000',
  '\u202e',
  '😀',
  '../../etc/passwd',
  "'; DROP TABLE members; --",
  '${jndi:ldap://x}',
  '__proto__',
  'constructor',
  '#',
  'qrscene_',
  'qrscene_' + 'x'.repeat(80),
  'qrscene_a#b',
];

// ---------------------------------------------------------------------------------------------
// XML

const ELEMENT = /<([A-Za-z_][\w.-]*)>([\s\S]*?)<\/\1>/g;

function elements(xml: string): { name: string; start: number; end: number; inner: string; innerStart: number }[] {
  const out: { name: string; start: number; end: number; inner: string; innerStart: number }[] = [];
  for (const m of xml.matchAll(ELEMENT)) {
    if (m[1] === 'xml') continue;
    out.push({ name: m[1]!, start: m.index!, end: m.index! + m[0].length, inner: m[2]!, innerStart: m.index! + m[1]!.length + 2 });
  }
  return out;
}

const XML_TEMPLATES: readonly ((inner: string) => string)[] = [
  // Entity payloads: external entity, billion laughs, parameter entity.
  (x) => `<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>${x.replace(/<Content>/, '<Content>&xxe;')}`,
  (x) =>
    `<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>${x.replace('</xml>', '<Content>&lol3;</Content></xml>')}`,
  (x) => `<!doctype xml SYSTEM "http://127.0.0.1:9/x.dtd">${x}`,
  (x) => `<!ENTITY % p SYSTEM "http://127.0.0.1:9/">${x}`,
  (x) => x.replace(/<!\[CDATA\[/, '<![CDATA[&amp;&lt;&#0;&#xD800;&unknown;'),
  // Structure.
  (x) => `${x}${x}`,
  (x) => `<xml>${x}</xml>`,
  (x) => x.replace('<xml>', '<xml a="1" b=\'2\' xmlns:w="urn:x">'),
  (x) => x.replace('<xml>', '<xml><!-- comment --><?pi data?>'),
  (x) => x.replace('</xml>', '<Nested><FromUserName>inner</FromUserName></Nested></xml>'),
  (x) => x.replace('</xml>', `${'<a>'.repeat(200)}${'</a>'.repeat(200)}</xml>`),
  (x) => x.replace('</xml>', `${'<Extra>1</Extra>'.repeat(3_000)}</xml>`),
  (x) => x.replace(/<FromUserName>/, '<w:FromUserName>').replace(/<\/FromUserName>/, '</w:FromUserName>'),
  (x) => x.replace(/\]\]>/, ']]]]><![CDATA[>'),
  (x) => x.replace(/<\/xml>$/, ''),
  (x) => x.replace(/<\/[A-Za-z]+>/, ''),
  (x) => x.toUpperCase(),
  (x) => `\ufeff${x}`,
  (x) => `   \n\t${x}\n  `,
  (x) => `<?xml version="1.0" encoding="GBK"?>${x}`,
  () => '',
  () => '   ',
  () => '<xml></xml>',
  () => '<xml/>',
  () => '<xml>text only</xml>',
  () => '{"ToUserName":"gh","FromUserName":"o","CreateTime":1,"MsgType":"text"}',
  () => '<root><ToUserName>a</ToUserName></root>',
  () => '<',
  () => '<xml><a></b></xml>',
];

/** One XML mutation of a WeChat push. */
export function mutateXml(xml: string, rnd: Rng): Buffer {
  const els = elements(xml);
  const el = els.length ? pick(rnd, els) : undefined;
  switch (int(rnd, 10)) {
    case 0:
      return flipBits(Buffer.from(xml, 'utf8'), rnd);
    case 1:
      return truncate(Buffer.from(xml, 'utf8'), rnd);
    case 2:
      return insertBytes(Buffer.from(xml, 'utf8'), rnd);
    case 3: // duplicate an element (same or different value)
      if (!el) break;
      return Buffer.from(
        xml.slice(0, el.end) + (rnd() < 0.5 ? xml.slice(el.start, el.end) : `<${el.name}><![CDATA[other_${int(rnd, 1000)}]]></${el.name}>`) + xml.slice(el.end),
        'utf8',
      );
    case 4: // remove an element
      if (!el) break;
      return Buffer.from(xml.slice(0, el.start) + xml.slice(el.end), 'utf8');
    case 5: // huge value
      if (!el) break;
      return Buffer.from(xml.slice(0, el.start) + `<${el.name}><![CDATA[${hugeString(rnd)}]]></${el.name}>` + xml.slice(el.end), 'utf8');
    case 6: {
      // wrong type / weird value, with or without CDATA
      if (!el) break;
      const v = pick(rnd, WEIRD_VALUES);
      const body = rnd() < 0.5 ? `<![CDATA[${v}]]>` : v.replace(/[<&]/g, '');
      return Buffer.from(xml.slice(0, el.start) + `<${el.name}>${body}</${el.name}>` + xml.slice(el.end), 'utf8');
    }
    case 7:
      return Buffer.from(pick(rnd, XML_TEMPLATES)(xml), 'utf8');
    case 8:
      return randomBytesOf(rnd);
    default: {
      // two operators
      const once = mutateXml(xml, rnd).toString('utf8');
      return mutateXml(once, rnd);
    }
  }
  return flipBits(Buffer.from(xml, 'utf8'), rnd);
}

// ---------------------------------------------------------------------------------------------
// JSON

type Json = unknown;

/** Lone UTF-16 surrogates (a string cut inside a pair) replaced by U+FFFD, so it can be URL-encoded. */
const wellFormed = (s: string) => s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');

/** Nesting depth of JSON arrays and objects (strings skipped), without parsing. */
export function jsonDepth(body: Buffer | string): number {
  const buf = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < buf.length; i++) {
    const ch = buf[i]!;
    if (inString) {
      if (ch === 0x5c) i++;
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x7b || ch === 0x5b) max = Math.max(max, ++depth);
    else if (ch === 0x7d || ch === 0x5d) depth--;
  }
  return max;
}

/**
 * Parses text for a further mutation, or undefined. Deeply nested text is never parsed here:
 * whether a recursive parser overflows the stack depends on the JIT, and the cases must be the
 * same every time the same seed generates them.
 */
function parseForMutation(text: string): Json | undefined {
  if (jsonDepth(text) > 200) return undefined;
  try {
    return parseLossless(text);
  } catch {
    return undefined;
  }
}

function randomValue(rnd: Rng): Json {
  switch (int(rnd, 12)) {
    case 0:
      return null;
    case 1:
      return rnd() < 0.5;
    case 2:
      return pick(rnd, [-1, 0, 1.5, 1e308, -0, 2 ** 53 + 1]);
    case 3:
      return pick(rnd, WEIRD_VALUES);
    case 4:
      return hugeString(rnd);
    case 5:
      return [];
    case 6:
      return {};
    case 7:
      return Array.from({ length: pick(rnd, [3, 500, 20_000]) }, (_, i) => i);
    case 8:
      return { nested: { deeper: [pick(rnd, WEIRD_VALUES)] } };
    case 9:
      return '9'.repeat(pick(rnd, [19, 20, 40, 400]));
    case 10:
      return new Date(int(rnd, 4_000_000_000_000)).toISOString();
    default:
      return pick(rnd, ['2024-11-11 00:01:40', '0001-01-01 00:00:00', '2024-02-30 25:61:61', '1970-01-01 08:00:00']);
  }
}

/** Paths of every value in a JSON tree (object keys and array indexes). */
function paths(v: Json, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...at, i], out));
  else if (v && typeof v === 'object' && !isLosslessNumber(v)) {
    for (const k of Object.keys(v)) paths((v as Record<string, Json>)[k], [...at, k], out);
  }
  if (at.length) out.push(at);
  return out;
}

function parentOf(root: Json, path: (string | number)[]): { parent: Record<string | number, Json>; key: string | number } {
  let cur = root as Record<string | number, Json>;
  for (const p of path.slice(0, -1)) cur = cur[p] as Record<string | number, Json>;
  return { parent: cur, key: path[path.length - 1]! };
}

/** A structural mutation of parsed JSON (lossless, so 19-digit ids stay exact where untouched). */
function mutateTree(root: Json, rnd: Rng): string {
  const all = paths(root);
  if (!all.length) return stringifyLossless(randomValue(rnd)) ?? 'null';
  const path = pick(rnd, all);
  const { parent, key } = parentOf(root, path);
  switch (int(rnd, 5)) {
    case 0: // remove
      if (Array.isArray(parent)) parent.splice(Number(key), 1);
      else delete parent[key];
      break;
    case 1: // wrong type / weird value
      parent[key] = randomValue(rnd);
      break;
    case 2: // prototype keys
      Object.defineProperty(parent, pick(rnd, ['__proto__', 'constructor', 'prototype', 'hasOwnProperty']), {
        value: randomValue(rnd),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      break;
    case 3: // wrap in an array / object
      parent[key] = rnd() < 0.5 ? [parent[key]] : { value: parent[key] };
      break;
    default: {
      // duplicate key with a different value (text level, after stringify)
      const text = stringifyLossless(root) ?? 'null';
      if (typeof key === 'string') {
        const needle = `${JSON.stringify(key)}:`;
        const at = text.indexOf(needle);
        if (at >= 0) return `${text.slice(0, at)}${needle}${stringifyLossless(randomValue(rnd))},${text.slice(at)}`;
      }
      return text;
    }
  }
  return stringifyLossless(root) ?? 'null';
}

const JSON_TEMPLATES: readonly ((x: string) => string)[] = [
  (x) => `${'['.repeat(20_000)}${x}${']'.repeat(20_000)}`,
  (x) => `${'{"a":'.repeat(5_000)}${x}${'}'.repeat(5_000)}`,
  (x) => `${x}${x}`,
  (x) => `[${x},${x}]`,
  (x) => `${x} trailing`,
  (x) => x.replace(/"/g, "'"),
  (x) => x.replace(/:/, ':NaN,"x":'),
  (x) => `\ufeff${x}`,
  (x) => x.replace(/\d{5,}/, (d) => `${d}${'0'.repeat(400)}`),
  (x) => x.replace(/\d{5,}/, (d) => `-${d}.5e3`),
  () => '',
  () => 'null',
  () => '[]',
  () => '{}',
  () => '"string"',
  () => '12345678901234567890',
  () => '<xml><a>1</a></xml>',
  () => '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}',
];

/**
 * One JSON mutation. `inner` names string fields that carry JSON themselves (TMC `content`);
 * `encodedInner` names fields that carry URL-encoded JSON (Youzan `msg`): a mutation may go
 * into them so it reaches the inner parser too.
 */
export function mutateJson(text: string, rnd: Rng, opts: { inner?: string[]; encodedInner?: string[] } = {}): Buffer {
  switch (int(rnd, 9)) {
    case 0:
      return flipBits(Buffer.from(text, 'utf8'), rnd);
    case 1:
      return truncate(Buffer.from(text, 'utf8'), rnd);
    case 2:
      return insertBytes(Buffer.from(text, 'utf8'), rnd);
    case 3:
      return Buffer.from(pick(rnd, JSON_TEMPLATES)(text), 'utf8');
    case 4:
      return randomBytesOf(rnd);
    case 5:
    case 6: {
      const tree = parseLossless(text);
      // Into a nested JSON string when there is one.
      const target = collectNested(tree, opts.inner ?? [], opts.encodedInner ?? []);
      if (target.length && rnd() < 0.7) {
        const { holder, key, encoded } = pick(rnd, target);
        let innerText: string;
        try {
          innerText = encoded ? decodeURIComponent(String(holder[key]).replace(/\+/g, ' ')) : String(holder[key]);
        } catch {
          innerText = String(holder[key]);
        }
        const innerTree = parseForMutation(innerText);
        let mutated = innerTree === undefined ? innerText.slice(0, int(rnd, innerText.length + 1)) : mutateTree(innerTree, rnd);
        if (rnd() < 0.2) mutated = mutated.slice(0, int(rnd, mutated.length + 1));
        holder[key] = encoded ? encodeURIComponent(wellFormed(mutated)) : mutated;
        return Buffer.from(stringifyLossless(tree) ?? 'null', 'utf8');
      }
      return Buffer.from(mutateTree(tree, rnd), 'utf8');
    }
    case 7: {
      const tree = parseLossless(text);
      return Buffer.from(mutateTree(tree, rnd), 'utf8');
    }
    default: {
      const once = mutateJson(text, rnd, opts).toString('utf8');
      return parseForMutation(once) === undefined ? flipBits(Buffer.from(once, 'utf8'), rnd) : mutateJson(once, rnd, opts);
    }
  }
}

function collectNested(tree: Json, plain: string[], encoded: string[]): { holder: Record<string, Json>; key: string; encoded: boolean }[] {
  const out: { holder: Record<string, Json>; key: string; encoded: boolean }[] = [];
  const visit = (v: Json) => {
    if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === 'object' && !isLosslessNumber(v)) {
      for (const [k, x] of Object.entries(v as Record<string, Json>)) {
        if (typeof x === 'string' && (plain.includes(k) || encoded.includes(k))) out.push({ holder: v as Record<string, Json>, key: k, encoded: encoded.includes(k) });
        else visit(x);
      }
    }
  };
  visit(tree);
  return out;
}
