/**
 * Where a run's training starts and how it records its progress: from its checkpoint when it has one (logging a
 * resume and dropping the log records after it), else from step 0 (restarting the log); and saving the
 * checkpoint with the position, at epoch ends and every so many seconds within an epoch.
 *
 * @example
 *   const position = startOrResume(run, parts, { quiet: true, startRecord: () => ({ runId: run.id }) });
 *   const checkpoints = new Checkpoints(run, parts, position);
 *   checkpoints.save({ epoch: 1, batch: 0 });   // position.epoch = 1, position.seconds updated
 */
import type { RunRecord } from '../runs/store';
import type { NamedParam } from '../nn/module';
import type { GroupOptimizer } from '../optim';
import {
  CheckpointUnreadable,
  discardCheckpoint,
  hasCheckpoint,
  loadCheckpoint,
  saveCheckpoint,
  type TrainingPosition,
} from './checkpoint';

/** What a checkpoint holds: the method's and probe's tensors and the optimiser's state. */
export interface CheckpointParts {
  tensors: NamedParam[];
  optimizer: GroupOptimizer;
}

/**
 * The position to train from, after loading the checkpoint into `parts` if there is a readable one; logs `resume`
 * or `start` (the fields of `startRecord`). An unreadable checkpoint is moved aside and the run restarts, saying so.
 */
export function startOrResume(
  run: RunRecord,
  parts: CheckpointParts,
  options: { quiet?: boolean; startRecord: () => Record<string, unknown> },
): TrainingPosition {
  let discarded = false;
  if (hasCheckpoint(run.checkpointDir)) {
    try {
      const position = loadCheckpoint(run.checkpointDir, parts);
      run.truncateLogAfterStep(position.step - 1);
      run.appendLog({ kind: 'resume', step: position.step, epoch: position.epoch, batch: position.batch });
      return position;
    } catch (err) {
      if (!(err instanceof CheckpointUnreadable)) throw err;
      // Torn by a full disk (before writes were checked) or damaged since: restart rather than fail forever.
      const aside = discardCheckpoint(run.checkpointDir);
      const restart = 'treated as absent, the run restarts from step 0';
      const message = `${err.message}; ${restart} (the file was moved to ${aside})`;
      if (!options.quiet) console.error(`[train] ${run.id}: ${message}`);
      run.truncateLogAfterStep(-1);
      run.appendLog({ kind: 'checkpoint-discarded', step: 0, reason: message });
      discarded = true;
    }
  }
  if (!discarded) run.truncateLogAfterStep(-1);
  run.appendLog({ kind: 'start', step: 0, ...options.startRecord() });
  return { epoch: 0, batch: 0, step: 0, seconds: 0, epochSums: {}, epochCount: 0 };
}

/** Saves the checkpoint with `position` (updated in place) and keeps the run's training clock. */
export class Checkpoints {
  private lastSaved = Date.now();
  private clock = Date.now();

  constructor(
    private readonly run: RunRecord,
    private readonly parts: CheckpointParts,
    readonly position: TrainingPosition,
  ) {}

  /** Training seconds so far, this invocation's included. */
  elapsed(): number {
    return this.position.seconds + (Date.now() - this.clock) / 1000;
  }

  /** Whether a mid-epoch checkpoint is due: more than `everySeconds` since the last one (never when undefined). */
  due(everySeconds: number | undefined): boolean {
    return everySeconds !== undefined && Date.now() - this.lastSaved > everySeconds * 1000;
  }

  /** Save with the position moved to `next` (the first batch not yet trained) and mark the run running. */
  save(next: { epoch: number; batch: number }): void {
    Object.assign(this.position, next, { seconds: this.elapsed() });
    this.clock = Date.now();
    saveCheckpoint(this.run.checkpointDir, { ...this.parts, position: this.position });
    const { epoch, step, seconds } = this.position;
    this.run.setStatus({ state: 'running', epoch, step, seconds });
    this.lastSaved = Date.now();
  }
}
