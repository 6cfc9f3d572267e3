/**
 * pflag-compatible command-line parsing: `--flag=value`, `--flag value`, `-P 8080`, `-P=8080`, `-P8080`;
 * a bare boolean never consumes the next argument; `--` ends flags. The binary takes no positional
 * arguments. Values are collected raw (every occurrence, in order); typing happens in config-parser.ts.
 */
import { type FlagDefinition, FLAGS_BY_NAME, FLAGS_BY_SHORTHAND } from './flag-definitions.js';

export interface ParsedArgv {
  /** Every occurrence of each flag, by long name, in command-line order. */
  readonly values: ReadonlyMap<string, readonly string[]>;
  readonly errors: readonly string[];
}

export function parseArgv(argv: readonly string[]): ParsedArgv {
  const values = new Map<string, string[]>();
  const errors: string[] = [];
  const put = (flag: FlagDefinition, value: string): void => {
    const list = values.get(flag.name) ?? [];
    list.push(value);
    values.set(flag.name, list);
  };

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      if (i + 1 < argv.length) errors.push(`unexpected argument "${argv[i + 1]}": kube-oidc-proxy takes no arguments`);
      break;
    }
    let flag: FlagDefinition | undefined;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const body = arg.slice(2);
      const eq = body.indexOf('=');
      const name = eq >= 0 ? body.slice(0, eq) : body;
      inline = eq >= 0 ? body.slice(eq + 1) : undefined;
      flag = FLAGS_BY_NAME.get(name);
      if (!flag) {
        errors.push(`unknown flag: --${name}`);
        continue;
      }
    } else if (arg.startsWith('-') && arg.length > 1) {
      const short = arg[1]!;
      flag = FLAGS_BY_SHORTHAND.get(short);
      if (!flag) {
        errors.push(`unknown shorthand flag: '${short}' in ${arg}`);
        continue;
      }
      const rest = arg.slice(2);
      inline = rest.startsWith('=') ? rest.slice(1) : rest.length > 0 ? rest : undefined;
    } else {
      errors.push(`unexpected argument "${arg}": kube-oidc-proxy takes no arguments`);
      continue;
    }

    if (flag.type === 'bool') {
      put(flag, inline ?? 'true');
    } else if (inline !== undefined) {
      put(flag, inline);
    } else if (i + 1 < argv.length) {
      put(flag, argv[++i]!);
    } else {
      errors.push(`flag needs an argument: --${flag.name}`);
    }
  }
  return { values, errors };
}

const DURATION_UNITS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's time.ParseDuration, in milliseconds. Returns undefined when the text is not a duration. */
export function parseGoDuration(text: string): number | undefined {
  if (text === '0' || text === '+0' || text === '-0') return 0;
  const m = /^([+-]?)((?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))+)$/.exec(text);
  if (!m) return undefined;
  let total = 0;
  for (const part of m[2]!.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g)) total += Number(part[1]) * DURATION_UNITS[part[2]!]!;
  return m[1] === '-' ? -total : total;
}

/** Go's strconv.ParseBool. */
export function parseGoBool(text: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  return undefined;
}
