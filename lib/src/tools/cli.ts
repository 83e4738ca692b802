#!/usr/bin/env node
/**
 * Command line: `npm run ssvae -- <command> [flags]`.
 * Flags are parsed by Node's own util.parseArgs in strict mode, so unknown flags are errors.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { SingleBar } from 'cli-progress';
import { initBackend } from '../core/backend';
import { loadM2Into } from '../train/checkpoint';
import { defaultRunsDir } from '../analysis/comparison';
import { resultsBlock, TABLE_PLAN_NAMES } from './table-one';
import { readMarkedBlock, replaceMarkedBlock } from '../core/files';
import { defaultLikelihoodDir, likelihoodMarkdown } from '../figures/likelihood';
import { DEFAULTS, resolveConfig, stripUndefined, usesM1, VARIANTS, type TrainConfig, type TrainSettings } from '../model/config';
import { recordedM1Split } from '../train/m1';
import { classCounts, loadDataset, loadNamedDataset } from '../data/datasets';
import { confusionMatrix } from '../train/evaluate';
import { createM2, disposeM2 } from '../model/m2';
import { epochLine, resultLine } from '../notebook/progress';
import { readRunRecord, threadChangeNote } from '../train/records';
import { lockRunDir, lockRunDirWaiting, runState, takeLockWaiting, type RunState } from '../train/run-dir';
import {
  defaultJobs,
  expandPlans,
  formatSummary,
  listCommands,
  parsePlan,
  parseShard,
  PlanError,
  readPlanFile,
  runSweep,
  selectRuns,
  GROUP_SETTING_FLAGS,
  SETTING_FLAGS,
  shardOf,
  sweepStatus,
  isVaeRun,
  VAE_SETTING_FLAGS,
  type AnyPlan,
  type SettingKind,
} from './sweep';
import { evaluateLikelihood, trainVaeRun, VAE_MODELS, vaeRunConfig } from './likelihood';
import type { VaeConfig } from '../model/vae';
import { LIKELIHOOD_FILE, type LikelihoodRecord } from '../analysis/likelihood';
import { TrainingDiverged } from '../train/step';
import { isResumable, train } from '../train/trainer';

export class UsageError extends Error {}

/** What `-h`/`--help` asked for: printing the usage and exiting 0. */
class HelpRequested extends Error {
  constructor(readonly text: string) {
    super('help');
  }
}

const SETTINGS_USAGE = `Settings (every run; defaults in lib/src/model/config.ts):
  --preset default|pyro-script|round-1   named starting point; flags below override it
  --lr X  --beta1 X  --beta2 X           Adam
  --alpha X                              α′, weight of the classification term (v3)
  --alpha-rule constant|kingma           α′ = --alpha, or 0.1 · N_train / N
  --labelled-bound-weight W              factor on the labelled bound −L(x,y) (default 1;
                                         0 trains on labels through the classifier alone;
                                         v1 and v2 need a positive weight)
  --restart R                            another start from the seed's labelled subset:
                                         new initial weights, batch order and noise (default 0)
  --average-decay D                      evaluate an exponential moving average of the weights
                                         with decay D (about 1/(1 − D) steps; default 0: none)
  --class-balance L                      add L · KL(q̄(y) ‖ p(y)) on the unlabelled batch, q̄
                                         the batch's mean of q(y|x) (default 0: none)
  --schedule alternating|mixed|spread    how labelled and unlabelled batches meet
  --batch-size B  --labelled-batch-size B
  --hidden 500[,500]  --z-dim Z  --init glorot-normal|torch-uniform|pyro
  --data-dir DIR                         any dataset stored as MNIST's four IDX files
                                         (plain or gzipped)
M1, the feature extractor of m1 and m1m2 (a VAE on all training images, trained once per
seed and cached in data/cache/):
  --m1-epochs E  --m1-hidden 500,500  --m1-z-dim Z  --m1-batch-size B  --m1-lr X
  --m1-active-threshold X                keep z₁'s dimensions whose mean varies by more
  --m1-kl-warmup E                       raise the KL weight from 0 to 1 over E epochs
The relaxation of gumbel (τ_t = max(min, τ₀ · exp(−decay · step))):
  --gumbel-temperature τ₀  --gumbel-min-temperature X  --gumbel-decay X
  --gumbel-straight-through true|false   one-hot forward, relaxed gradient`;

const HELP: Record<string, string> = {
  info: `Usage: npm run ssvae -- info [--data-dir DIR]

Prints the backend, versions and split sizes as JSON.`,
  train: `Usage: npm run ssvae -- train --variant v1|v1-loo|v2|v3|baseline|m1|m1m2|gumbel --labels N --out DIR
                              [--epochs E] [--seed S] [settings]
       npm run ssvae -- train --out DIR --resume [--epochs E]
       npm run ssvae -- train --variant … --labels N --out DIR --continue

Trains one run; writes DIR/run.json and DIR/checkpoint/ after every epoch, and DIR/best/
whenever validation accuracy improves.
  --resume      continue the run in DIR with its own settings (--epochs may extend it)
  --continue    start the run, resume it if DIR holds it unfinished, or do nothing if it
                is finished (an error if DIR holds a run with other settings)
  --threads T   TensorFlow threads (default: all cores)

${SETTINGS_USAGE}`,
  eval: `Usage: npm run ssvae -- eval --run DIR [--weights best|last]
       npm run ssvae -- eval --run DIR --iwae 1,10,100,1000 [--images N] [--seed S] [--threads T]

Test accuracy and confusion matrix of a trained M2 run; with --iwae, the importance-weighted
bounds on log p(x) of an M2 run (y summed out) or of a VAE/GMVAE run (ssvae vae) instead, on
the test images binarised once from --seed (default 0), written to DIR/likelihood.json.
  --iwae LIST   the numbers of samples m; each must divide the largest
  --images N    score the first N test images only (default all)`,
  vae: `Usage: npm run ssvae -- vae --model vae|gmvae --out ROOT [--seeds 0-4] [--preset cs236|none]
                            [--epochs E] [--iwae 1,10,100,1000] [--threads T]

Trains an unsupervised VAE (p(z) = N(0, I)) or GMVAE (p(z) a mixture of k learnt Gaussians) for
each seed into ROOT/<model>-s<seed>/ (vae.json and the networks), skipping seeds already trained,
then scores each on the binarised test images: −ELBO, its terms and the IWAE bounds, written to
ROOT/<model>-s<seed>/likelihood.json (see eval --iwae).
  --preset cs236   (the default) Stanford CS236's homework setup: 2×300 ELU units, z of 10,
                   k = 500, batch 100, Adam 1e-3, 20,000 steps (40 epochs of 50,000 images),
                   pixels binarised afresh every step; none: the library's VAE defaults
  --iwae LIST      default 1,10,100,1000
  --components K  --z-dim Z  --hidden 300,300  --lr X  --batch-size B   override the preset`,
  results: `Usage: npm run ssvae -- results [--runs DIR] [--write FILE] [--likelihood DIR]

Prints, as Markdown, Table 1 (test accuracy at the best validation epoch, mean ± 95% interval
over seeds, beside the published numbers; one row per method, from the runs under DIR, default
data/runs, that ${TABLE_PLAN_NAMES.join(', ')} train),
its rows' paired differences on the labelled subsets they share, then a table of every group of
finished runs under DIR. --write FILE puts them between the lines
<!-- results:start --> and <!-- results:end --> of FILE instead (the README has them), and
where FILE has <!-- likelihood:start --> … <!-- likelihood:end -->, the table of test
log-likelihood bounds of the runs under --likelihood DIR (default data/study/likelihood) there.`,
  sweep: `Usage: npm run ssvae -- sweep [--plan FILE | --variants LIST --labels LIST --seeds LIST]
                              [--epochs E] [settings] [--grid KEY=V1,V2 …]
                              [--out ROOT] [--jobs J] [--threads T] [--list | --status] [--shard I/N]

Trains every run of a plan that is not finished yet: methods × label counts × seeds, each in
ROOT/<group>/<variant>-<N>-s<seed>, where <group> names the preset and the settings given.
Finished runs are skipped, unfinished ones resumed. Ends with mean ± 95% interval per method × N.
  --plan FILE        JSON: {"variants": […], "labels": […], "seeds": […], "epochs": E,
                     "settings": {field: value}, "grid": {field: [values]}}, or a list of them;
                     a plan of unsupervised models instead: {"models": ["vae", "gmvae"],
                     "seeds": […], "preset": "cs236"|"none", "epochs": E, "iwae": [1, …, 1000],
                     "settings": {"components": k, …}}, each run being ssvae vae for one
                     model and seed in ROOT/<preset>/<model>-s<seed> (e.g. plans/cs236.json)
  --variants v1,v2,v3,baseline,m1,m1m2,gumbel   --labels 100,600   --seeds 0-4 (or 0,1,2)   --epochs 50
  --grid KEY=V1,V2   cross a setting's values (KEY as in a plan file, e.g. lr, schedule)
  --out ROOT         default data/runs
  --jobs J           runs at once (default: one per core, as memory allows); each gets
                     ⌊cores / J⌋ TensorFlow threads unless --threads
  --list             print one self-contained train command per run and exit (GNU parallel,
                     Slurm job arrays); nothing is trained
  --status           print where each run stands under ROOT (finished with its test accuracy,
                     at epoch k of E, not started) and the epochs left; nothing is trained
                     (an m1 or m1m2 run is not started while its seed's M1 trains; a run
                     finished at fewer epochs than planned, without its checkpoint, starts over)
  --shard I/N        take only the I-th of N round-robin slices of the plan (0 ≤ I < N)
  --plan FILE --seeds LIST   only the plan's runs of these seeds (to split a plan between
                     machines by labelled subset, each training the M1s of its own seeds);
                     likewise --variants LIST and --labels LIST, e.g. --plan plans/m1m2-table.json
                     --variants m1m2 --labels 100 --seeds 3 (one run)

${SETTINGS_USAGE}`,
};

const USAGE = `Usage: npm run ssvae -- <command> [flags]     (npm run ssvae -- <command> --help for more)

Commands:
  info     backend, versions and split sizes as JSON
  train    train one run (one variant, N and seed)
  eval     test accuracy and confusion matrix of a trained run
  sweep    train a plan of runs (methods × label counts × seeds), resumably
  vae      train and score unsupervised VAEs and GMVAEs (test log-likelihood bounds)
  results  Table 1 and every group of recorded runs, beside the published numbers, as Markdown

Examples:
  npm run ssvae -- info
  npm run ssvae -- train --variant v3 --labels 3000 --epochs 50 --seed 0 --out data/runs/v3-3000-s0
  npm run ssvae -- train --out data/runs/v3-3000-s0 --resume
  npm run ssvae -- eval --run data/runs/v3-3000-s0
  npm run ssvae -- sweep --variants v3,baseline --labels 100,3000 --seeds 0-4 --epochs 50
`;

type Options = NonNullable<ParseArgsConfig['options']>;

function parse(command: string, argv: string[], options: Options) {
  if (argv.includes('--help') || argv.includes('-h')) throw new HelpRequested(HELP[command] ?? USAGE);
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

async function info(argv: string[]): Promise<void> {
  const flags = parse('info', argv, { 'data-dir': { type: 'string' } });
  const backend = await initBackend();
  const dataset = loadDataset({ dataDir: flags['data-dir'] as string | undefined });
  const describe = (split: { count: number; labels: Uint8Array }) => ({
    count: split.count,
    perClass: classCounts({ ...split, name: '', images: new Float32Array() }, dataset.numClasses),
  });
  const out = {
    backend: backend.name,
    backendReason: backend.reason,
    tfjsVersion: backend.tfjsVersion,
    node: process.version,
    dataset: dataset.name,
    directory: dataset.directory,
    imageShape: dataset.imageShape,
    numClasses: dataset.numClasses,
    splits: { train: describe(dataset.train), validation: describe(dataset.validation), test: describe(dataset.test) },
  };
  console.log(JSON.stringify(out, null, 2));
}

function number(flags: Record<string, unknown>, name: string, integer: boolean): number | undefined {
  const raw = flags[name];
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw === '' || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
    throw new UsageError(`--${name} expects ${integer ? 'an integer' : 'a number'}, got "${raw}"`);
  }
  return value;
}

function oneOf<T extends string>(flags: Record<string, unknown>, name: string, allowed: readonly T[]): T | undefined {
  const raw = flags[name] as string | undefined;
  if (raw === undefined) return undefined;
  if (!allowed.includes(raw as T)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
  return raw as T;
}

function positiveIntList(flags: Record<string, unknown>, name: string): number[] | undefined {
  const raw = flags[name] as string | undefined;
  if (raw === undefined) return undefined;
  return raw.split(',').map((h) => {
    const v = Number(h);
    if (!Number.isInteger(v) || v <= 0) throw new UsageError(`--${name} expects comma-separated positive integers, got "${raw}"`);
    return v;
  });
}

/** The parseArgs options of the flags that set a run's settings, shared by train and sweep. */
const SETTING_OPTIONS: Options = Object.fromEntries(
  [...SETTING_FLAGS, ...GROUP_SETTING_FLAGS].map(({ flag }) => [flag, { type: 'string' as const }]),
);

/** The value of one setting's flag, read as its kind says (undefined if the flag is absent). */
function readSetting(flags: Record<string, unknown>, { flag, kind }: { flag: string; kind: SettingKind }): unknown {
  if (kind === 'int' || kind === 'number') return number(flags, flag, kind === 'int');
  if (kind === 'list') return positiveIntList(flags, flag);
  if (kind === 'path') return flags[flag] === undefined ? undefined : path.resolve(flags[flag] as string);
  if (kind === 'boolean') {
    const text = oneOf(flags, flag, ['true', 'false'] as const);
    return text === undefined ? undefined : text === 'true';
  }
  return oneOf(flags, flag, kind);
}

/** The settings given as flags (undefined where not given), read as SETTING_FLAGS says. */
function settingsFromFlags(flags: Record<string, unknown>): TrainSettings {
  const read = (setting: { flag: string; kind: SettingKind }) => readSetting(flags, setting);
  const settings: Record<string, unknown> = Object.fromEntries(SETTING_FLAGS.map((setting) => [setting.key, read(setting)]));
  for (const setting of GROUP_SETTING_FLAGS) {
    const value = read(setting);
    if (value !== undefined) settings[setting.group] = { ...(settings[setting.group] as object | undefined), [setting.key]: value };
  }
  return settings as TrainSettings;
}

/** A config field's flag name: zDim → z-dim. */
function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** resolveConfig's error with the config field named as its flag. */
function checkConfig(overrides: TrainSettings): TrainConfig {
  try {
    return resolveConfig(overrides);
  } catch (err) {
    throw new UsageError(
      (err as Error).message.replace(
        /^config\.(?:(m1|gumbel)\.)?(\w+)/,
        (_, group: string | undefined, k: string) => `--${group ? `${group}-` : ''}${flagName(k)}`,
      ),
    );
  }
}

/** Sets TensorFlow's thread pools before the native backend loads. */
function setThreads(threads: number | undefined): void {
  if (threads === undefined) return;
  if (threads <= 0) throw new UsageError(`--threads expects a positive integer, got ${threads}`);
  process.env.TF_NUM_INTRAOP_THREADS = String(threads);
  process.env.TF_NUM_INTEROP_THREADS = String(threads);
}

/** How long `train --continue` waits for another process that holds the run's lock. */
const CONTINUE_LOCK_WAIT_MS = 120_000;

/** A worker started by `sweep` stops at once if the sweep that started it is gone (killed). */
function stopWithParent(): () => void {
  const parent = Number(process.env.SSVAE_PARENT_PID);
  if (!Number.isInteger(parent) || parent <= 0) return () => undefined;
  return () => {
    if (process.ppid !== parent) process.exit(137);
  };
}

async function trainCommand(argv: string[]): Promise<void> {
  const flags = parse('train', argv, {
    ...SETTING_OPTIONS,
    variant: { type: 'string', short: 'v' },
    labels: { type: 'string', short: 'n' },
    epochs: { type: 'string', short: 'e' },
    seed: { type: 'string', short: 's' },
    out: { type: 'string', short: 'o' },
    resume: { type: 'boolean', default: false },
    continue: { type: 'boolean', default: false },
    threads: { type: 'string' },
  });
  const out = flags.out as string | undefined;
  if (out === undefined) throw new UsageError('train needs --out DIR (where run.json and checkpoints go)');
  let resume = flags.resume as boolean;
  const keepGoing = flags.continue as boolean;
  if (resume && keepGoing) throw new UsageError('give --resume or --continue, not both');
  setThreads(number(flags, 'threads', true));
  const overrides: TrainSettings = {
    ...settingsFromFlags(flags),
    variant: oneOf(flags, 'variant', VARIANTS),
    labels: number(flags, 'labels', true),
    epochs: number(flags, 'epochs', true),
    seed: number(flags, 'seed', true),
  };
  let release: (() => void) | undefined;
  if (resume) {
    const fixed = Object.entries(overrides)
      .filter(([k, v]) => v !== undefined && k !== 'epochs')
      .map(([k]) => k);
    if (fixed.length > 0)
      throw new UsageError(
        `--resume continues the run in ${out} with its own settings; only --epochs may be given (got ${fixed.join(', ')})`,
      );
    if (!isResumable(out)) throw new UsageError(`--resume: ${out} holds no run to resume (needs run.json and checkpoint/)`);
  } else {
    if (overrides.variant === undefined) throw new UsageError(`train needs --variant ${VARIANTS.join('|')}`);
    if (overrides.labels === undefined) throw new UsageError('train needs --labels N');
    const config = checkConfig(overrides);
    if (keepGoing) {
      // The lock first: another worker may be finishing this very run.
      release = await lockRunDirWaiting(out, CONTINUE_LOCK_WAIT_MS);
      let state: RunState;
      try {
        state = runState(out, config);
        if (state.kind === 'failed')
          throw new Error(`${out} stopped earlier (${state.record.result.error}); move it away to train it again`);
      } catch (err) {
        release();
        throw err;
      }
      if (state.kind === 'finished') {
        release();
        console.log(`already finished: ${path.join(out, 'run.json')} (${state.record.epochs.length} epochs)`);
        return;
      }
      resume = state.kind === 'resumable';
    } else if (fs.existsSync(path.join(out, 'run.json'))) {
      throw new UsageError(`${out} already holds a run; use --resume or --continue to continue it, or choose another --out`);
    }
  }
  release ??= lockRunDir(out);
  const checkParent = stopWithParent();
  const interactive = process.stderr.isTTY === true;
  const bar = interactive
    ? new SingleBar({ format: 'epoch {epoch} [{bar}] {value}/{total} steps  {eta}s left', hideCursor: true }, undefined)
    : undefined;
  let barEpoch = 0;
  try {
    if (resume) noteThreadChange(out);
    const { record } = await train(resume ? { epochs: overrides.epochs } : overrides, {
      outDir: out,
      resume,
      onStep: (epoch, done, total) => {
        checkParent();
        if (!bar) return;
        if (epoch !== barEpoch) {
          barEpoch = epoch;
          bar.start(total, 0, { epoch });
        }
        bar.update(done, { epoch });
      },
      onEpoch: (entry, run) => {
        bar?.stop();
        barEpoch = 0;
        console.log(epochLine(entry, run.config.epochs));
      },
    });
    console.log(`done: ${resultLine(record)}. Record: ${path.join(out, 'run.json')}`);
  } catch (err) {
    bar?.stop();
    if (err instanceof TrainingDiverged)
      throw new Error(`training stopped: ${err.message}; the last good checkpoint is in ${path.join(out, 'checkpoint')}`, { cause: err });
    throw err;
  } finally {
    release();
  }
}

/** Says so when a run continues with another TensorFlow thread count than it started with. */
function noteThreadChange(out: string): void {
  const note = threadChangeNote(out, readRunRecord(out).environment);
  if (note) console.log(note);
}

/** "0-4" or "0,2,5" → [0, 1, 2, 3, 4] or [0, 2, 5]. */
function seedList(raw: string): number[] {
  const range = /^(\d+)-(\d+)$/.exec(raw);
  if (range) {
    const [a, b] = [Number(range[1]), Number(range[2])];
    if (b < a) throw new UsageError(`--seeds: empty range "${raw}"`);
    return Array.from({ length: b - a + 1 }, (_, i) => a + i);
  }
  return raw.split(',').map((s) => {
    const v = Number(s);
    if (s === '' || !Number.isInteger(v) || v < 0)
      throw new UsageError(`--seeds expects a range like 0-4 or a list like 0,1,2, got "${raw}"`);
    return v;
  });
}

/** "lr=0.00042,0.0042" → ["lr", [0.00042, 0.0042]]; numbers stay numbers, "500x500" a hidden list. */
function gridAxis(raw: string): [string, unknown[]] {
  const eq = raw.indexOf('=');
  if (eq <= 0 || eq === raw.length - 1) throw new UsageError(`--grid expects KEY=V1,V2,… (e.g. lr=0.00042,0.0042), got "${raw}"`);
  const key = raw.slice(0, eq);
  const values = raw
    .slice(eq + 1)
    .split(',')
    .map((v) => (key === 'hidden' ? v.split('x').map(Number) : v !== '' && Number.isFinite(Number(v)) ? Number(v) : v));
  return [key, values];
}

async function sweepCommand(argv: string[]): Promise<void> {
  const flags = parse('sweep', argv, {
    ...SETTING_OPTIONS,
    plan: { type: 'string' },
    variants: { type: 'string' },
    labels: { type: 'string' },
    seeds: { type: 'string' },
    epochs: { type: 'string' },
    grid: { type: 'string', multiple: true },
    out: { type: 'string' },
    jobs: { type: 'string' },
    threads: { type: 'string' },
    list: { type: 'boolean', default: false },
    status: { type: 'boolean', default: false },
    shard: { type: 'string' },
  });
  const settings = stripUndefined(settingsFromFlags(flags));
  let plans: AnyPlan[];
  try {
    if (flags.plan !== undefined) {
      const clash = ['epochs', 'grid', ...Object.keys(SETTING_OPTIONS)].filter((k) => flags[k] !== undefined);
      if (clash.length > 0) throw new UsageError(`--plan gives the whole plan; drop --${clash.join(', --')}`);
      plans = readPlanFile(flags.plan as string);
      const keep = {
        variants: (flags.variants as string | undefined)?.split(','),
        labels: positiveIntList(flags, 'labels'),
        seeds: flags.seeds === undefined ? undefined : seedList(flags.seeds as string),
      };
      if (Object.values(keep).some((v) => v !== undefined)) plans = selectRuns(plans, stripUndefined(keep), flags.plan as string);
    } else {
      const variants = (flags.variants as string | undefined)?.split(',');
      const labels = positiveIntList(flags, 'labels');
      if (variants === undefined || labels === undefined)
        throw new UsageError('sweep needs --plan FILE, or --variants and --labels (with --seeds, default 0)');
      const grid = Object.fromEntries(((flags.grid as string[] | undefined) ?? []).map(gridAxis));
      plans = [
        parsePlan(
          {
            variants,
            labels,
            seeds: flags.seeds === undefined ? [0] : seedList(flags.seeds as string),
            epochs: number(flags, 'epochs', true) ?? DEFAULTS.epochs,
            settings,
            grid,
          },
          'the plan given by flags',
        ),
      ];
    }
  } catch (err) {
    if (err instanceof PlanError) throw new UsageError(err.message);
    throw err;
  }
  const root = path.resolve((flags.out as string | undefined) ?? defaultRunsDir());
  let runs = expandPlans(plans);
  if (flags.shard !== undefined) {
    try {
      runs = shardOf(runs, parseShard(flags.shard as string));
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  const jobs = number(flags, 'jobs', true) ?? defaultJobs();
  if (jobs <= 0) throw new UsageError(`--jobs expects a positive integer, got ${jobs}`);
  const threads = number(flags, 'threads', true);
  if (threads !== undefined && threads <= 0) throw new UsageError(`--threads expects a positive integer, got ${threads}`);
  if (flags.list && flags.status) throw new UsageError('--list and --status each print instead of training; give one');
  if (flags.list) {
    for (const line of listCommands(runs, root, threads)) console.log(line);
    return;
  }
  if (flags.status) {
    for (const line of sweepStatus(runs, root)) console.log(line);
    return;
  }
  let barTotal = 0;
  let barDone = 0;
  const bar = process.stderr.isTTY
    ? new SingleBar({ format: 'sweep [{bar}] {value}/{total} epochs  ETA {eta_formatted}', hideCursor: true, etaBuffer: 20 }, undefined)
    : undefined;
  const outcome = await runSweep(runs, {
    root,
    jobs,
    threads,
    log: (line) => {
      if (bar) bar.stop();
      console.log(line);
      if (bar && barTotal > 0) bar.start(barTotal, barDone);
    },
    onProgress: (done, total) => {
      barDone = done;
      if (bar && barTotal === 0 && total > 0) bar.start(total, done);
      barTotal = total;
      bar?.update(done);
    },
  });
  bar?.stop();
  if (runs.some((r) => !isVaeRun(r))) for (const line of formatSummary(outcome.summary)) console.log(line);
  // Unsupervised models: the likelihood table of each group folder, beside the course's numbers.
  for (const group of new Set(runs.filter(isVaeRun).map((r) => path.dirname(r.name)))) {
    console.log(`\n${group}:`);
    console.log(likelihoodMarkdown(path.join(root, group)));
  }
  console.log(
    `sweep: ${outcome.trained} trained, ${outcome.skipped} already finished, ${outcome.failed.length} failed; records under ${root}`,
  );
  if (outcome.failed.length > 0) {
    for (const f of outcome.failed) console.error(`  failed: ${f.name}: ${f.reason}`);
    throw new Error(`${outcome.failed.length} run${outcome.failed.length === 1 ? '' : 's'} failed`);
  }
}
/** A progress bar on a terminal, nothing otherwise: start(total), update(done), stop(). */
function progressBar(format: string): { update: (done: number, total: number) => void; stop: () => void } {
  if (!process.stderr.isTTY) return { update: () => undefined, stop: () => undefined };
  const bar = new SingleBar({ format, hideCursor: true }, undefined);
  let started = false;
  return {
    update: (done, total) => {
      if (!started) bar.start(total, 0);
      started = true;
      bar.update(done);
    },
    stop: () => bar.stop(),
  };
}

/** One line per m: the bound and its standard error over the images. */
function printLikelihood(record: LikelihoodRecord): void {
  const { iwae, elbo } = record;
  if (elbo)
    console.log(`  −ELBO ${elbo.negativeElbo.toFixed(2)}  (−log p(x|z) ${elbo.reconstruction.toFixed(2)}, KL ${elbo.kl.toFixed(2)})`);
  iwae.sampleCounts.forEach((m, i) =>
    console.log(`  −IWAE(m = ${m}) ${(-(iwae.bounds[i] ?? NaN)).toFixed(2)} ± ${(iwae.standardErrors[i] ?? NaN).toFixed(2)} nats`),
  );
  console.log(`  ${iwae.images} binarised test images, ${iwae.seconds.toFixed(1)} s`);
}

async function likelihoodCommand(dir: string, flags: Record<string, unknown>, onChunk?: () => void): Promise<void> {
  const sampleCounts = positiveIntList(flags, 'iwae') ?? [];
  const bar = progressBar('IWAE [{bar}] {value}/{total} images  {eta}s left');
  try {
    const record = await evaluateLikelihood(dir, {
      sampleCounts,
      images: number(flags, 'images', true),
      seed: number(flags, 'seed', true),
      weights: oneOf(flags, 'weights', ['best', 'last'] as const),
      onProgress: (done, total) => {
        bar.update(done, total);
        onChunk?.();
      },
    });
    bar.stop();
    console.log(`${dir}: ${record.model}, seed ${record.seed}`);
    printLikelihood(record);
  } finally {
    bar.stop();
  }
}

async function evalCommand(argv: string[]): Promise<void> {
  const flags = parse('eval', argv, {
    run: { type: 'string', short: 'r' },
    weights: { type: 'string' },
    iwae: { type: 'string' },
    images: { type: 'string' },
    seed: { type: 'string' },
    threads: { type: 'string' },
  });
  const dir = flags.run as string | undefined;
  if (dir === undefined) throw new UsageError('eval needs --run DIR');
  setThreads(number(flags, 'threads', true));
  if (flags.iwae !== undefined) return likelihoodCommand(dir, flags);
  const stray = ['images', 'seed'].filter((k) => flags[k] !== undefined);
  if (stray.length > 0) throw new UsageError(`--${stray.join(', --')} only go with --iwae`);
  const which = oneOf(flags, 'weights', ['best', 'last'] as const) ?? 'best';
  const record = readRunRecord(dir);
  const weights = path.join(dir, which === 'best' ? 'best' : 'checkpoint');
  await initBackend();
  const config = resolveConfig(record.config);
  const dataset = loadNamedDataset(config.dataset);
  // m1 and m1m2 classify M1's code of each image, from the M1 the run used.
  const test = usesM1(config.variant) ? recordedM1Split(record, dataset.test) : dataset.test;
  const model = createM2(config, config.seed);
  try {
    const state = loadM2Into(weights, model) as { epoch?: number };
    const matrix = confusionMatrix(model, test, config.numClasses);
    const correct = matrix.reduce((n, row, i) => n + (row[i] ?? 0), 0);
    const out = { run: dir, weights: which, epoch: state.epoch, testAccuracy: correct / dataset.test.count, confusion: matrix };
    console.log(`test accuracy ${out.testAccuracy.toFixed(4)} (${which} weights, epoch ${state.epoch})`);
    console.log('confusion matrix (rows: true digit, columns: predicted):');
    console.log(`      ${matrix.map((_, j) => String(j).padStart(5)).join('')}`);
    matrix.forEach((row, i) => console.log(`  ${String(i).padStart(2)}  ${row.map((c) => String(c).padStart(5)).join('')}`));
  } finally {
    disposeM2(model);
  }
}

async function vaeCommand(argv: string[]): Promise<void> {
  const flags = parse('vae', argv, {
    model: { type: 'string', short: 'm' },
    out: { type: 'string', short: 'o' },
    seeds: { type: 'string' },
    preset: { type: 'string' },
    epochs: { type: 'string' },
    iwae: { type: 'string' },
    threads: { type: 'string' },
    ...Object.fromEntries(VAE_SETTING_FLAGS.map(({ flag }) => [flag, { type: 'string' as const }])),
  });
  const model = oneOf(flags, 'model', VAE_MODELS);
  if (model === undefined) throw new UsageError(`vae needs --model ${VAE_MODELS.join('|')}`);
  const root = flags.out as string | undefined;
  if (root === undefined) throw new UsageError('vae needs --out ROOT (each seed goes to ROOT/<model>-s<seed>/)');
  setThreads(number(flags, 'threads', true));
  const seeds = flags.seeds === undefined ? [0] : seedList(flags.seeds as string);
  const sampleCounts = positiveIntList(flags, 'iwae') ?? [1, 10, 100, 1000];
  const overrides = stripUndefined({
    epochs: number(flags, 'epochs', true),
    ...Object.fromEntries(VAE_SETTING_FLAGS.map((setting) => [setting.key, readSetting(flags, setting)])),
  }) as Partial<VaeConfig>;
  const preset = oneOf(flags, 'preset', ['cs236', 'none'] as const) ?? 'cs236';
  const configs = seeds.map((seed) => {
    try {
      return vaeRunConfig(model, preset, { ...overrides, seed });
    } catch (err) {
      throw new UsageError((err as Error).message.replace(/^vae config\.(\w+)/, (_, k: string) => `--${flagName(k)}`));
    }
  });
  await initBackend();
  // Started by a sweep: stop (after the epoch's checkpoint, or between scoring chunks) once it is gone.
  const checkParent = stopWithParent();
  for (const config of configs) {
    const dir = path.join(root, `${model}-s${config.seed}`);
    // The lock sits beside the run's folder, which the final save replaces as a whole.
    fs.mkdirSync(root, { recursive: true });
    const release = await takeLockWaiting(`${dir}.lock`, dir, CONTINUE_LOCK_WAIT_MS);
    try {
      const outcome = await trainVaeRun(config, dir, (e) => {
        console.log(
          `${model} seed ${config.seed} epoch ${e.epoch}/${config.epochs}  ${e.seconds.toFixed(1)} s  validation −ELBO ${e.validation.negativeElbo.toFixed(2)} (KL ${e.validation.kl.toFixed(2)})`,
        );
        checkParent();
      });
      if (outcome === 'finished' && fs.existsSync(path.join(dir, LIKELIHOOD_FILE))) {
        console.log(`already finished: ${dir}`);
        continue;
      }
      await likelihoodCommand(dir, { iwae: sampleCounts.join(',') }, checkParent);
    } finally {
      release();
    }
  }
}

async function resultsCommand(argv: string[]): Promise<void> {
  const flags = parse('results', argv, { runs: { type: 'string' }, likelihood: { type: 'string' }, write: { type: 'string' } });
  const text = resultsBlock(path.resolve((flags.runs as string | undefined) ?? defaultRunsDir()));
  const file = flags.write as string | undefined;
  if (file === undefined) {
    console.log(text);
    return;
  }
  const changed = replaceMarkedBlock(file, 'results', text);
  console.log(changed ? `results table written to ${file}` : `${file} already holds this results table`);
  // The likelihood table too, where the file has a place for it.
  if (readMarkedBlock(file, 'likelihood') === undefined) return;
  const likelihood = likelihoodMarkdown(path.resolve((flags.likelihood as string | undefined) ?? defaultLikelihoodDir()));
  const changedToo = replaceMarkedBlock(file, 'likelihood', likelihood);
  console.log(changedToo ? `likelihood table written to ${file}` : `${file} already holds this likelihood table`);
}

const COMMANDS: Record<string, (argv: string[]) => Promise<void>> = {
  info,
  train: trainCommand,
  eval: evalCommand,
  sweep: sweepCommand,
  vae: vaeCommand,
  results: resultsCommand,
};

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  const run = COMMANDS[command];
  try {
    if (run === undefined) throw new UsageError(`unknown command "${command}"`);
    await run(rest);
    return 0;
  } catch (err) {
    if (err instanceof HelpRequested) {
      console.log(err.text);
      return 0;
    }
    if (err instanceof UsageError) {
      console.error(`ssvae: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    console.error(`ssvae: ${(err as Error).message}`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
