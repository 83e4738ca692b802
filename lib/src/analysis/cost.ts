/**
 * What a training step costs: real steps of the trainer, timed. Summing y out runs the encoder
 * and decoder K times per unlabelled image, the score function (v1) and the Gumbel relaxation
 * once, so the gap grows with the number of classes K; `withRandomLabels` gives a dataset with
 * any K on the same images, for measuring that.
 */
import type { SemiSupervisedSplits } from '../data/datasets';
import type { TrainConfig, Variant } from '../model/config';
import { makeRng } from '../core/random';
import { epochPlan, type Step } from '../train/schedule';
import { Trainer } from '../train/trainer';

export interface StepTiming {
  variant: Variant;
  classes: number;
  /** Mean wall time of the timed steps. */
  msPerStep: number;
  stepsPerEpoch: number;
  /** msPerStep × stepsPerEpoch: an epoch's training steps, without evaluation. */
  secondsPerEpoch: number;
  /** The steps timed, sampled evenly from the epoch's plan (labelled and unlabelled in their proportion). */
  timed: Step[];
}

/**
 * Builds the trainer for `config` on `splits`, runs `warmup` steps of its first epoch's plan,
 * then times `steps` more, and disposes it. The timed steps sample the plan evenly.
 */
export function timeTrainingSteps(
  config: TrainConfig,
  splits: SemiSupervisedSplits,
  options: { warmup: number; steps: number },
): StepTiming {
  const { warmup, steps } = options;
  if (!(Number.isInteger(steps) && steps >= 1)) throw new Error(`timeTrainingSteps: steps must be a positive integer, got ${steps}`);
  const trainer = new Trainer(config, splits);
  try {
    const rng = makeRng(config.seed, 'timing');
    const plan = epochPlan(config, splits.unlabelled.count, splits.labelled.count, rng);
    for (let i = 0; i < warmup; i++) trainer.step(plan[i % plan.length] as Step, rng);
    const stride = Math.max(1, Math.floor(plan.length / steps));
    const timed = Array.from({ length: steps }, (_, i) => plan[(i * stride) % plan.length] as Step);
    const start = process.hrtime.bigint();
    for (const s of timed) trainer.step(s, rng);
    const msPerStep = Number(process.hrtime.bigint() - start) / 1e6 / steps;
    return {
      variant: config.variant,
      classes: config.numClasses,
      msPerStep,
      stepsPerEpoch: plan.length,
      secondsPerEpoch: (msPerStep * plan.length) / 1000,
      timed,
    };
  } finally {
    trainer.dispose();
  }
}
