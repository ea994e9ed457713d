/**
 * WeChat push XML: parsing inbound bodies and building passive replies.
 *
 * Parsing rules:
 * - a body containing `<!DOCTYPE` or `<!ENTITY` (any case) is rejected before parsing; entities
 *   are never processed (`&amp;` outside CDATA stays literally `&amp;`);
 * - the body must be well-formed XML with exactly one root element named `xml`;
 * - every value stays a string (64-bit ids such as MsgId / MsgID exceed 2^53); CDATA is
 *   unwrapped and its content kept verbatim; text outside CDATA is trimmed;
 * - the result holds the root's text-valued children; nested elements, attributes and unknown
 *   elements are ignored; a repeated element among the ones the hub reads is ambiguous and
 *   rejected;
 * - except the subscription-event wrappers (`SubscribeMsgPopupEvent`, `SubscribeMsgChangeEvent`,
 *   `SubscribeMsgSentEvent`): their `<List>` children (one or repeated) become a JSON array of
 *   objects of their text fields, kept as that element's string value (at most 20 items).
 * Every rejection is a BadRequestError (400) with code `bad_xml`.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { BadRequestError } from '../../errors.ts';

/** The text-valued children of the `<xml>` root, by element name. */
export type WechatXml = Readonly<Record<string, string>>;

/** Elements whose repetition would make the message ambiguous. */
const SIGNIFICANT = new Set([
  'ToUserName',
  'FromUserName',
  'CreateTime',
  'MsgType',
  'MsgId',
  'MsgID',
  'Event',
  'EventKey',
  'Ticket',
  'Status',
  'Encrypt',
  'Content',
]);

/** Nested wrappers whose repeated `<List>` items the hub reads (subscription-message events). */
export const LIST_WRAPPERS: ReadonlySet<string> = new Set(['SubscribeMsgPopupEvent', 'SubscribeMsgChangeEvent', 'SubscribeMsgSentEvent']);
const MAX_LIST_ITEMS = 20;

/** The wrapper's `<List>` items as objects of their text fields. */
function listItems(value: unknown): Record<string, string>[] {
  if (typeof value !== 'object' || value === null) return [];
  const list = (value as Record<string, unknown>).List;
  const raw = Array.isArray(list) ? list : list === undefined ? [] : [list];
  if (raw.length > MAX_LIST_ITEMS) throw bad(`more than ${MAX_LIST_ITEMS} <List> items`);
  return raw.map((item) => {
    const fields: Record<string, string> = {};
    if (typeof item === 'object' && item !== null) {
      for (const [k, v] of Object.entries(item as Record<string, unknown>)) if (typeof v === 'string') fields[k] = v;
    }
    return fields;
  });
}

const parser = new XMLParser({
  processEntities: false,
  htmlEntities: false,
  parseTagValue: false,
  parseAttributeValue: false,
  ignoreAttributes: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  trimValues: true,
  cdataPropName: false,
  commentPropName: false,
  removeNSPrefix: false,
  maxNestedTags: 16,
});

function bad(message: string): BadRequestError {
  return new BadRequestError(message, undefined, 'bad_xml');
}

/** Parses one WeChat XML body into its top-level string fields. Throws BadRequestError. */
export function parseWechatXml(body: string): WechatXml {
  if (typeof body !== 'string') throw bad('body is not text');
  const text = body.startsWith('\uFEFF') ? body.slice(1) : body;
  if (/<!DOCTYPE/i.test(text) || /<!ENTITY/i.test(text)) {
    throw bad('XML with a DOCTYPE or ENTITY declaration is not accepted');
  }
  const trimmed = text.trim();
  if (!trimmed.startsWith('<')) throw bad('body is not XML');
  const valid = XMLValidator.validate(trimmed);
  if (valid !== true) throw bad(`malformed XML: ${valid.err.msg}`);

  let parsed: unknown;
  try {
    parsed = parser.parse(trimmed);
  } catch (err) {
    throw bad(`malformed XML: ${err instanceof Error ? err.message : 'parse error'}`);
  }
  if (typeof parsed !== 'object' || parsed === null) throw bad('malformed XML');
  const roots = Object.keys(parsed);
  if (roots.length !== 1 || roots[0] !== 'xml') throw bad('XML root element must be a single <xml>');
  const root = (parsed as Record<string, unknown>).xml;
  if (Array.isArray(root)) throw bad('XML root element must be a single <xml>');

  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  if (root === '' || root === undefined || root === null) return out;
  if (typeof root !== 'object') return out; // <xml>text</xml>: no fields
  for (const [name, value] of Object.entries(root as Record<string, unknown>)) {
    if (name.startsWith('#')) continue; // stray text between elements
    if (Array.isArray(value)) {
      if (SIGNIFICANT.has(name)) throw bad(`element <${name}> appears more than once`);
      continue;
    }
    if (typeof value === 'string') out[name] = value;
    else if (LIST_WRAPPERS.has(name)) out[name] = JSON.stringify(listItems(value));
    // other nested elements (objects) are not read by the hub
  }
  return out;
}

/** Wraps a value in CDATA, splitting any `]]>` it contains so the section stays well-formed. */
export function cdata(value: string): string {
  return `<![CDATA[${value.split(']]>').join(']]]]><![CDATA[>')}]]>`;
}

export interface TextReplyInput {
  /** The user's openid (the request's FromUserName). */
  toUser: string;
  /** The account's gh_ id (the request's ToUserName). */
  fromUser: string;
  /** Unix seconds. */
  createTime: number;
  content: string;
}

/** A passive text reply, compact (no whitespace between elements). */
export function buildTextReply(input: TextReplyInput): string {
  return (
    '<xml>' +
    `<ToUserName>${cdata(input.toUser)}</ToUserName>` +
    `<FromUserName>${cdata(input.fromUser)}</FromUserName>` +
    `<CreateTime>${Math.trunc(input.createTime)}</CreateTime>` +
    `<MsgType>${cdata('text')}</MsgType>` +
    `<Content>${cdata(input.content)}</Content>` +
    '</xml>'
  );
}

export interface EncryptedEnvelopeInput {
  encrypt: string;
  msgSignature: string;
  /** Unix seconds, as sent in the signature. */
  timestamp: string;
  nonce: string;
}

/** The safe-mode reply envelope: Encrypt, MsgSignature, TimeStamp, Nonce, one per line. */
export function buildEncryptedEnvelope(input: EncryptedEnvelopeInput): string {
  return [
    '<xml>',
    `<Encrypt>${cdata(input.encrypt)}</Encrypt>`,
    `<MsgSignature>${cdata(input.msgSignature)}</MsgSignature>`,
    `<TimeStamp>${input.timestamp}</TimeStamp>`,
    `<Nonce>${cdata(input.nonce)}</Nonce>`,
    '</xml>',
  ].join('\n');
}
