/**
 * The one CSV cell writer of every download (codes.csv, the attribution CSV): RFC 4180 quoting
 * (a field holding a comma, double quote, CR or LF is quoted, inner quotes doubled) and, for
 * text a person or a platform supplied, formula neutralisation: a cell starting with = + - @,
 * a tab or CR gets a leading apostrophe, so a spreadsheet shows it instead of running it
 * (the OWASP guard against CSV injection).
 */

/** One field, quoted per RFC 4180 when needed. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** A text cell, guarded against formula injection, then quoted. */
export function csvText(value: string): string {
  return csvField(/^[=+\-@\t\r]/.test(value) ? `'${value}` : value);
}
