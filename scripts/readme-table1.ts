/**
 * Prints the README's Table 1 block: our validation F1 and F2_CIW at the natural proportion next to the paper's,
 * from the finished runs of the SSL grid at a scale (the same rows notebook 03 tabulates).
 *
 *   npx tsx scripts/readme-table1.ts --scale default [--results DIR] [--metrics f1,f2Ciw] [--claims]
 *
 * `--claims` adds notebook 03's table of the paper's claims, and over seeds where the runs have several.
 */
import { sslStudyConfigs } from '../lib/experiments/selection';
import { projectPaths } from '../lib/runs/paths';
import type { ScaleName } from '../lib/runs/scale';
import * as aq from 'arquero';
import { paperVsOurs, toMarkdown, wideTable } from '../lib/report/tables';
import * as study from '../lib/report/study';
import { seededFindings, seededFindingsTable } from '../lib/report/claims';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const scale = option('scale', 'default') as ScaleName;
const resultsDir = option('results', projectPaths().results);
const metrics = option('metrics', 'f1,f2Ciw').split(',');
const configs = sslStudyConfigs(scale);
const rows = study.resultRows(resultsDir, configs);
const keys = ['metric', 'method', 'backbone', 'trainProportion'];
const ours = study.table1(rows, metrics);
const comparison = paperVsOurs(
  ours.select(...keys, 'value'),
  study.paperTable('table1').select(...keys, 'value'),
  keys,
);
const runs = new Set(rows.map((r) => r.runId)).size;
console.log(`<!-- ${runs} finished runs of ${configs.length} in ${resultsDir}; made by scripts/readme-table1.ts -->`);
for (const metric of metrics) {
  const records = study.comparisonCells(study.whereEquals(comparison, { metric }), { digits: 2 }).objects() as Array<
    Record<string, unknown>
  >;
  if (records.length === 0) continue;
  const cells = aq.from(
    records.map((r) => ({
      ...r,
      backbone: study.backboneLabel(String(r.backbone)),
      method: study.methodLabel(String(r.method)),
    })),
  );
  console.log(
    `\nValidation ${study.METRIC_LABELS[metric] ?? metric} at the natural proportion (45 %) — ` +
      'ours · paper (difference):\n',
  );
  console.log(
    toMarkdown(
      wideTable(cells, {
        rows: ['backbone', 'method'],
        columns: 'trainProportion',
        value: 'cell',
        columnLabel: (p) => study.percent(Number(p)),
      }),
    ),
  );
}

if (process.argv.includes('--claims')) {
  const paper = study.paperTable('table1').select(...keys, 'value');
  const findings = study.table1Findings(study.table1(rows).select(...keys, 'value'), paper);
  console.log("\nThe paper's Table 1 claims (notebook 03's rules, `table1Findings`):\n");
  console.log(toMarkdown(study.findingsTable(findings)));
  const seeded = seededFindings(rows, paper);
  if (seeded.length > 0)
    console.log(`\nOver seeds (\`seededFindings\`):\n\n${toMarkdown(seededFindingsTable(seeded))}`);
}
