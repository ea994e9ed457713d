/**
 * The channel table as CSV for spreadsheets: UTF-8 with a byte-order mark (so Excel reads
 * Chinese channel names correctly), a header row of the JSON field names, CRLF line ends,
 * RFC 4180 quoting (fields holding a comma, double quote, CR or LF are quoted, inner quotes
 * doubled). `medianHoursToConvert` is empty when nothing converted. `gmvYuan` repeats gmvFen
 * in yuan with 2 decimals for people; gmvFen stays the exact integer.
 *
 * Text fields that a spreadsheet would run as a formula (starting with = + - @ or a tab/CR)
 * get a leading apostrophe (lib/csv.ts, shared with codes.csv).
 */
import type { ChannelRow } from './query.ts';
import type { CohortRow } from './cohort-query.ts';
import { csvText } from '../csv.ts';

export const UTF8_BOM = '\uFEFF';
const EOL = '\r\n';

export const ATTRIBUTION_CSV_COLUMNS = [
  'channel',
  'name',
  'kind',
  'newFans',
  'unfollows',
  'convertedFans',
  'conversionRate',
  'sameDayConversions',
  'medianHoursToConvert',
  'newMembers',
  'scans',
  'qrScans',
  'orders',
  'gmvFen',
  'gmvYuan',
  'newContacts',
  'lostContacts',
] as const;


/** Integer fen as yuan with exactly 2 decimals, without floating-point rounding. */
export function fenToYuan(fen: number): string {
  const n = BigInt(Math.trunc(fen));
  const neg = n < 0n;
  const abs = neg ? -n : n;
  return `${neg ? '-' : ''}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`;
}

const numberCell = (v: number | null): string => (v === null ? '' : String(v));

/**
 * With several WeChat accounts the table carries the account: an `appId` column after the
 * others, the default account's id on its WeChat channels (no appId of their own), empty on
 * channels of no account (code batches, stores, platforms).
 */
export interface CsvAccounts {
  defaultAppId: string;
}

const WECHAT_KINDS = new Set(['wechat_qr', 'unknown']);
const accountOf = (r: ChannelRow, a: CsvAccounts): string => r.appId ?? (WECHAT_KINDS.has(r.kind) || r.channel === 'organic' ? a.defaultAppId : '');

/** The CSV text of the table, BOM first. */
export function attributionCsv(rows: readonly ChannelRow[], accounts?: CsvAccounts): string {
  const lines = [[...ATTRIBUTION_CSV_COLUMNS, ...(accounts ? ['appId'] : [])].join(',')];
  for (const r of rows) {
    lines.push(
      [
        csvText(r.channel),
        csvText(r.name),
        csvText(r.kind),
        numberCell(r.newFans),
        numberCell(r.unfollows),
        numberCell(r.convertedFans),
        numberCell(r.conversionRate),
        numberCell(r.sameDayConversions),
        numberCell(r.medianHoursToConvert),
        numberCell(r.newMembers),
        numberCell(r.scans),
        numberCell(r.qrScans),
        numberCell(r.orders),
        numberCell(r.gmvFen),
        fenToYuan(r.gmvFen),
        numberCell(r.newContacts),
        numberCell(r.lostContacts),
        ...(accounts ? [csvText(accountOf(r, accounts))] : []),
      ].join(','),
    );
  }
  return UTF8_BOM + lines.join(EOL) + EOL;
}

/** A download file name for the range and model. */
export function attributionCsvFilename(from: string, to: string, model: string): string {
  return `attribution_${model}_${from}_${to}.csv`;
}

export const COHORT_CSV_COLUMNS = ['cohort', 'channel', 'acquired', 'members', 'buyers', 'repeatBuyers', 'gmvFen', 'gmvYuan', 'gmvPerAcquiredFen', 'topCustomers', 'topShare', 'mature'] as const;

/** The cohort table (lib/attribution/cohort-query.ts) as CSV, one line per cohort and channel, BOM first. */
export function cohortCsv(rows: readonly CohortRow[]): string {
  const lines = [COHORT_CSV_COLUMNS.join(',')];
  for (const r of rows) {
    lines.push(
      [
        csvText(r.cohort),
        csvText(r.channel),
        numberCell(r.acquired),
        numberCell(r.members),
        numberCell(r.buyers),
        numberCell(r.repeatBuyers),
        numberCell(r.gmvFen),
        fenToYuan(r.gmvFen),
        numberCell(r.gmvPerAcquiredFen),
        numberCell(r.topCustomers),
        numberCell(r.topShare),
        String(r.mature),
      ].join(','),
    );
  }
  return UTF8_BOM + lines.join(EOL) + EOL;
}

/** A download file name for a cohort query. */
export const cohortCsvFilename = (q: { from: string; to: string; granularity: string; horizon: number }): string => `cohorts_${q.granularity}_${q.horizon}d_${q.from}_${q.to}.csv`;
