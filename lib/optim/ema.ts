/**
 * Exponential moving average of a teacher's parameters towards the student's (BYOL, DINO):
 * θ_teacher ← τ·θ_teacher + (1 − τ)·θ_student. Parameters only: pass namedParameters(), never buffers
 * (BatchNorm running statistics are not averaged, as in the paper's code).
 *
 * @example
 *   emaUpdate(teacher.namedParameters(), student.namedParameters(), emaTau(step, totalSteps));
 */
import * as tf from '@tensorflow/tfjs';
import { axpby } from '../backend/kernels/axpby';
import type { NamedParam } from '../nn/module';

export function emaUpdate(teacher: NamedParam[], student: NamedParam[], tau: number): void {
  if (teacher.length !== student.length) {
    throw new Error(`emaUpdate: teacher has ${teacher.length} parameters, student has ${student.length}`);
  }
  if (!(tau >= 0 && tau <= 1)) throw new Error(`emaUpdate: tau must be in [0, 1], got ${tau}`);
  teacher.forEach((t, i) => {
    const s = student[i];
    if (t.name !== s.name)
      throw new Error(`emaUpdate: parameter ${i} is '${t.name}' in the teacher but '${s.name}' in the student`);
    const ts = t.variable.shape;
    const ss = s.variable.shape;
    if (ts.length !== ss.length || ts.some((d, j) => d !== ss[j])) {
      throw new Error(
        `emaUpdate: '${t.name}' has shape [${ts.join(', ')}] in the teacher, [${ss.join(', ')}] in the student`,
      );
    }
  });
  tf.tidy(() => {
    for (let i = 0; i < teacher.length; i++) {
      const t = teacher[i].variable;
      t.assign(axpby(tau, t, 1 - tau, student[i].variable));
    }
  });
}

/** Copy the student's parameter values into the teacher (initialisation of momentum copies). */
export function copyParams(teacher: NamedParam[], student: NamedParam[]): void {
  emaUpdate(teacher, student, 0);
}
