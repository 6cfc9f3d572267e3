/**
 * pflag-compatible command-line parsing into typed values, driven by the flag table:
 * `--flag=value`, `--flag value`, `-P 8080`, `-P=8080`, `-P8080`, `-hv` (grouped shorthands); a bare
 * boolean never consumes the next argument; `--` ends the flags. Repeats follow pflag's Value.Set: scalars
 * keep the last value, slices and maps accumulate (the first occurrence replaces the default).
 *
 * Two deliberate differences from pflag: every problem is collected instead of stopping at the first, and
 * no message contains a value the user typed unless it is a harmless syntax error on a non-secret flag
 * (positional arguments are never echoed: a `--token= $TOKEN` typo would otherwise print the token).
 */
import { isIP } from 'node:net';
import {
  FLAG_DEFINITIONS, type FlagDefinition, flagDisplayName, type FlagName, type FlagNameOfType,
} from './flag-definitions.js';
import { type GoParse, parseGoBool, parseGoDuration, parseGoFloat32, parseGoInt, readCsvRecord } from './go-values.js';

export type KeyValue = readonly [string, string];
export type FlagValue = boolean | number | string | readonly string[] | readonly KeyValue[];

export interface ParsedArgv {
  /** Flags given on the command line (pflag's `Changed`). */
  readonly changed: ReadonlySet<string>;
  readonly errors: readonly string[];
  /** Values of flags marked `secret` that were given, so callers can prove none leaks. */
  readonly secretValues: readonly string[];
  isSet(name: FlagName): boolean;
  bool(name: FlagNameOfType<'bool'>): boolean;
  string(name: FlagNameOfType<'string' | 'ip'>): string;
  int(name: FlagNameOfType<'int'>): number;
  float(name: FlagNameOfType<'float32'>): number;
  /** Milliseconds. */
  duration(name: FlagNameOfType<'duration'>): number;
  strings(name: FlagNameOfType<'stringSlice' | 'stringArray'>): readonly string[];
  /** Key/value pairs in command-line order (mapStringString: one per key, the last value wins). */
  pairs(name: FlagNameOfType<'stringToStringSlice' | 'mapStringString'>): readonly KeyValue[];
  /** Untyped access, for tables other than FLAG_DEFINITIONS. */
  value(name: string): FlagValue | undefined;
}

/**
 * One pflag `Value.Set`: `current` is the flag's value so far and `replacing` is true for the first
 * occurrence (slices and maps then drop their default instead of appending to it).
 */
function setValue(flag: FlagDefinition, text: string, current: FlagValue | undefined, replacing: boolean): GoParse<FlagValue> {
  switch (flag.type) {
    case 'bool':
      return parseGoBool(text);
    case 'string':
      return { ok: true, value: text };
    case 'int':
      return parseGoInt(text);
    case 'float32':
      return parseGoFloat32(text);
    case 'ip': {
      // pflag's ipValue trims spaces before net.ParseIP.
      const ip = text.trim();
      return isIp(ip) ? { ok: true, value: ip } : { ok: false, error: `failed to parse IP: ${JSON.stringify(text)}` };
    }
    case 'duration':
      return parseGoDuration(text);
    case 'stringSlice': {
      const record: GoParse<string[]> = text === '' ? { ok: true, value: [] } : readCsvRecord(text);
      if (!record.ok) return record;
      return { ok: true, value: [...(replacing ? [] : (current as readonly string[])), ...record.value] };
    }
    case 'stringArray':
      // pflag's stringArray: one value per use, never split on commas (kube-apiserver's --service-account-issuer).
      return { ok: true, value: [...(replacing ? [] : (current as readonly string[])), text] };
    case 'stringToStringSlice': {
      // jetstack's pkg/util/flags: one CSV record of k=v, split on every `=`, so exactly one is allowed.
      const before = replacing ? [] : (current as readonly KeyValue[]);
      if (text === '') return { ok: true, value: before };
      const record = readCsvRecord(text);
      if (!record.ok) return record;
      const pairs: KeyValue[] = [];
      for (const pair of record.value) {
        const kv = pair.split('=');
        if (kv.length !== 2) return { ok: false, error: `${pair} must be formatted as key=value` };
        pairs.push([kv[0]!, kv[1]!]);
      }
      return { ok: true, value: [...before, ...pairs] };
    }
    case 'mapStringString': {
      // k8s cliflag.MapStringString with NoSplit: one pair per occurrence, split at the first `=`, trimmed.
      const eq = text.indexOf('=');
      if (eq < 0) return { ok: false, error: 'malformed pair, expect string=string' };
      const key = text.slice(0, eq).trim();
      const map = new Map(replacing ? [] : (current as readonly KeyValue[]));
      map.set(key, text.slice(eq + 1).trim());
      return { ok: true, value: [...map] };
    }
    default: {
      const unreachable: never = flag.type;
      throw new Error(`unknown flag type ${String(unreachable)}`);
    }
  }
}

/** net.ParseIP: dotted IPv4 or IPv6, no zone. */
function isIp(text: string): boolean {
  return isIP(text) !== 0 && !text.includes('%');
}

function defaultValue(flag: FlagDefinition): FlagValue {
  if ((flag.type === 'mapStringString' || flag.type === 'stringArray') && flag.default === '') return [];
  const parsed = setValue(flag, flag.default, undefined, true);
  if (!parsed.ok) throw new Error(`flag table: the default of --${flag.name} does not parse: ${parsed.error}`);
  return parsed.value;
}

/** A flag text cut after its `=`, so an error about the flag never carries its value. */
const withoutValue = (arg: string): string => (arg.includes('=') ? `${arg.slice(0, arg.indexOf('='))}=…` : arg);

export function parseArgv(argv: readonly string[], definitions: readonly FlagDefinition[] = FLAG_DEFINITIONS): ParsedArgv {
  const byName = new Map(definitions.map((f) => [f.name, f]));
  const byShorthand = new Map(definitions.filter((f) => f.shorthand).map((f) => [f.shorthand!, f]));
  const values = new Map<string, FlagValue>(definitions.map((f) => [f.name, defaultValue(f)]));
  const changed = new Set<string>();
  const errors: string[] = [];
  const secretValues: string[] = [];

  const set = (flag: FlagDefinition, text: string): void => {
    if (flag.secret) secretValues.push(text);
    const parsed = setValue(flag, text, values.get(flag.name), !changed.has(flag.name));
    changed.add(flag.name);
    if (parsed.ok) values.set(flag.name, parsed.value);
    else if (flag.secret) errors.push(`invalid argument "[redacted]" for "${flagDisplayName(flag)}" flag: not a valid ${flag.type}`);
    else errors.push(`invalid argument ${JSON.stringify(text)} for "${flagDisplayName(flag)}" flag: ${parsed.error}`);
  };
  /** After an unknown flag, its probable value is skipped rather than reported as a positional argument. */
  const skipProbableValue = (i: number, inline: boolean): number =>
    !inline && i + 1 < argv.length && !argv[i + 1]!.startsWith('-') ? i + 1 : i;

  let previousFlag: FlagDefinition | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const previous = previousFlag;
    previousFlag = undefined;
    if (arg === '--') {
      for (let j = i + 1; j < argv.length; j++) errors.push(positionalError(j, undefined));
      break;
    }
    if (arg.length < 2 || !arg.startsWith('-')) {
      errors.push(positionalError(i, previous));
      continue;
    }

    if (arg.startsWith('--')) {
      const body = arg.slice(2);
      if (body.startsWith('-') || body.startsWith('=')) {
        errors.push(`bad flag syntax: ${withoutValue(arg)}`);
        continue;
      }
      const eq = body.indexOf('=');
      const name = eq >= 0 ? body.slice(0, eq) : body;
      const flag = byName.get(name);
      if (!flag) {
        errors.push(`unknown flag: --${name}`);
        i = skipProbableValue(i, eq >= 0);
        continue;
      }
      if (eq >= 0) set(flag, body.slice(eq + 1));
      else if (flag.type === 'bool') {
        set(flag, 'true');
        previousFlag = flag;
      } else if (i + 1 < argv.length) set(flag, argv[++i]!);
      else errors.push(`flag needs an argument: ${arg}`);
      continue;
    }

    // Single dash. A Go-style long flag (`-secure-port=443`) would be read by pflag as `-s ecure-port=443`:
    // refuse it by name instead of silently setting --server.
    const longName = arg.slice(1).split('=')[0]!;
    if (longName.length > 1 && byName.has(longName)) {
      errors.push(`bad flag syntax: -${longName} (long flags take two dashes: --${longName})`);
      i = skipProbableValue(i, arg.includes('='));
      continue;
    }
    let shorthands = arg.slice(1);
    while (shorthands.length > 0) {
      const c = shorthands[0]!;
      const flag = byShorthand.get(c);
      if (!flag) {
        // pflag prints the rest of the group too; it may be a value (`-tTOKEN`), so it is elided.
        errors.push(`unknown shorthand flag: '${c}' in -${c}${shorthands.length > 1 ? '…' : ''}`);
        if (shorthands.length === 1) i = skipProbableValue(i, false);
        break;
      }
      if (shorthands.length > 2 && shorthands[1] === '=') {
        set(flag, shorthands.slice(2));
        break;
      }
      if (flag.type === 'bool') {
        set(flag, 'true');
        previousFlag = flag;
        shorthands = shorthands.slice(1);
        continue;
      }
      if (shorthands.length > 1) set(flag, shorthands.slice(1));
      else if (i + 1 < argv.length) set(flag, argv[++i]!);
      else errors.push(`flag needs an argument: '${c}' in -${shorthands}`);
      break;
    }
  }

  const typed = <T extends FlagValue>(name: string): T => {
    if (!values.has(name)) throw new Error(`no flag --${name}`);
    return values.get(name) as T;
  };
  return {
    changed,
    errors,
    secretValues,
    isSet: (name) => changed.has(name),
    bool: (name) => typed<boolean>(name),
    string: (name) => typed<string>(name),
    int: (name) => typed<number>(name),
    float: (name) => typed<number>(name),
    duration: (name) => typed<number>(name),
    strings: (name) => typed<readonly string[]>(name),
    pairs: (name) => typed<readonly KeyValue[]>(name),
    value: (name) => values.get(name),
  };
}

/** The binary takes no arguments. The argument itself is not echoed (it may be a mistyped secret). */
function positionalError(index: number, after: FlagDefinition | undefined): string {
  const hint = after
    ? ` (after --${after.name}: a boolean flag takes a value only as --${after.name}=true or --${after.name}=false)`
    : '';
  return `unexpected argument at position ${index + 1}${hint}: kube-oidc-proxy takes no arguments`;
}
