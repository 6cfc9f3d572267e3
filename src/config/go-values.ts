/**
 * The Go value syntaxes pflag accepts, reimplemented so a command line that worked with the Go binary
 * means the same thing here: strconv.ParseBool, strconv.ParseInt(s, 0, 64), time.ParseDuration and one
 * encoding/csv record (how pflag splits string slices). Error texts are Go's. Also how Go prints a string set
 * in a message, so validation texts copied from kube-apiserver list values as it does.
 */

export type GoParse<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

const ok = <T>(value: T): GoParse<T> => ({ ok: true, value });
const fail = <T>(error: string): GoParse<T> => ({ ok: false, error });

/** strconv.ParseBool */
export function parseGoBool(text: string): GoParse<boolean> {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return ok(true);
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return ok(false);
  return fail(`strconv.ParseBool: parsing ${JSON.stringify(text)}: invalid syntax`);
}

const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);

/** Go's underscoreOK: underscores only between digits (or right after a base prefix), with base 0 only. */
function underscoresOk(digits: string, hasPrefix: boolean): boolean {
  if (!digits.includes('_')) return true;
  if (digits.startsWith('_') && !hasPrefix) return false;
  return !digits.endsWith('_') && !digits.includes('__');
}

/** strconv.ParseInt(text, 0, 64): sign, then 0x/0o/0b/leading-0 base prefixes and `_` separators. */
export function parseGoInt(text: string): GoParse<number> {
  const syntax = fail<number>(`strconv.ParseInt: parsing ${JSON.stringify(text)}: invalid syntax`);
  const sign = text.startsWith('-') ? -1n : 1n;
  const unsigned = text.startsWith('-') || text.startsWith('+') ? text.slice(1) : text;
  const prefixed = /^0([xXoObB])(.*)$/.exec(unsigned);
  let base = 10;
  let digits = unsigned;
  if (prefixed) {
    base = { x: 16, o: 8, b: 2 }[prefixed[1]!.toLowerCase() as 'x' | 'o' | 'b'];
    digits = prefixed[2]!;
  } else if (unsigned.length > 1 && unsigned.startsWith('0')) {
    base = 8;
    digits = unsigned.slice(1);
  }
  if (!underscoresOk(digits, prefixed !== null || base === 8)) return syntax;
  digits = digits.replaceAll('_', '');
  const alphabet = '0123456789abcdef'.slice(0, base);
  if (digits === '' || [...digits.toLowerCase()].some((c) => !alphabet.includes(c))) return syntax;
  let value = 0n;
  for (const c of digits.toLowerCase()) value = value * BigInt(base) + BigInt(alphabet.indexOf(c));
  value *= sign;
  if (value > INT64_MAX || value < INT64_MIN) return fail(`strconv.ParseInt: parsing ${JSON.stringify(text)}: value out of range`);
  return ok(Number(value));
}

/**
 * strconv.ParseFloat(s, 32) for decimal text, as pflag's float32 flags (kube-apiserver's throttle QPS): a
 * sign, digits with an optional fraction and exponent, or inf/nan spellings, which a rate cannot use and are refused.
 */
export function parseGoFloat32(text: string): GoParse<number> {
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(text)) return fail(`strconv.ParseFloat: parsing ${JSON.stringify(text)}: invalid syntax`);
  const value = Math.fround(Number(text));
  if (!Number.isFinite(value)) return fail(`strconv.ParseFloat: parsing ${JSON.stringify(text)}: value out of range`);
  return ok(value);
}

/** Nanoseconds per unit; both micro signs are accepted, as in Go. */
const DURATION_UNITS: Readonly<Record<string, number>> = {
  ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9,
};
const MAX_DURATION_NS = 2 ** 63 - 1;

/** time.ParseDuration, in milliseconds (sub-millisecond values stay fractional). */
export function parseGoDuration(text: string): GoParse<number> {
  const invalid = fail<number>(`time: invalid duration ${JSON.stringify(text)}`);
  let rest = text;
  let negative = false;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    negative = rest.startsWith('-');
    rest = rest.slice(1);
  }
  if (rest === '0') return ok(0);
  if (rest === '') return invalid;
  let totalNs = 0;
  while (rest !== '') {
    const number = /^(\d*)(?:\.(\d*))?/.exec(rest)!;
    const [whole, integer = '', fraction] = number;
    if (integer === '' && (fraction === undefined || fraction === '')) return invalid;
    rest = rest.slice(whole.length);
    const unitMatch = /^[^\d.]*/.exec(rest)!;
    const unit = unitMatch[0];
    if (unit === '') return fail(`time: missing unit in duration ${JSON.stringify(text)}`);
    const scale = DURATION_UNITS[unit];
    if (scale === undefined) return fail(`time: unknown unit ${JSON.stringify(unit)} in duration ${JSON.stringify(text)}`);
    rest = rest.slice(unit.length);
    totalNs += Number(`${integer || '0'}.${fraction ?? ''}0`) * scale;
    if (totalNs > MAX_DURATION_NS) return invalid;
  }
  const ms = totalNs / 1e6;
  return ok(negative ? -ms : ms);
}

/**
 * One record of encoding/csv with Go's defaults (comma separator, no lazy quotes, no trimming), which is
 * how pflag reads `a,b,"c,d"`. Like csv.Reader.Read, only the first line is a record.
 */
export function readCsvRecord(text: string): GoParse<string[]> {
  const fields: string[] = [];
  let i = 0;
  const error = (column: number, what: string) => fail<string[]>(`parse error on line 1, column ${column}: ${what}`);
  for (;;) {
    let field = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) return error(i + 1, 'extraneous or missing " in quoted-field');
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += text[i++];
      }
      if (i < text.length && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') return error(i + 1, 'extraneous or missing " in quoted-field');
    } else {
      while (i < text.length && text[i] !== ',' && text[i] !== '\n') {
        if (text[i] === '"') return error(i + 1, 'bare " in non-quoted field');
        field += text[i++];
      }
      if (text[i] === '\n' && field.endsWith('\r')) field = field.slice(0, -1);
    }
    fields.push(field);
    if (text[i] !== ',') return ok(fields);
    i++;
  }
}

/** k8s sets.List: the distinct values sorted as Go compares strings (by UTF-8 bytes, not UTF-16 code units). */
export function goSortedSet(values: Iterable<string>): string[] {
  return [...new Set(values)].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/** fmt's %s / %v of a []string: `[a b c]` (no quotes, space-separated). */
export function formatGoStringSlice(values: readonly string[]): string {
  return `[${values.join(' ')}]`;
}
