/**
 * The paper's claims, checked: each claim of §2.2 evaluated by the same rule on the paper's Table 1 and on
 * ours, the sentence that sums them up, Figure 2's reading, and the "ours · paper (diff)" cells of a
 * paper-versus-ours table. The claim text lives here, so notebook prose stays true whatever the numbers are.
 *
 * @example
 *   const findings = table1Findings(table1(rows), paperTable('table1'));
 *   showTable(findingsTable(findings));
 *   tslab.display.markdown(summarizeFindings(findings));
 *   heatmapFindings(heatmapTable(rows, { backbone: 'resnet18', metrics: ['f1', 'f2Ciw'] })).sentence;
 */
import type * as aq from 'arquero';
import { formatMeanCi, meanCi, pairCells, type MeanCi } from '../eval/stats';
import type { ResultRow } from '../runs/store';
import { backboneLabel, methodLabel, percent, sameProportion, signed } from './labels';
import { NATURAL_PROPORTION } from './table1';
import { tableOf } from './tidy';

export interface Finding {
  claim: string;
  paper: string;
  ours: string;
  /** null when our table lacks what the claim needs. */
  agree: boolean | null;
}

type Cell = { metric: string; method: string; backbone: string; trainProportion: number; value: number | null };

function cellsOf(table: aq.ColumnTable): Cell[] {
  return (table.objects() as Array<Record<string, unknown>>).map((r) => ({
    metric: String(r.metric),
    method: String(r.method),
    backbone: String(r.backbone),
    trainProportion: Number(r.trainProportion),
    value: typeof r.value === 'number' && Number.isFinite(r.value) ? r.value : null,
  }));
}

function best(cells: Cell[], filter: (c: Cell) => boolean, direction: 1 | -1 = 1): Cell | null {
  let chosen: Cell | null = null;
  for (const c of cells)
    if (filter(c) && c.value !== null && (chosen === null || direction * (c.value - chosen.value!) > 0)) chosen = c;
  return chosen;
}

function mean(values: number[]): number {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN;
}

/**
 * The paper's Table 1 claims (§2.2), evaluated on the paper's own numbers and on ours with the same rule.
 * Both tables: columns metric, method, backbone, trainProportion, value.
 */
export function table1Findings(ours: aq.ColumnTable, paper: aq.ColumnTable): Finding[] {
  const o = cellsOf(ours).filter((c) => c.metric === 'f1');
  const p = cellsOf(paper).filter((c) => c.metric === 'f1');
  const findings: Finding[] = [];
  const label = (c: Cell | null) => (c ? `${methodLabel(c.method)} (${signed(c.value!, 3)})` : 'n/a');

  // Best SSL method per (backbone, proportion) where both tables have at least two SSL methods.
  const ssl = (c: Cell) => c.method !== 'supervised';
  for (const [backbone, proportion, claim] of [
    ['resnet18', 0.01, 'Best SSL method by F1 at 1 % defects, ResNet-18 (the text names BYOL)'],
    ['resnet18', 0.15, 'Best SSL method by F1 at 15 %, ResNet-18 (the text: SimCLR above 5 %)'],
    ['resnet18', 0.45, 'Best SSL method by F1 at 45 %, ResNet-18 (the text: SimCLR above 5 %)'],
  ] as const) {
    const inCell = (c: Cell) => ssl(c) && c.backbone === backbone && sameProportion(c.trainProportion, proportion);
    const pb = best(p, inCell);
    const ob = best(o, inCell);
    const oursCount = o.filter(inCell).length;
    findings.push({
      claim,
      paper: label(pb),
      ours: oursCount >= 2 ? label(ob) : `${oursCount} SSL method(s) run`,
      agree: oursCount >= 2 && pb && ob ? pb.method === ob.method : null,
    });
  }

  // MAE weakest on ViT-Tiny: in how many proportions is it the worst method?
  const maeWorst = (cells: Cell[]) => {
    const props = [
      ...new Set(cells.filter((c) => c.backbone === 'vit_tiny' && c.method === 'mae').map((c) => c.trainProportion)),
    ];
    const worst = props.filter(
      (pp) =>
        best(cells, (c) => c.backbone === 'vit_tiny' && sameProportion(c.trainProportion, pp), -1)?.method === 'mae',
    );
    return { props: props.length, worst: worst.length };
  };
  const pm = maeWorst(p);
  const om = maeWorst(o);
  findings.push({
    claim: 'MAE is the weakest method (ViT-Tiny, F1)',
    paper: `worst at ${pm.worst} of ${pm.props} proportions`,
    ours: om.props ? `worst at ${om.worst} of ${om.props} proportions` : 'MAE not run',
    agree: om.props ? om.worst * 2 > om.props === pm.worst * 2 > pm.props : null,
  });

  // Backbone: mean F1 difference ResNet-18 − ViT-Tiny over the (method, proportion) cells both backbones have.
  const backboneGap = (cells: Cell[]) => {
    const diffs: number[] = [];
    for (const c of cells.filter((x) => x.backbone === 'resnet18' && x.value !== null)) {
      const v = cells.find(
        (x) =>
          x.backbone === 'vit_tiny' &&
          x.method === c.method &&
          sameProportion(x.trainProportion, c.trainProportion) &&
          x.value !== null,
      );
      if (v) diffs.push(c.value! - v.value!);
    }
    return { gap: mean(diffs), wins: diffs.filter((d) => d > 0).length, n: diffs.length };
  };
  const pg = backboneGap(p);
  const og = backboneGap(o);
  const describeGap = (g: { gap: number; wins: number; n: number }) =>
    g.n
      ? `ResNet-18 − ViT-Tiny = ${signed(g.gap, 3)} on average; ResNet-18 higher in ${g.wins} of ${g.n} cells`
      : 'one backbone only';
  // "Neither consistently outperforms": neither backbone wins every cell.
  const consistent = (g: { wins: number; n: number }) => g.wins === 0 || g.wins === g.n;
  findings.push({
    claim: 'Neither backbone consistently outperforms the other',
    paper: describeGap(pg),
    ours: describeGap(og),
    agree: og.n ? consistent(og) === consistent(pg) : null,
  });

  // Supervised against the best SSL method, per cell.
  const supervisedWins = (cells: Cell[]) => {
    let wins = 0;
    let n = 0;
    for (const s of cells.filter((c) => c.method === 'supervised' && c.value !== null)) {
      const b = best(
        cells,
        (c) => ssl(c) && c.backbone === s.backbone && sameProportion(c.trainProportion, s.trainProportion),
      );
      if (!b) continue;
      n++;
      if (s.value! > b.value!) wins++;
    }
    return { wins, n };
  };
  const ps = supervisedWins(p);
  const os = supervisedWins(o);
  findings.push({
    claim: 'The supervised baseline beats the best SSL method',
    paper: `in ${ps.wins} of ${ps.n} cells`,
    ours: os.n ? `in ${os.wins} of ${os.n} cells` : 'no SSL method run',
    agree: os.n ? os.wins * 2 > os.n === ps.wins * 2 > ps.n : null,
  });
  return findings;
}

/** Findings as an arquero table (claim, paper, ours, agree as yes/no/—). */
export function findingsTable(findings: Finding[]): aq.ColumnTable {
  const agree = (f: Finding) => (f.agree === null ? '—' : f.agree ? 'yes' : 'no');
  return tableOf(
    findings.map((f) => ({ ...f, agree: agree(f) })),
    ['claim', 'paper', 'ours', 'agree'],
  );
}

/** One sentence summarising findings: how many claims hold in our runs, and which do not. */
export function summarizeFindings(findings: Finding[]): string {
  const judged = findings.filter((f) => f.agree !== null);
  const agree = judged.filter((f) => f.agree);
  const disagree = judged.filter((f) => !f.agree).map((f) => `“${f.claim}”`);
  const missing = findings.length - judged.length;
  const which = disagree.length ? ` (${disagree.join('; ')})` : '';
  const unjudged = missing ? `; ${missing} cannot be judged from the runs at this scale` : '';
  const counts = `${agree.length} hold in our runs and ${disagree.length} do not`;
  return `Of the paper's ${findings.length} claims checked here, ${counts}${which}${unjudged}.`;
}

/**
 * Figure 2's reading (§2.2): "a clear and consistent decline" of F1 as validation becomes imbalanced, while
 * F2_CIW "remains relatively stable". Measured per heatmap row: F1 at the lowest evaluation proportion below
 * F1 at the highest, and the mean range (max − min) of each metric across evaluation proportions.
 */
export function heatmapFindings(table: aq.ColumnTable): {
  f1Declines: { rows: number; declining: number };
  meanRange: Record<string, number>;
  sentence: string;
} {
  const records = table.objects() as Array<{ metric: string; row: string; evalProportion: number; value: number }>;
  const byRow = new Map<string, Array<{ evalProportion: number; value: number }>>();
  for (const r of records) {
    const key = `${r.metric}|${r.row}`;
    byRow.set(key, [...(byRow.get(key) ?? []), r]);
  }
  let rows = 0;
  let declining = 0;
  const ranges: Record<string, number[]> = {};
  for (const [key, cells] of byRow) {
    const metric = key.split('|')[0];
    const values = cells.map((c) => c.value);
    (ranges[metric] ??= []).push(Math.max(...values) - Math.min(...values));
    if (metric !== 'f1' || cells.length < 2) continue;
    const sorted = [...cells].sort((a, b) => a.evalProportion - b.evalProportion);
    rows++;
    if (sorted[0].value < sorted[sorted.length - 1].value) declining++;
  }
  const meanRange = Object.fromEntries(Object.entries(ranges).map(([m, v]) => [m, mean(v)]));
  const parts = [
    `F1 is lower on the most imbalanced validation set than on the natural one in ${declining} of ${rows} rows`,
  ];
  if (meanRange.f1 !== undefined && meanRange.f2Ciw !== undefined) {
    const stabler = meanRange.f2Ciw < meanRange.f1;
    const reading = stabler
      ? 'the more stable of the two, as the paper reports'
      : 'not more stable than F1 here, unlike the paper';
    const moves = `F1 moves by ${signed(meanRange.f1, 3)} on average and F2_CIW by ${signed(meanRange.f2Ciw, 3)}`;
    parts.push(`across validation proportions ${moves}, so F2_CIW is ${reading}`);
  }
  return { f1Declines: { rows, declining }, meanRange, sentence: parts.join('; ') + '.' };
}

/**
 * A paperVsOurs table (ours, paper, diff) with a `cell` text column "ours · paper (diff)" for side-by-side
 * wide tables; rows only the paper has are dropped unless `keepPaperOnly`.
 */
export function comparisonCells(
  comparison: aq.ColumnTable,
  options: { digits?: number; keepPaperOnly?: boolean } = {},
): aq.ColumnTable {
  const digits = options.digits ?? 3;
  const show = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '—');
  const records = (comparison.objects() as Array<Record<string, unknown>>).filter(
    (r) => options.keepPaperOnly || r.ours !== null,
  );
  for (const r of records) {
    const diff = typeof r.diff === 'number' ? ` (${r.diff >= 0 ? '+' : '−'}${Math.abs(r.diff).toFixed(digits)})` : '';
    r.cell = `${show(r.ours)} · ${show(r.paper)}${diff}`;
  }
  return tableOf(records, [...comparison.columnNames(), 'cell']);
}

/** Mean absolute difference and count of the cells both sides have. */
export function comparisonSummary(comparison: aq.ColumnTable): {
  cells: number;
  meanAbsDiff: number;
  oursHigher: number;
} {
  const diffs = (comparison.objects() as Array<Record<string, unknown>>)
    .map((r) => r.diff)
    .filter((d): d is number => typeof d === 'number' && Number.isFinite(d));
  const oursHigher = diffs.filter((d) => d > 0).length;
  return { cells: diffs.length, meanAbsDiff: mean(diffs.map(Math.abs)), oursHigher };
}

/** One finding as a sentence: the claim, the paper's reading, ours, and whether they agree. */
export function findingSentence(finding: Finding, ours: string): string {
  const verdict = finding.agree === null ? ' (not judged at this scale)' : finding.agree ? ' — agrees' : ' — disagrees';
  return `${finding.claim}: paper ${finding.paper}; ${ours} ${finding.ours}${verdict}.`;
}

/** Mean TRAIN precision and recall of an appendix table (ours: `value`; a comparison: `ours`). */
function trainPrecisionRecall(table: aq.ColumnTable): { precision: number; recall: number } {
  const records = table.objects() as Array<{ split: string; metric: string; value?: number; ours?: number }>;
  const values = (metric: string) =>
    records
      .filter((x) => x.split === 'train' && x.metric === metric)
      .map((x) => x.value ?? x.ours)
      .filter((v): v is number => typeof v === 'number');
  const meanOr0 = (a: number[]) => a.reduce((s, v) => s + v, 0) / Math.max(1, a.length);
  return { precision: meanOr0(values('precision')), recall: meanOr0(values('recall')) };
}

/**
 * Tables 3/4's reading: does TRAIN recall exceed TRAIN precision (the probe over-predicts defects on its own
 * imbalanced subset), in ours and in the paper? One bullet per table with finished runs.
 */
export function trainRecallReading(
  tables: Array<{ name: string; ours: aq.ColumnTable; paper: aq.ColumnTable }>,
): string {
  const lines: string[] = [];
  for (const { name, ours: oursTable, paper: paperTable } of tables) {
    const ours = trainPrecisionRecall(oursTable);
    const paper = trainPrecisionRecall(paperTable);
    if (Number.isNaN(ours.precision) || (ours.precision === 0 && ours.recall === 0)) continue;
    const exceeds = (r: { precision: number; recall: number }) =>
      r.recall > r.precision ? 'exceeds' : 'does not exceed';
    lines.push(
      `- ${name}: mean TRAIN precision ${ours.precision.toFixed(3)} vs recall ${ours.recall.toFixed(3)} ` +
        `(paper: ${paper.precision.toFixed(3)} vs ${paper.recall.toFixed(3)}); ` +
        `recall ${exceeds(ours)} precision in ours, ${exceeds(paper)} it in the paper.`,
    );
  }
  return lines.join('\n') || '*No finished runs to read.*';
}

/**
 * The claims that compare methods at one training share, judged over seeds where the scale runs several
 * (`SEED_PLANS`): the best SSL method by mean validation F1 with its 95 % t-interval, its paired difference to
 * the runner-up (the same seed, only the method differs), and supervised minus that best SSL method. A
 * difference whose interval contains zero is a tie at this number of seeds, whatever the means say.
 */
export interface SeededFinding extends Finding {
  /** Seeds behind our side of the claim. */
  seeds: number;
  /** Our difference (best − runner-up, or supervised − best SSL) with its 95 % interval. */
  difference: string;
  /** Whether that interval excludes zero. */
  clear: boolean;
}

export function seededFindings(rows: ResultRow[], paper: aq.ColumnTable): SeededFinding[] {
  const f1 = rows.filter(
    (r) => r.split === 'val' && r.metric === 'f1' && sameProportion(r.evalProportion, NATURAL_PROPORTION),
  );
  const paperCells = cellsOf(paper).filter((c) => c.metric === 'f1');
  const out: SeededFinding[] = [];
  const cells = [...new Set(f1.map((r) => `${r.backbone}|${r.trainProportion}`))].sort();
  for (const cell of cells) {
    const [backbone, share] = [cell.split('|')[0], Number(cell.split('|')[1])];
    const here = f1.filter((r) => r.backbone === backbone && r.trainProportion === share);
    const bySeed = (method: string) => new Map(here.filter((r) => r.method === method).map((r) => [r.seed, r.value]));
    const methods = [...new Set(here.map((r) => r.method))];
    const seeds = Math.min(...methods.map((m) => bySeed(m).size));
    if (seeds < 2) continue;
    const summaries = methods.map((m) => ({ method: m, ci: meanCi([...bySeed(m).values()]) }));
    const ssl = summaries.filter((s) => s.method !== 'supervised').sort((a, b) => b.ci.mean - a.ci.mean);
    const supervised = summaries.find((s) => s.method === 'supervised');
    const paired = (a: string, b: string) => {
      const cells = pairCells(
        here.filter((r) => r.method === a),
        here.filter((r) => r.method === b),
        ['seed'],
        'value',
      );
      return meanCi(cells.a.map((v, i) => v - cells.b[i]));
    };
    const where = `${percent(share)} defects, ${backboneLabel(backbone)}`;
    const inPaper = (c: Cell) => c.backbone === backbone && sameProportion(c.trainProportion, share);
    const paperBest = best(paperCells, (c) => inPaper(c) && c.method !== 'supervised');
    const paperSupervised = paperCells.find((c) => inPaper(c) && c.method === 'supervised');
    const label = (s: { method: string; ci: MeanCi }) => `${methodLabel(s.method)} (${formatMeanCi(s.ci)})`;
    const interval = (ci: MeanCi) => `${signed(ci.mean, 3)} [${signed(ci.low, 3)}, ${signed(ci.high, 3)}]`;
    if (ssl.length >= 2) {
      const gap = paired(ssl[0].method, ssl[1].method);
      out.push({
        claim: `Best SSL method by F1 at ${where}`,
        paper: paperBest ? `${methodLabel(paperBest.method)} (${paperBest.value!.toFixed(3)})` : 'n/a',
        ours: `${label(ssl[0])}, then ${label(ssl[1])}`,
        agree: paperBest ? paperBest.method === ssl[0].method : null,
        seeds,
        difference: `${methodLabel(ssl[0].method)} − ${methodLabel(ssl[1].method)} ${interval(gap)}`,
        clear: gap.low > 0,
      });
    }
    if (supervised && ssl.length && paperSupervised && paperBest) {
      const gap = paired('supervised', ssl[0].method);
      const paperGap = paperSupervised.value! - paperBest.value!;
      out.push({
        claim: `The supervised baseline beats the best SSL method at ${where}`,
        paper: `by ${signed(paperGap, 3)} F1`,
        ours: `by ${signed(gap.mean, 3)} F1 (${label(supervised)} vs ${label(ssl[0])})`,
        agree: gap.mean > 0 === paperGap > 0,
        seeds,
        difference: `Supervised − ${methodLabel(ssl[0].method)} ${interval(gap)}`,
        clear: gap.low > 0 || gap.high < 0,
      });
    }
  }
  return out;
}

/** Seeded findings as a table (claim, paper, ours, agree, seeds, difference, clear). */
export function seededFindingsTable(findings: SeededFinding[]): aq.ColumnTable {
  const yesNo = (v: boolean | null) => (v === null ? '—' : v ? 'yes' : 'no');
  return tableOf(
    findings.map((f) => ({ ...f, agree: yesNo(f.agree), clear: f.clear ? 'interval excludes 0' : 'tie' })),
    ['claim', 'paper', 'ours', 'agree', 'seeds', 'difference', 'clear'],
  );
}
