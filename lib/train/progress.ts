/**
 * Progress of long work with images/s and ETA: a bar redrawn in place on a terminal, one display updated in place
 * in a tslab notebook (JupyterLab and classic Notebook both apply tslab's update_display_data), and a line every
 * few seconds in logs (CI, SLURM, sweep workers).
 *
 * @example
 *   const progress = createProgress({ label: 'simclr p05', total: 1200, unit: 'img' });
 *   progress.update(64, 'loss 4.12');
 *   progress.done('finished');
 */
export interface Progress {
  /** Advance by `amount` units and show `status` beside the bar. */
  update(amount: number, status?: string): void;
  done(status?: string): void;
}

export interface ProgressOptions {
  label: string;
  total: number;
  unit?: string;
  /** Units already done (a resumed run). */
  start?: number;
  /** Where plain lines go; default stderr. */
  write?: (line: string) => void;
  /** Seconds between plain log lines. */
  everySeconds?: number;
  /** false silences everything (sweep workers that report elsewhere). */
  enabled?: boolean;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

interface TslabDisplay {
  text(s: string): void;
}

/**
 * An updatable display when this process is a tslab kernel, else null. A cell's own `require('tslab')` is
 * hooked by the kernel, but the library's is plain Node resolution, which may find another copy of tslab than
 * the kernel runs (whose display would throw "Not ready"): so use the copy the kernel has loaded, found in
 * the module cache, and nothing in a process that never loaded tslab (the CLI, sweep workers).
 */
function tslabDisplay(): TslabDisplay | null {
  const kernelModule = Object.keys(require.cache).find((file) => /[\\/]tslab[\\/]dist[\\/]jupyter\.js$/.test(file));
  if (!kernelModule) return null;
  try {
    const tslab = require(kernelModule.replace(/jupyter\.js$/, 'public.js')) as { newDisplay(): TslabDisplay };
    return tslab.newDisplay();
  } catch {
    return null;
  }
}

/** Milliseconds between updates of a notebook display. */
const DISPLAY_EVERY_MS = 250;

export function createProgress(options: ProgressOptions): Progress {
  const { label, total, unit = 'img', everySeconds = 10, enabled = process.env.SSLAD_QUIET ? false : true } = options;
  const started = Date.now();
  const startCount = options.start ?? 0;
  let count = startCount;
  let lastLine = 0;
  let finished = false;
  let display = enabled ? tslabDisplay() : null;
  let lastDisplayed = 0;
  const tty = enabled && !display && Boolean(process.stderr.isTTY) && !options.write;
  const write = options.write ?? ((line: string) => process.stderr.write(line + '\n'));

  const render = (status: string): string => {
    const elapsed = (Date.now() - started) / 1000;
    const rate = elapsed > 0 ? (count - startCount) / elapsed : 0;
    const eta = rate > 0 ? (total - count) / rate : NaN;
    const fraction = total > 0 ? Math.min(1, count / total) : 1;
    const width = 24;
    const filled = Math.round(fraction * width);
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    const percent = `${(fraction * 100).toFixed(0).padStart(3)}%`;
    const speed = `${rate.toFixed(1)} ${unit}/s`;
    const etaText = `ETA ${formatDuration(eta)}`;
    const tail = status ? ' · ' + status : '';
    return `${label} ${bar} ${percent} ${count}/${total} ${unit} · ${speed} · ${etaText}${tail}`;
  };

  const show = (status: string, force: boolean): void => {
    if (!enabled) return;
    const line = render(status);
    if (display) {
      // A few updates a second are live enough; every step would flood the kernel's message channel.
      if (!force && Date.now() - lastDisplayed < DISPLAY_EVERY_MS) return;
      try {
        display.text(line);
        lastDisplayed = Date.now();
        return;
      } catch {
        display = null; // not (or no longer) inside a running cell: fall back to lines
      }
    }
    if (tty) process.stderr.write(`\r${line}\x1b[K`);
    else if (force || Date.now() - lastLine >= everySeconds * 1000) {
      write(line);
      lastLine = Date.now();
    }
  };

  return {
    update(amount: number, status = '') {
      count += amount;
      show(status, false);
    },
    done(status = 'done') {
      if (finished) return;
      finished = true;
      show(`${status} in ${formatDuration((Date.now() - started) / 1000)}`, true);
      if (tty) process.stderr.write('\n');
    },
  };
}
