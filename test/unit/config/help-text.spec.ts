import { describe, expect, it } from '@jest/globals';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FLAG_DEFINITIONS, FLAG_SECTIONS, type FlagDefinition } from '../../../src/config/flag-definitions.js';
import { defaultText, packageVersion, renderFlagsMarkdown, renderHelp, renderVersion } from '../../../src/config/help-text.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const flags = FLAG_DEFINITIONS as readonly FlagDefinition[];

describe('--help', () => {
  const help = renderHelp();
  const lines = help.split('\n');

  it('opens with the usage line of a binary without arguments', () => {
    expect(lines.slice(1, 4)).toEqual(['', 'Usage:', '  kube-oidc-proxy [flags]']);
  });

  it('prints the sections in jetstack\'s order', () => {
    const headings = lines.filter((line) => line.endsWith(' flags:'));
    expect(headings).toEqual(FLAG_SECTIONS.map((section) => `${section} flags:`));
  });

  it.each(flags.map((flag) => [flag.name, flag] as const))('lists --%s with its shorthand, type, help and default', (_name, flag) => {
    const line = lines.find((l) => new RegExp(`^ {2}(-., |    )--${flag.name}( |$)`).test(l));
    expect(line).toBeDefined();
    if (flag.shorthand) expect(line).toContain(`-${flag.shorthand}, --${flag.name}`);
    expect(line).toContain(flag.help);
    const def = defaultText(flag);
    if (def !== undefined) expect(line!.endsWith(`(default ${def})`)).toBe(true);
    else expect(line).not.toContain('(default');
  });

  it.each([
    ['  -P, --readiness-probe-port int', '(default 8080)'],
    ['      --oidc-signing-algs strings', '(default [RS256])'],
    ['      --log-level string', '(default "info")'],
    ['      --request-timeout string', '(default "0")'],
    ['      --bind-address ip', '(default 0.0.0.0)'],
    ['      --flush-interval duration', '(default 50ms)'],
    ['      --extra-user-headers stringToStringSlice', ''],
    ['      --oidc-required-claim mapStringString', ''],
    ['      --service-account-issuer stringArray', 'never mapped by OIDC claim rules.'],
    ['      --token-passthrough ', ''],
    ['  -v, --v int', ''],
  ])('writes %j like pflag, ending %j', (start, end) => {
    const line = lines.find((l) => l.startsWith(start));
    expect(line).toBeDefined();
    expect(line!.endsWith(end)).toBe(true);
  });

  it('aligns the help text of a section in one column, sorted by flag name like pflag', () => {
    const section = lines.slice(lines.indexOf('OIDC flags:') + 2, lines.indexOf('Secure Serving flags:') - 1);
    const names = section.map((line) => /--([a-z-]+)/.exec(line)![1]!);
    expect(names).toEqual([...names].sort());
    const columns = section.map((line, i) => line.indexOf(flags.find((f) => f.name === names[i])!.help));
    expect(new Set(columns).size).toBe(1);
  });
});

describe('--version', () => {
  it('prints the package version, the Node version and the platform', () => {
    expect(renderVersion('1.2.3')).toBe(`kube-oidc-proxy version: 1.2.3 (node ${process.version}, ${process.platform}/${process.arch})\n`);
  });

  it('adds extra build details inside the parentheses', () => {
    expect(renderVersion('1.2.3', ['commit abc123'])).toBe(
      `kube-oidc-proxy version: 1.2.3 (node ${process.version}, ${process.platform}/${process.arch}, commit abc123)\n`,
    );
  });

  it('defaults to the version in package.json', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(packageVersion()).toBe(pkg.version);
    expect(renderVersion()).toContain(`version: ${pkg.version} (`);
  });
});

describe('docs/flags.md', () => {
  // After changing the flag table, regenerate like `jest -u`: UPDATE_FLAG_DOCS=1 <unit test command>.
  it('is generated from the flag table and up to date', () => {
    const path = join(ROOT, 'docs', 'flags.md');
    if (process.env.UPDATE_FLAG_DOCS === '1') writeFileSync(path, renderFlagsMarkdown());
    expect(readFileSync(path, 'utf8')).toBe(renderFlagsMarkdown());
  });

  it.each(flags.map((flag) => [flag.name]))('documents --%s', (name) => {
    expect(renderFlagsMarkdown()).toContain(`\`--${name}\``);
  });

  it('carries the migration note about the username prefix', () => {
    expect(renderFlagsMarkdown()).toContain('**User names change with the default flags.**');
  });
});
