/**
 * `--help`, `--version` and docs/flags.md, all rendered from the one flag table. The help layout is
 * cobra + k8s cliflag.PrintSections (sections in jetstack's order, flags sorted by name, pflag's type
 * names and `(default …)` rules), so it reads like the Go binary's.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FLAG_DEFINITIONS, FLAG_SECTIONS, type FlagDefinition, type FlagSection } from './flag-definitions.js';

const PACKAGE_NAME = 'kube-oidc-proxy';

/** The package version, found by walking up from this module: works from src/ (tests) and dist/ (the binary). */
export function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === PACKAGE_NAME && pkg.version) return pkg.version;
    } catch {
      // no package.json here: keep walking up
    }
    const parent = dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
}

function flagsOf(section: FlagSection): FlagDefinition[] {
  return (FLAG_DEFINITIONS as readonly FlagDefinition[])
    .filter((flag) => flag.section === section)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** pflag's UnquoteUsage type names. */
function typeName(flag: FlagDefinition): string {
  switch (flag.type) {
    case 'bool':
      return '';
    case 'stringSlice':
      return 'strings';
    case 'string':
    case 'int':
    case 'float32':
    case 'ip':
    case 'duration':
    case 'stringArray':
    case 'stringToStringSlice':
    case 'mapStringString':
      return flag.type;
    default: {
      const unreachable: never = flag.type;
      return unreachable;
    }
  }
}

/** pflag prints a default unless it is the type's zero value; strings are quoted, slices bracketed. */
export function defaultText(flag: FlagDefinition): string | undefined {
  const zero = flag.default === '' || (flag.type === 'bool' && flag.default === 'false') || (['int', 'float32', 'duration'].includes(flag.type) && flag.default === '0');
  if (zero) return undefined;
  if (flag.type === 'string') return JSON.stringify(flag.default);
  if (flag.type === 'stringSlice' || flag.type === 'stringArray') return `[${flag.default}]`;
  return flag.default;
}

export function renderHelp(): string {
  const out = [
    'kube-oidc-proxy is a reverse proxy to authenticate users to Kubernetes API servers with Open ID Connect Authentication.',
    '',
    'Usage:',
    '  kube-oidc-proxy [flags]',
  ];
  for (const section of FLAG_SECTIONS) {
    const rows = flagsOf(section).map((flag) => {
      const names = flag.shorthand ? `  -${flag.shorthand}, --${flag.name}` : `      --${flag.name}`;
      const type = typeName(flag);
      const def = defaultText(flag);
      return { left: type ? `${names} ${type}` : names, usage: `${flag.help}${def === undefined ? '' : ` (default ${def})`}` };
    });
    const width = Math.max(...rows.map((row) => row.left.length));
    out.push('', `${section} flags:`, '');
    for (const row of rows) out.push(`${row.left.padEnd(width)}   ${row.usage}`);
  }
  return `${out.join('\n')}\n`;
}

/** `kube-oidc-proxy version: 0.1.0 (node v24.21.0, linux/x64)`; `extra` items (a commit, say) join the parentheses. */
export function renderVersion(version: string = packageVersion(), extra: readonly string[] = []): string {
  const details = [`node ${process.version}`, `${process.platform}/${process.arch}`, ...extra].join(', ');
  return `kube-oidc-proxy version: ${version} (${details})\n`;
}

/** Differences a user of jetstack/kube-oidc-proxy must know; part of docs/flags.md. */
const MIGRATION_NOTES: readonly string[] = [
  '**User names change with the default flags.** The username prefix follows kube-apiserver\'s rule for its own ' +
    '`--oidc-*` flags: if `--oidc-username-prefix` is unset (or empty) and `--oidc-username-claim` is not `email`, ' +
    'user names are `<issuer-url>#<claim>` (with the default claim `sub`: `https://issuer.example.com#1234`). ' +
    'jetstack/kube-oidc-proxy documented this rule but never applied it: it added no prefix. RBAC bindings written ' +
    'for jetstack\'s bare names stop matching. Keep them with `--oidc-username-prefix=-` (no prefix). ' +
    'The proxy prints a warning at startup while the prefix comes from this default.',
  '**`--oidc-username-prefix=-` means no prefix** (kube-apiserver). jetstack used `-` as a literal prefix (`-alice`).',
  '**`--oidc-issuer-url`, `--oidc-client-id`, `--tls-cert-file` and `--tls-private-key-file` are required**, and ' +
    'every file flag is read at startup: an unreadable file, a CA file without a certificate, or a key that does not ' +
    'match the certificate stops the proxy with every problem listed.',
  '**The issuer URL is checked like kube-apiserver does:** https only, no user name or password, no query, no fragment.',
  '**`--oidc-required-claim` is enforced** (as in jetstack; TremoloSecurity\'s fork ignored it).',
  '**`unable to securely serve on port N (used by readiness probe)`** names the real port; jetstack always printed 8080.',
  '**Arguments are refused.** jetstack (cobra) ignored positional arguments; here any is an error, so a mistyped ' +
    'boolean such as `--disable-impersonation false` cannot pass unnoticed (write `--disable-impersonation=false`). ' +
    'The argument itself is never printed, in case it is a token.',
  '**Unknown flags are errors**, as in jetstack. Single-dash long flags (`-secure-port=443`), which pflag would read ' +
    'as `-s ecure-port=443` (that is `--server`), are refused by name.',
  '**Accepted and ignored, with a warning:** `--cert-dir` (no certificate is ever generated), and the klog flags ' +
    '`--vmodule`, `--log-flush-frequency`, `--logtostderr`, `--alsologtostderr`, `--skip-headers`, `--stderrthreshold`. ' +
    '`-v` is honoured: 4 or more selects debug logs, 8 or more trace logs, unless `--log-level` is given. Logs are JSON on stdout.',
  '**Not accepted (yet):** the `--audit-*` flags, `--tls-sni-cert-key`, ' +
    '`--log-dir`, `--log-file`, `--log-backtrace-at`, and the kubectl flags `--namespace`, `--username`, `--password`.',
  '**`--disable-impersonation` forwards the user\'s own bearer token.** jetstack documented that, but its code deleted ' +
    'the token after OIDC verification and sent an anonymous request. Here the API server receives exactly the ' +
    'OIDC token the client sent, with no impersonation headers, so it must accept that token itself. Client ' +
    '`Impersonate-*` headers are refused with 403 in this mode.',
  '**`--token-passthrough`** sends exactly one `Authorization` upstream (jetstack appended an empty second one), ' +
    'caches TokenReview answers briefly by token hash (accepted 10 s, refused 5 s; jetstack sent one TokenReview per ' +
    'request), and refuses with 401 whenever the TokenReview itself fails.',
  '**`--trusted-proxies`** (new, default none): `X-Forwarded-For` is believed only from these peers. jetstack took ' +
    'the first public address in `X-Forwarded-For` from anyone, so a client could choose its own `Remote-Client-IP`.',
  '**TLS:** `--tls-min-version` accepts `VersionTLS12` (the default) and `VersionTLS13`; TLS 1.0 and 1.1 are refused. ' +
    '`--tls-cipher-suites` takes Go\'s names; the suites Go calls insecure (RC4, 3DES, CBC-SHA256) are refused instead of ' +
    'accepted with a warning. TLS 1.3 suites are always enabled, as in Go.',
  '**`--oidc-signing-algs`** accepts only asymmetric algorithms; `HS256` or `none` is an error ' +
    '(`oidc: unsupported signing alg`). An empty list means RS256, as in go-oidc.',
  '**`--version`** prints `kube-oidc-proxy version: <version> (node <version>, <os>/<arch>)` instead of Go\'s `version.Info{…}`.',
  '**`--shutdown-grace-period`** (new, default 60s) bounds how long requests and streams drain after SIGTERM.',
];

export function renderFlagsMarkdown(): string {
  const out = [
    '# kube-oidc-proxy flags',
    '',
    '<!-- Generated by renderFlagsMarkdown() in src/config/help-text.ts from src/config/flag-definitions.ts.',
    '     Do not edit: a unit test fails when this file and the flag table disagree. -->',
    '',
    'Names, types and defaults match jetstack/kube-oidc-proxy v0.3.0 and kubectl. Durations use Go syntax',
    '(`50ms`, `10s`, `1m30s`). Slice flags take comma-separated values and may be repeated; the first use',
    'replaces the default. A stringArray flag takes one value per use, commas included. A boolean takes a',
    'value only as `--flag=false`.',
  ];
  for (const section of FLAG_SECTIONS) {
    out.push('', `## ${section}`, '', '| Flag | Type | Default | Meaning |', '|---|---|---|---|');
    for (const flag of flagsOf(section)) {
      const name = flag.shorthand ? `\`-${flag.shorthand}\`, \`--${flag.name}\`` : `\`--${flag.name}\``;
      const def = defaultText(flag);
      const meaning = `${flag.secret ? '**Secret:** never printed. ' : ''}${flag.help}`.replaceAll('|', '\\|');
      out.push(`| ${name} | ${flag.type} | ${def === undefined ? '' : `\`${def}\``} | ${meaning} |`);
    }
  }
  out.push('', '## Migrating from jetstack/kube-oidc-proxy', '');
  for (const note of MIGRATION_NOTES) out.push(`- ${note}`);
  return `${out.join('\n')}\n`;
}
