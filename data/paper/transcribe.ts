/**
 * Hand transcription of the paper's numeric tables into tidy JSON cells.
 *
 * The rows below were typed from /work/shared/paper/anomaly-detection-in-the-wild.md
 * (markdown converted from the PDF). Each string is one printed row, in the printed
 * column order; '—' marks a dash printed in the paper, '?' a cell whose number is not
 * legible in the converted text. Both become `value: null` with a `note`.
 *
 * Rerun (rewrites data/paper/*.json):  npx tsx data/paper/transcribe.ts
 * test/report/paper.test.ts checks the JSON against the markdown itself.
 */
import * as fs from 'fs';
import * as path from 'path';

import type { PaperCell } from '../../lib/report/paper';

const PROPORTIONS = [0.01, 0.02, 0.05, 0.15, 0.45];

function parseRow(row: string, expected: number, where: string): Array<number | null> {
  const tokens = row.trim().split(/\s+/);
  if (tokens.length !== expected) {
    throw new Error(`${where}: expected ${expected} values, got ${tokens.length} in "${row}"`);
  }
  return tokens.map((token) => (token === '—' || token === '?' ? null : Number(token)));
}

function cell(fields: Partial<PaperCell> & Pick<PaperCell, 'table' | 'metric' | 'method' | 'value'>): PaperCell {
  // Fixed key order so every JSON line reads the same way.
  return {
    table: fields.table,
    metric: fields.metric,
    method: fields.method,
    backbone: fields.backbone ?? null,
    split: fields.split ?? 'val',
    trainProportion: fields.trainProportion ?? null,
    evalProportion: fields.evalProportion ?? null,
    resolution: fields.resolution ?? null,
    value: fields.value,
    note: fields.note ?? null,
  };
}

// ---------------------------------------------------------------- Table 1
// Validation (natural val distribution) metrics per train proportion. In the converted
// markdown the four ResNet-18 SSL rows are merged into one cell per column; ResNet-18 has
// no MAE, so they are BYOL, Barlow Twins, DINO, SimCLR (Table 3 prints them separately
// with identical VAL values).
const table1: Record<string, Record<string, Record<string, string>>> = {
  f1: {
    resnet18: {
      supervised: '0.831 0.847 0.865 0.882 0.898',
      byol: '0.764 0.768 0.774 0.783 0.792',
      barlow: '0.768 0.775 0.789 0.796 0.803',
      dino: '0.049 0.032 0.673 0.719 0.727',
      mae: '— — — — —',
      simclr: '0.740 0.778 0.796 0.807 0.814',
    },
    vit_tiny: {
      supervised: '0.768 0.785 0.831 0.858 0.878',
      byol: '0.676 0.738 0.752 0.757 0.730',
      barlow: '0.682 0.738 0.747 0.769 0.772',
      dino: '0.691 0.683 0.553 0.704 0.719',
      mae: '0.513 0.636 0.570 0.575 0.024',
      simclr: '0.762 0.768 0.771 0.778 0.786',
    },
  },
  f2Ciw: {
    resnet18: {
      supervised: '0.838 0.849 0.880 0.904 0.879',
      byol: '0.837 0.844 0.819 0.825 0.785',
      barlow: '0.817 0.805 0.817 0.822 0.780',
      dino: '0.566 0.402 0.712 0.777 0.752',
      mae: '— — — — —',
      simclr: '0.775 0.813 0.826 0.822 0.813',
    },
    vit_tiny: {
      supervised: '0.837 0.812 0.831 0.870 0.881',
      byol: '0.680 0.768 0.760 0.781 0.725',
      barlow: '0.704 0.749 0.786 0.784 0.758',
      dino: '0.733 0.736 0.690 0.724 0.695',
      mae: '0.629 0.640 0.704 0.702 0.009',
      simclr: '0.766 0.795 0.798 0.801 0.788',
    },
  },
  f1Normal: {
    resnet18: {
      supervised: '0.850 0.861 0.879 0.894 0.908',
      byol: '0.758 0.759 0.783 0.789 0.818',
      barlow: '0.782 0.796 0.799 0.807 0.828',
      dino: '0.689 0.686 0.700 0.730 0.763',
      mae: '— — — — —',
      simclr: '0.752 0.793 0.806 0.818 0.836',
    },
    vit_tiny: {
      supervised: '0.774 0.794 0.844 0.869 0.890',
      byol: '0.719 0.757 0.778 0.771 0.781',
      barlow: '0.716 0.760 0.766 0.785 0.806',
      dino: '0.655 0.688 0.419 0.727 0.759',
      mae: '0.471 0.350 0.553 0.389 0.677',
      simclr: '0.782 0.781 0.786 0.785 0.810',
    },
  },
};

function table1Cells(): PaperCell[] {
  const cells: PaperCell[] = [];
  for (const [metric, byBackbone] of Object.entries(table1)) {
    for (const [backbone, byMethod] of Object.entries(byBackbone)) {
      for (const [method, row] of Object.entries(byMethod)) {
        parseRow(row, 5, `table1 ${metric} ${backbone} ${method}`).forEach((value, i) => {
          cells.push(cell({
            table: 'table1', metric, method, backbone, split: 'val', trainProportion: PROPORTIONS[i], value,
            note: value === null ? 'MAE was trained with ViT-Tiny only; the paper prints — or nothing here' : null,
          }));
        });
      }
    }
  }
  return cells;
}

// ---------------------------------------------------------------- Table 2
// Best validation F1 per image size, supervised, no augmentation but resizing. The
// time-per-epoch row is printed once, not per backbone.
const RESOLUTIONS = [64, 128, 224, 384, 512];
const table2 = {
  vit_tiny: '0.866 0.885 0.894 0.897 0.90',
  resnet18: '0.877 0.892 0.901 0.907 0.909',
  timePerEpochMinutes: '28 31 37 52 69',
};

function table2Cells(): PaperCell[] {
  const cells: PaperCell[] = [];
  for (const backbone of ['vit_tiny', 'resnet18'] as const) {
    parseRow(table2[backbone], 5, `table2 ${backbone}`).forEach((value, i) => {
      cells.push(cell({
        table: 'table2', metric: 'f1', method: 'supervised', backbone, split: 'val', resolution: RESOLUTIONS[i], value,
        note: backbone === 'vit_tiny' && RESOLUTIONS[i] === 512 ? 'printed as 0.90 (two decimals only)' : null,
      }));
    });
  }
  parseRow(table2.timePerEpochMinutes, 5, 'table2 time').forEach((value, i) => {
    cells.push(cell({
      table: 'table2', metric: 'timePerEpochMinutes', method: 'supervised', backbone: null, split: 'train',
      resolution: RESOLUTIONS[i], value,
      note: 'one row for both backbones in the paper ("Time/Epoch", minutes, NVIDIA L4)',
    }));
  });
  return cells;
}

// ---------------------------------------------------------------- Tables 3 and 4
// Appendix C.2: TRAIN then VAL columns, each over the 5 train proportions.
const table3: Record<string, Record<string, string>> = {
  precision: {
    supervised: '0.055 0.114 0.282 0.614 0.918 0.834 0.840 0.861 0.877 0.893',
    byol: '0.027 0.053 0.143 0.372 0.782 0.715 0.715 0.747 0.750 0.801',
    barlow: '0.032 0.067 0.167 0.410 0.805 0.749 0.769 0.764 0.772 0.811',
    dino: '0.024 0.043 0.107 0.309 0.719 0.571 0.422 0.664 0.693 0.738',
    simclr: '0.028 0.066 0.168 0.433 0.808 0.715 0.762 0.770 0.786 0.817',
  },
  recall: {
    supervised: '0.893 0.895 0.910 0.928 0.927 0.827 0.854 0.869 0.887 0.903',
    byol: '0.805 0.822 0.807 0.811 0.777 0.820 0.829 0.802 0.820 0.784',
    barlow: '0.771 0.782 0.791 0.802 0.777 0.787 0.781 0.815 0.821 0.796',
    dino: '0.663 0.670 0.669 0.733 0.711 0.026 0.017 0.683 0.747 0.716',
    simclr: '0.748 0.794 0.808 0.808 0.793 0.766 0.795 0.824 0.829 0.812',
  },
  f1: {
    supervised: '0.104 0.202 0.431 0.739 0.922 0.831 0.847 0.865 0.882 0.898',
    byol: '0.052 0.099 0.243 0.510 0.779 0.764 0.768 0.774 0.783 0.792',
    barlow: '0.061 0.123 0.276 0.543 0.791 0.768 0.775 0.789 0.796 0.803',
    dino: '0.046 0.080 0.185 0.434 0.715 0.049 0.032 0.673 0.719 0.727',
    simclr: '0.054 0.123 0.279 0.564 0.800 0.740 0.778 0.796 0.807 0.814',
  },
  f2Ciw: {
    supervised: '0.868 0.877 0.886 0.904 0.900 0.838 0.849 0.880 0.904 0.879',
    byol: '0.836 0.841 0.825 0.831 0.786 0.837 0.844 0.819 0.825 0.785',
    barlow: '0.828 0.822 0.828 0.825 0.788 0.817 0.805 0.817 0.822 0.780',
    dino: '0.757 0.719 0.733 0.761 0.699 0.566 0.402 0.712 0.777 0.752',
    simclr: '0.792 0.821 0.834 0.830 0.807 0.775 0.813 0.826 0.822 0.813',
  },
  f1Normal: {
    supervised: '0.916 0.922 0.933 0.939 0.936 0.850 0.861 0.879 0.894 0.908',
    byol: '0.826 0.821 0.849 0.846 0.821 0.758 0.759 0.783 0.789 0.818',
    barlow: '0.865 0.873 0.879 0.870 0.834 0.782 0.796 0.799 0.807 0.828',
    dino: '0.832 0.812 0.820 0.808 0.769 0.689 0.686 0.700 0.730 0.763',
    simclr: '0.849 0.869 0.878 0.880 0.839 0.752 0.793 0.806 0.818 0.836',
  },
};

const table4: Record<string, Record<string, string>> = {
  precision: {
    supervised: '0.030 0.065 0.209 0.520 0.879 0.735 0.757 0.816 0.842 0.873',
    byol: '0.024 0.055 0.152 0.356 0.755 0.687 0.723 0.751 0.737 0.770',
    barlow: '0.024 0.058 0.136 0.375 0.780 0.681 0.729 0.733 0.753 0.792',
    dino: '0.018 0.041 0.052 0.307 0.714 0.625 0.651 0.474 0.692 0.734',
    mae: '0.010 0.022 0.063 0.154 0.223 0.469 0.503 0.530 0.479 0.232',
    simclr: '0.033 0.063 0.155 0.373 0.776 0.752 0.746 0.753 0.747 0.788',
  },
  recall: {
    supervised: '0.807 0.808 0.855 0.880 0.890 0.804 0.816 0.847 0.875 0.882',
    byol: '0.657 0.746 0.749 0.770 0.690 0.666 0.753 0.752 0.777 0.694',
    barlow: '0.677 0.731 0.754 0.779 0.744 0.682 0.748 0.762 0.787 0.752',
    dino: '0.679 0.710 0.674 0.715 0.695 0.773 0.719 0.662 0.717 0.703',
    mae: '0.496 0.500 0.588 0.705 0.013 0.567 0.864 0.617 0.719 0.013',
    simclr: '0.761 0.783 0.788 0.805 0.776 0.772 0.792 0.790 0.812 0.784',
  },
  f1: {
    supervised: '0.059 0.120 0.335 0.654 0.884 0.768 0.785 0.831 0.858 0.878',
    byol: '0.046 0.102 0.252 0.487 0.721 0.676 0.738 0.752 0.757 0.730',
    barlow: '0.046 0.107 0.231 0.506 0.762 0.682 0.738 0.747 0.769 0.772',
    dino: '0.035 0.077 0.096 0.430 0.704 0.691 0.683 0.553 0.704 0.719',
    mae: '0.020 0.043 0.114 0.253 0.025 0.513 0.636 0.570 0.575 0.024',
    simclr: '0.062 0.116 0.259 0.509 0.776 0.762 0.768 0.771 0.778 0.786',
  },
  f2Ciw: {
    supervised: '0.824 0.825 0.848 0.869 0.868 0.837 0.812 0.831 0.870 0.881',
    byol: '0.711 0.773 0.776 0.789 0.726 0.680 0.768 0.760 0.781 0.725',
    barlow: '0.708 0.759 0.787 0.804 0.760 0.704 0.749 0.786 0.784 0.758',
    dino: '0.722 0.744 0.715 0.729 0.680 0.733 0.736 0.690 0.724 0.695',
    mae: '0.624 0.394 0.711 0.683 0.014 0.629 0.640 0.704 0.702 0.009',
    simclr: '0.792 0.809 0.807 0.815 0.785 0.766 0.795 0.798 0.801 0.788',
  },
  f1Normal: {
    supervised: '0.849 0.862 0.903 0.912 0.904 0.774 0.794 0.844 0.869 0.890',
    byol: '0.839 0.847 0.869 0.840 0.789 0.719 0.757 0.778 0.771 0.781',
    barlow: '0.834 0.858 0.850 0.851 0.813 0.716 0.760 0.766 0.785 0.806',
    dino: '0.785 0.791 0.507 0.810 0.764 0.655 0.688 0.419 0.727 0.759',
    mae: '0.615 0.709 0.692 0.461 0.695 0.471 0.350 0.553 0.389 0.677',
    simclr: '0.869 0.862 0.867 0.847 0.816 0.782 0.781 0.786 0.785 0.810',
  },
};

function appendixCells(name: PaperCell['table'], backbone: string, rows: Record<string, Record<string, string>>): PaperCell[] {
  const cells: PaperCell[] = [];
  for (const [metric, byMethod] of Object.entries(rows)) {
    for (const [method, row] of Object.entries(byMethod)) {
      parseRow(row, 10, `${name} ${metric} ${method}`).forEach((value, i) => {
        cells.push(cell({
          table: name, metric, method, backbone, split: i < 5 ? 'train' : 'val', trainProportion: PROPORTIONS[i % 5], value,
        }));
      });
    }
  }
  return cells;
}

// ---------------------------------------------------------------- Figure 2
// ResNet-18 heatmaps, printed in percent; rows = method × train proportion, columns =
// validation proportion. The converted text holds three row groups, labelled MAE, SimCLR
// and Sup.; they are kept as labelled (see the README for why "MAE" is suspicious).
const figure2: Record<string, Record<string, string[]>> = {
  f1: {
    mae: ['5.2 9.2 20.5 41.4 64.2', '6.0 11.1 23.8 47.2 71.7', '7.1 13.0 27.1 50.5 72.2', '6.6 12.1 25.5 49.8 73.5', '7.4 13.5 27.8 50.9 70.8'],
    simclr: ['5.0 9.6 21.6 46.0 74.3', '6.6 12.5 26.9 52.3 77.3', '7.3 13.7 28.9 54.7 78.5', '8.2 15.2 31.2 57.1 79.4', '9.6 17.5 35.2 60.8 79.9'],
    supervised: ['12.3 21.8 40.5 65.9 83.2', '12.4 21.9 41.2 66.9 84.9', '14.2 24.4 45.0 70.1 86.5', '16.2 27.7 48.6 73.3 88.3', '18.3 30.7 52.2 76.0 89.7'],
  },
  f2Ciw: {
    mae: ['56.1 64.4 64.2 61.8 63.0', '72.0 75.5 74.2 72.9 73.6', '68.7 69.3 71.8 71.0 71.0', '72.8 75.5 75.2 74.4 74.3', '60.0 67.3 67.2 66.7 66.9'],
    simclr: ['75.2 85.2 83.6 83.7 83.6', '69.9 81.5 82.3 81.6 81.6', '73.3 83.5 83.4 82.3 82.2', '73.6 79.5 82.1 81.6 81.0', '71.2 76.0 79.2 79.6 78.7'],
    supervised: ['79.9 80.3 81.9 81.9 81.5', '82.0 83.0 84.8 84.8 85.0', '85.5 85.5 86.4 86.6 86.5', '91.8 88.6 89.8 88.8 88.6', '89.6 85.4 88.4 88.6 88.7'],
  },
  f1Normal: {
    mae: ['86.4 ? 85.6 83.3 73.3', '86.7 86.6 86.2 84.4 76.8', '89.7 89.5 89.1 87.2 78.9', '87.9 87.8 87.4 85.8 78.4', '91.1 90.9 90.3 88.3 79.1'],
    simclr: ['82.3 82.2 81.9 80.7 75.5', '87.5 87.4 87.1 85.8 80.2', '88.8 88.7 88.4 87.2 81.6', '90.3 90.1 89.9 88.6 82.9', '92.4 92.2 91.9 90.6 84.3'],
    supervised: ['93.8 93.7 93.4 92.3 86.8', '93.6 93.6 93.3 92.3 87.8', '94.5 94.4 94.2 93.3 89.1', '95.2 95.1 94.9 94.1 90.5', '95.8 95.7 95.6 94.9 91.6'],
  },
};

function figure2Cells(): PaperCell[] {
  const cells: PaperCell[] = [];
  for (const [metric, byMethod] of Object.entries(figure2)) {
    for (const [method, rows] of Object.entries(byMethod)) {
      rows.forEach((row, r) => {
        parseRow(row, 5, `figure2 ${metric} ${method} row ${r}`).forEach((percent, c) => {
          cells.push(cell({
            table: 'figure2', metric, method, backbone: 'resnet18', split: 'val',
            trainProportion: PROPORTIONS[r], evalProportion: PROPORTIONS[c],
            // Printed in percent with one decimal; stored as a fraction like every other table.
            value: percent === null ? null : Math.round(percent * 10) / 1000,
            note: percent === null ? 'printed as "86." in the converted text: the decimals are not legible' : null,
          }));
        });
      });
    }
  }
  return cells;
}

const outputs: Record<string, { caption: string; cells: PaperCell[] }> = {
  table1: {
    caption: 'Table 1: validation F1, F2_CIW and F1_Normal per method, backbone and train proportion (natural validation distribution).',
    cells: table1Cells(),
  },
  table2: {
    caption: 'Table 2: best validation F1 per image size and backbone (supervised, no augmentation but resizing), and time per epoch.',
    cells: table2Cells(),
  },
  table3: {
    caption: 'Table 3: ResNet-18 TRAIN and VAL precision, recall, F1, F2_CIW, F1_Normal per method and train proportion.',
    cells: appendixCells('table3', 'resnet18', table3),
  },
  table4: {
    caption: 'Table 4: ViT-Tiny TRAIN and VAL precision, recall, F1, F2_CIW, F1_Normal per method and train proportion.',
    cells: appendixCells('table4', 'vit_tiny', table4),
  },
  figure2: {
    caption: 'Figure 2: ResNet-18 validation F1, F2_CIW and F1_Normal heatmaps, train proportion × validation proportion (printed in percent, stored as fractions).',
    cells: figure2Cells(),
  },
};

for (const [name, { caption, cells }] of Object.entries(outputs)) {
  const file = path.join(__dirname, `${name}.json`);
  const body = {
    source: 'Anomaly Detection In The Wild: Can SSL Handle Strong Distribution Imbalances? (transcribed by hand, see data/paper/README.md)',
    caption,
    cells,
  };
  // One cell per line keeps the JSON diffable and readable.
  const text = `{\n  "source": ${JSON.stringify(body.source)},\n  "caption": ${JSON.stringify(caption)},\n  "cells": [\n${cells
    .map((c) => `    ${JSON.stringify(c)}`)
    .join(',\n')}\n  ]\n}\n`;
  fs.writeFileSync(file, text);
  console.log(`${file}: ${cells.length} cells`);
}
