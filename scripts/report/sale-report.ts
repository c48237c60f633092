import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** What a demo run measured, for the HTML report. */
export interface SaleReportData {
  title: string;
  /** e.g. `3 replicas, 200 connections, ORDER_MODE=sync` */
  setup: string;
  /** Throughput over the run: answers and accepted orders per second, sampled every `stepSeconds`. */
  timeline: { atSeconds: number; answersPerSecond: number; acceptedPerSecond: number }[];
  /** Each answer's latency in ms. */
  latenciesMs: number[];
  /** Answers by `status CODE`. */
  outcomes: [string, number][];
  summary: [string, string][];
  invariants: { check: string; ok: boolean }[];
}

const escape = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** Latency buckets (ms, upper bounds) for the histogram; the last one is open. */
const BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000];

function histogram(latenciesMs: number[]): { labels: string[]; counts: number[] } {
  const counts = new Array<number>(BUCKETS.length + 1).fill(0);
  for (const ms of latenciesMs) {
    const index = BUCKETS.findIndex((bound) => ms <= bound);
    counts[index < 0 ? BUCKETS.length : index]++;
  }
  const labels = [...BUCKETS.map((bound) => `≤ ${bound} ms`), `> ${BUCKETS[BUCKETS.length - 1]} ms`];
  return { labels, counts };
}

/**
 * One self-contained HTML file: Chart.js inlined from its npm package (no network), a throughput
 * chart, a latency histogram, the outcome mix and the invariants table.
 */
export function renderSaleReport(data: SaleReportData): string {
  // The package's main entry lives in dist/, beside the browser (UMD) build.
  const chartJs = readFileSync(join(dirname(require.resolve('chart.js')), 'chart.umd.min.js'), 'utf8');
  const latency = histogram(data.latenciesMs);
  const payload = {
    seconds: data.timeline.map((point) => point.atSeconds.toFixed(2)),
    answers: data.timeline.map((point) => point.answersPerSecond),
    accepted: data.timeline.map((point) => point.acceptedPerSecond),
    latencyLabels: latency.labels,
    latencyCounts: latency.counts,
    outcomeLabels: data.outcomes.map(([label]) => label),
    outcomeCounts: data.outcomes.map(([, count]) => count),
  };
  const allPass = data.invariants.every((invariant) => invariant.ok);
  // `</script>` inside the inlined library would end the tag early; the data has every `<` escaped.
  const safeScript = (code: string) => code.replace(/<\/script/gi, '<\\/script');
  const safeJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escape(data.title)}</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 24px auto; max-width: 1100px; color: #1d2433; }
  h1 { font-size: 22px; margin-bottom: 4px; } .setup { color: #5b6475; margin-top: 0; }
  .grid { display: grid; grid-template-columns: 1fr 1fr; gap: 24px; }
  .card { border: 1px solid #dde2ea; border-radius: 8px; padding: 12px 16px; }
  .wide { grid-column: 1 / span 2; } canvas { width: 100% !important; height: 280px !important; }
  table { border-collapse: collapse; width: 100%; } td, th { padding: 4px 8px; border-bottom: 1px solid #eef1f5; text-align: left; }
  .PASS { color: #0a7a3d; font-weight: 600; } .FAIL { color: #b3261e; font-weight: 600; }
  .verdict { font-size: 18px; }
</style>
</head>
<body>
<h1>${escape(data.title)}</h1>
<p class="setup">${escape(data.setup)}</p>
<p class="verdict" id="verdict">Invariants: <span class="${allPass ? 'PASS' : 'FAIL'}">${allPass ? 'PASS' : 'FAIL'}</span></p>
<div class="grid">
  <div class="card wide"><h2>Throughput over time</h2><canvas id="throughput"></canvas></div>
  <div class="card"><h2>Latency</h2><canvas id="latency"></canvas></div>
  <div class="card"><h2>Outcomes</h2><canvas id="outcomes"></canvas></div>
  <div class="card"><h2>Summary</h2><table>${data.summary
    .map(([name, value]) => `<tr><th>${escape(name)}</th><td>${escape(value)}</td></tr>`)
    .join('')}</table></div>
  <div class="card"><h2>Invariants (read back from MySQL)</h2><table id="invariants">${data.invariants
    .map(
      ({ check, ok }) =>
        `<tr><td class="${ok ? 'PASS' : 'FAIL'}">${ok ? 'PASS' : 'FAIL'}</td><td>${escape(check)}</td></tr>`,
    )
    .join('')}</table></div>
</div>
<script>${safeScript(chartJs)}</script>
<script>
const data = ${safeJson(payload)};
const common = { animation: false, responsive: true, maintainAspectRatio: false };
new Chart(document.getElementById('throughput'), {
  type: 'line',
  data: { labels: data.seconds, datasets: [
    { label: 'answers/s', data: data.answers, borderColor: '#3b6fd8', backgroundColor: '#3b6fd8' },
    { label: 'orders accepted/s', data: data.accepted, borderColor: '#0a7a3d', backgroundColor: '#0a7a3d' },
  ] },
  options: { ...common, scales: { x: { title: { display: true, text: 'seconds into the sale' } }, y: { title: { display: true, text: 'per second' } } } },
});
new Chart(document.getElementById('latency'), {
  type: 'bar',
  data: { labels: data.latencyLabels, datasets: [{ label: 'answers', data: data.latencyCounts, backgroundColor: '#7a5af8' }] },
  options: common,
});
new Chart(document.getElementById('outcomes'), {
  type: 'doughnut',
  data: { labels: data.outcomeLabels, datasets: [{ data: data.outcomeCounts,
    backgroundColor: ['#0a7a3d', '#3b6fd8', '#f59e0b', '#b3261e', '#7a5af8', '#14b8a6', '#64748b', '#ec4899'] }] },
  options: { ...common, scales: { x: { display: false }, y: { display: false } } },
});
document.body.dataset.chartsDrawn = 'true';
</script>
</body>
</html>
`;
}
