/** `--help`, `--version` and docs/flags.md, all rendered from the one flag table. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FLAG_DEFINITIONS, type FlagDefinition, type FlagSection } from './flag-definitions.js';

const SECTIONS: readonly FlagSection[] = ['Kube-OIDC-Proxy', 'OIDC', 'Secure Serving', 'Client', 'Misc'];

/** The package version; works from src/ (tests) and dist/ (the binary), both two levels below the root. */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

function typeLabel(flag: FlagDefinition): string {
  switch (flag.type) {
    case 'bool':
      return '';
    case 'stringSlice':
      return ' strings';
    case 'stringToStringSlice':
      return ' key=value,...';
    case 'mapStringString':
      return ' key=value';
    default:
      return ` ${flag.type}`;
  }
}

function showsDefault(flag: FlagDefinition): boolean {
  return flag.default !== '' && !(flag.type === 'bool' && flag.default === 'false');
}

export function renderHelp(): string {
  const lines = [
    'kube-oidc-proxy: an OIDC authenticating reverse proxy for the Kubernetes API.',
    '',
    'Usage:',
    '  kube-oidc-proxy [flags]',
  ];
  for (const section of SECTIONS) {
    lines.push('', `${section} flags:`, '');
    for (const flag of FLAG_DEFINITIONS.filter((f) => f.section === section)) {
      const names = flag.shorthand ? `-${flag.shorthand}, --${flag.name}` : `    --${flag.name}`;
      lines.push(`  ${names}${typeLabel(flag)}`);
      lines.push(`        ${flag.help}${showsDefault(flag) ? ` (default ${flag.default})` : ''}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export function renderVersion(): string {
  return `kube-oidc-proxy version: ${packageVersion()} (node ${process.version}, ${process.platform}/${process.arch})\n`;
}

export function renderFlagsMarkdown(): string {
  const out = [
    '# kube-oidc-proxy flags',
    '',
    '<!-- Generated from src/config/flag-definitions.ts by renderFlagsMarkdown(); a unit test keeps it in sync. -->',
    '',
    'Names and defaults match jetstack/kube-oidc-proxy where the flag exists there. Durations use Go syntax',
    '(`50ms`, `10s`, `1m30s`). Repeatable flags may be given several times.',
  ];
  for (const section of SECTIONS) {
    out.push('', `## ${section}`, '', '| Flag | Type | Default | Meaning |', '|---|---|---|---|');
    for (const flag of FLAG_DEFINITIONS.filter((f) => f.section === section)) {
      const name = flag.shorthand ? `\`-${flag.shorthand}\`, \`--${flag.name}\`` : `\`--${flag.name}\``;
      const def = flag.default === '' ? '' : `\`${flag.default}\``;
      out.push(`| ${name} | ${flag.type} | ${def} | ${flag.help.replace(/\|/g, '\\|')} |`);
    }
  }
  return `${out.join('\n')}\n`;
}
