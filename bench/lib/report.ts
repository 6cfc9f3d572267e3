/** The benchmark report: one JSON document, rendered as a Markdown table and an SVG chart. */

export interface Comparison {
  readonly scenario: string;
  readonly metric: string;
  readonly unit: string;
  /** The same measurement against the upstream directly, where that exists. */
  readonly direct?: number;
  readonly proxied: number;
  /** What the issue asks for, in words, e.g. "≥ 0.30 × direct" or "≤ 30 ms". */
  readonly target?: string;
  readonly met?: boolean;
  /** For "higher is better" metrics the ratio is proxied/direct; otherwise direct/proxied. Both ≤ 1 when the proxy costs something. */
  readonly higherIsBetter?: boolean;
}

export interface Report {
  readonly date: string;
  readonly machine: { readonly cpus: number; readonly cpuModel: string; readonly node: string; readonly platform: string };
  readonly rounds: number;
  readonly comparisons: readonly Comparison[];
  /** Small-GET latency percentiles (ms) per path, for the distribution chart. */
  readonly latency: { readonly direct: Readonly<Record<string, number>>; readonly proxied: Readonly<Record<string, number>> };
  readonly notes: readonly string[];
}

/** proxied relative to direct, oriented so that 1 means "as fast as direct". */
export function ratio(c: Comparison): number | undefined {
  if (c.direct === undefined || c.direct === 0 || c.proxied === 0) return undefined;
  return (c.higherIsBetter ?? true) ? c.proxied / c.direct : c.direct / c.proxied;
}

function fmt(n: number | undefined): string {
  if (n === undefined || Number.isNaN(n)) return '–';
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString('en-US');
  if (Math.abs(n) >= 100) return String(Math.round(n));
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toPrecision(3);
}

export function renderMarkdown(r: Report): string {
  const lines = [
    `Benchmark of ${r.date}: ${r.machine.cpus} × ${r.machine.cpuModel}, Node ${r.machine.node}, ${r.machine.platform}; median of ${r.rounds} round(s); load generator, upstream and proxy share the machine.`,
    '',
    '| Scenario | Metric | Baseline | Proxied | Ratio | Target | Met |',
    '|---|---|---:|---:|---:|---|:-:|',
  ];
  for (const c of r.comparisons) {
    const q = ratio(c);
    lines.push(
      `| ${c.scenario} | ${c.metric} (${c.unit}) | ${fmt(c.direct)} | ${fmt(c.proxied)} | ${q === undefined ? '–' : q.toFixed(2)} | ${c.target ?? ''} | ${c.met === undefined ? '' : c.met ? 'yes' : 'no'} |`,
    );
  }
  if (r.notes.length > 0) lines.push('', ...r.notes.map((n) => `- ${n}`));
  return `${lines.join('\n')}\n`;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Two panels: proxied/direct ratios as bars, and the small-GET latency distribution of both paths. */
export function renderSvg(r: Report): string {
  const bars = r.comparisons.map((c) => ({ label: `${c.scenario}: ${c.metric}`, value: ratio(c) })).filter((b): b is { label: string; value: number } => b.value !== undefined);
  const width = 960;
  const barH = 22;
  const left = 330;
  const barsTop = 50;
  const barsHeight = Math.max(1, bars.length) * (barH + 8);
  const maxRatio = Math.max(1.2, ...bars.map((b) => b.value));
  const scaleX = (v: number) => left + (v / maxRatio) * (width - left - 60);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${barsTop + barsHeight + 360}" font-family="sans-serif" font-size="12">`);
  out.push('<rect width="100%" height="100%" fill="white"/>');
  out.push(`<text x="10" y="24" font-size="16" font-weight="bold">kube-oidc-proxy vs direct (${esc(r.date)}, ${r.machine.cpus} CPUs, Node ${esc(r.machine.node)}): 1.0 = as fast as direct</text>`);
  bars.forEach((b, i) => {
    const y = barsTop + i * (barH + 8);
    out.push(`<text x="${left - 8}" y="${y + 15}" text-anchor="end">${esc(b.label)}</text>`);
    out.push(`<rect x="${left}" y="${y}" width="${Math.max(1, scaleX(b.value) - left)}" height="${barH}" fill="${b.value >= 0.7 ? '#2e7d32' : b.value >= 0.3 ? '#f9a825' : '#c62828'}"/>`);
    out.push(`<text x="${scaleX(b.value) + 4}" y="${y + 15}">${b.value.toFixed(2)}</text>`);
  });
  out.push(`<line x1="${scaleX(1)}" y1="${barsTop - 6}" x2="${scaleX(1)}" y2="${barsTop + barsHeight}" stroke="#555" stroke-dasharray="4 3"/>`);

  // Latency distribution: percentile on x (log-odds spacing), latency on y.
  const top = barsTop + barsHeight + 40;
  const h = 260;
  const ps = [...new Set([...Object.keys(r.latency.direct), ...Object.keys(r.latency.proxied)])].map(Number).sort((a, b) => a - b);
  const maxMs = Math.max(1, ...Object.values(r.latency.direct), ...Object.values(r.latency.proxied));
  const px = (i: number) => left + (ps.length <= 1 ? 0 : (i / (ps.length - 1)) * (width - left - 60));
  const py = (ms: number) => top + h - (ms / maxMs) * h;
  out.push(`<text x="10" y="${top - 12}" font-size="14" font-weight="bold">Small GET latency at 64 connections (ms) by percentile</text>`);
  out.push(`<line x1="${left}" y1="${top + h}" x2="${width - 60}" y2="${top + h}" stroke="#555"/><line x1="${left}" y1="${top}" x2="${left}" y2="${top + h}" stroke="#555"/>`);
  out.push(`<text x="${left - 8}" y="${top + 4}" text-anchor="end">${fmt(maxMs)} ms</text><text x="${left - 8}" y="${top + h}" text-anchor="end">0</text>`);
  ps.forEach((p, i) => out.push(`<text x="${px(i)}" y="${top + h + 16}" text-anchor="middle">p${p}</text>`));
  for (const [name, series, color] of [['direct', r.latency.direct, '#1565c0'], ['proxied', r.latency.proxied, '#c62828']] as const) {
    const pts = ps.map((p, i) => (series[String(p)] === undefined ? undefined : `${px(i)},${py(series[String(p)]!)}`)).filter(Boolean);
    if (pts.length > 0) out.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.join(' ')}"/>`);
    out.push(`<text x="${width - 160}" y="${top + (name === 'direct' ? 10 : 28)}" fill="${color}">■ ${name}</text>`);
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
