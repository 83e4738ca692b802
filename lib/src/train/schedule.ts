/**
 * The steps of an epoch: which images each optimisation step takes, by schedule. Indices only;
 * the trainer gathers the images. Every epoch's order is drawn from the run's seed and the
 * epoch's number, so an epoch is the same whether the run was resumed or not.
 */
import { makeRng, shuffleInPlace, type Rng } from '../core/random';
import { effectiveAlpha, objectiveOf, type TrainConfig } from '../model/config';

/** One optimisation step: an unlabelled batch, a labelled batch, or both (mixed schedule). */
export interface Step {
  unlabelled?: Int32Array;
  labelled?: Int32Array;
}

function batches(order: Int32Array, size: number, dropPartial: boolean): Int32Array[] {
  const out: Int32Array[] = [];
  for (let start = 0; start < order.length; start += size) {
    if (dropPartial && start + size > order.length) break;
    out.push(order.subarray(start, start + size));
  }
  return out;
}

function permutation(n: number, rng: Rng): Int32Array {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  shuffleInPlace(order, rng);
  return order;
}

/**
 * The steps of one epoch, with indices into the unlabelled and labelled sets.
 *
 * alternating: ⌊nUnlabelled / batch⌋ unlabelled batches (the partial one is dropped; the
 *   reshuffle brings those images back next epoch) and ⌈N / labelledBatch⌉ labelled batches;
 *   step i is labelled when i mod ⌊(nUnlabelled + N) / N⌋ = 0 and labelled batches remain.
 * mixed: each of the ⌊nUnlabelled / batch⌋ steps also draws a labelled batch, cycling through
 *   fresh permutations of the N labelled images.
 * spread: each of the ⌊nUnlabelled / batch⌋ steps also takes its share of one permutation of the
 *   N labelled images: step i takes positions ⌊i·N/S⌋ to ⌊(i+1)·N/S⌋ − 1 of S steps, so every
 *   labelled image comes once per epoch (at N < S some steps take none). The step sums its
 *   labelled terms over images and divides them by the unlabelled batch size (labelledShare).
 * baseline: labelled batches only, as many steps as an M2 epoch of the same schedule has (the
 *   unlabelled batches of a mixed or spread epoch; all steps of an alternating one), so that an
 *   epoch gives the classifier as many updates (the N images are cycled).
 */
export function epochPlan(config: TrainConfig, nUnlabelled: number, nLabelled: number, rng: Rng): Step[] {
  const unlabelled = batches(permutation(nUnlabelled, rng), config.batchSize, true);
  const labelledPass = () => batches(permutation(nLabelled, rng), config.labelledBatchSize, false);
  const baseline = objectiveOf(config.variant) === 'baseline';
  if (baseline || config.schedule === 'alternating') {
    const labelled = labelledPass();
    if (baseline) {
      // As many classifier updates as variant 3 gets under the same schedule.
      const total = config.schedule === 'alternating' ? unlabelled.length + labelled.length : unlabelled.length;
      const steps: Step[] = [];
      let pass = labelled;
      while (steps.length < total) {
        if (pass.length === 0) pass = labelledPass();
        steps.push({ labelled: pass.shift() as Int32Array });
      }
      return steps;
    }
    const interval = Math.max(1, Math.floor((nUnlabelled + nLabelled) / nLabelled));
    const steps: Step[] = [];
    let u = 0;
    let l = 0;
    for (let i = 0; u < unlabelled.length || l < labelled.length; i++) {
      if ((i % interval === 0 && l < labelled.length) || u >= unlabelled.length) steps.push({ labelled: labelled[l++] });
      else steps.push({ unlabelled: unlabelled[u++] });
    }
    return steps;
  }
  if (config.schedule === 'spread') {
    const order = permutation(nLabelled, rng);
    const share = (i: number) => Math.floor((i * nLabelled) / unlabelled.length);
    return unlabelled.map((u, i) => {
      const labelled = order.subarray(share(i), share(i + 1));
      return labelled.length > 0 ? { unlabelled: u, labelled } : { unlabelled: u };
    });
  }
  let pass = labelledPass();
  return unlabelled.map((u) => {
    if (pass.length === 0) pass = labelledPass();
    return { unlabelled: u, labelled: pass.shift() as Int32Array };
  });
}

/**
 * The factor on a step's labelled terms (batch means): 1, except under the spread schedule, where
 * a labelled image counts as much as an unlabelled one: (labelled rows) / (unlabelled rows), so
 * that the labelled means become sums over the labelled images divided by the unlabelled batch size.
 */
export function labelledShare(config: Pick<TrainConfig, 'schedule'>, step: Step): number {
  if (config.schedule !== 'spread' || !step.labelled || !step.unlabelled) return 1;
  return step.labelled.length / step.unlabelled.length;
}

/**
 * How much the classification term weighs against the unlabelled bound over one epoch of `config`'s
 * schedule. Every term of a step is a batch mean, so a labelled step adds α′ · mean(−log q(y|x))
 * and an unlabelled step adds mean(−U(x)); counted per image, as sums are,
 *
 *   weight = α′ · (labelled steps) / (unlabelled steps)
 *
 * under mixed and alternating; under spread each labelled step's term is scaled by its
 * labelledShare, which makes the weight α′ · N / (unlabelled images seen), Kingma's α·n/(n − N)
 * when α′ follows his rule.
 *
 * Kingma et al.'s code sums over images and gives each labelled image β = α · n/N with α = 0.1
 * (n all training images, N the labelled ones): per pass β·N against the n − N unlabelled images,
 * i.e. α · n / (n − N), about 0.1 at every N. 0 for variants without the term (v1, v2); the
 * labelled-only classifiers have no unlabelled bound to weigh it against.
 */
export function classificationWeight(config: TrainConfig, nUnlabelled: number, nLabelled: number): number {
  const objective = objectiveOf(config.variant);
  if (objective === 'baseline') throw new Error(`classificationWeight: ${config.variant} trains on labelled images alone`);
  if (objective === 'v1' || objective === 'v2') return 0;
  const plan = epochPlan(config, nUnlabelled, nLabelled, makeRng(config.seed, 'classification-weight'));
  const labelled = plan.reduce((sum, s) => sum + (s.labelled ? labelledShare(config, s) : 0), 0);
  const unlabelled = plan.filter((s) => s.unlabelled).length;
  return (effectiveAlpha(config, nUnlabelled + nLabelled) * labelled) / unlabelled;
}
