#!/usr/bin/env node
/**
 * Command line: `npm run ssvae -- <command> [flags]`.
 * Flags are parsed by Node's own util.parseArgs in strict mode, so unknown flags are errors.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { SingleBar } from 'cli-progress';
import { initBackend } from './backend';
import { loadM2Into } from './checkpoint';
import { INITS, resolveConfig, SCHEDULES, VARIANTS, type TrainConfig } from './config';
import { classCounts, loadDataset } from './data';
import { confusionMatrix } from './evaluate';
import { createM2, disposeM2 } from './model';
import { readRunRecord, type EpochRecord } from './records';
import { isResumable, train, TrainingDiverged } from './train';

export class UsageError extends Error {}

const USAGE = `Usage: npm run ssvae -- <command> [flags]

Commands:
  info [--data-dir DIR]
      print backend, versions and split sizes as JSON
  train --variant v1|v2|v3|baseline --labels N --out DIR [--epochs E] [--seed S]
        [--resume] [--data-dir DIR] [--lr X] [--alpha X] [--schedule alternating|mixed]
        [--batch-size B] [--labelled-batch-size B] [--hidden 500[,500]] [--z-dim Z]
        [--init glorot-normal|torch-uniform]
      train one run; writes DIR/run.json and DIR/checkpoint/ after every epoch,
      DIR/best/ whenever validation accuracy improves
  eval --run DIR [--weights best|last]
      test accuracy and confusion matrix of a trained run

Examples:
  npm run ssvae -- info
  npm run ssvae -- train --variant v3 --labels 3000 --epochs 50 --seed 0 --out data/runs/v3-3000-s0
  npm run ssvae -- train --out data/runs/v3-3000-s0 --resume
  npm run ssvae -- eval --run data/runs/v3-3000-s0
`;

type Options = NonNullable<ParseArgsConfig['options']>;

function parse(argv: string[], options: Options) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

async function info(argv: string[]): Promise<void> {
  const flags = parse(argv, { 'data-dir': { type: 'string' } });
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

function formatEpoch(e: EpochRecord, total: number): string {
  const losses = Object.entries(e.losses).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ');
  return `epoch ${e.epoch}/${total}  ${e.seconds.toFixed(1)} s  validation ${e.validationAccuracy.toFixed(4)}  test ${e.testAccuracy.toFixed(4)}  | ${losses}`;
}

async function trainCommand(argv: string[]): Promise<void> {
  const flags = parse(argv, {
    variant: { type: 'string', short: 'v' },
    labels: { type: 'string', short: 'n' },
    epochs: { type: 'string', short: 'e' },
    seed: { type: 'string', short: 's' },
    out: { type: 'string', short: 'o' },
    resume: { type: 'boolean', default: false },
    'data-dir': { type: 'string' },
    lr: { type: 'string' },
    alpha: { type: 'string' },
    schedule: { type: 'string' },
    'batch-size': { type: 'string' },
    'labelled-batch-size': { type: 'string' },
    hidden: { type: 'string' },
    'z-dim': { type: 'string' },
    init: { type: 'string' },
  });
  const out = flags.out as string | undefined;
  if (out === undefined) throw new UsageError('train needs --out DIR (where run.json and checkpoints go)');
  const resume = flags.resume as boolean;
  const hiddenRaw = flags.hidden as string | undefined;
  const hidden = hiddenRaw?.split(',').map((h) => {
    const v = Number(h);
    if (!Number.isInteger(v) || v <= 0) throw new UsageError(`--hidden expects comma-separated positive integers, got "${hiddenRaw}"`);
    return v;
  });
  const overrides: Partial<TrainConfig> = {
    variant: oneOf(flags, 'variant', VARIANTS),
    labels: number(flags, 'labels', true),
    epochs: number(flags, 'epochs', true),
    seed: number(flags, 'seed', true),
    lr: number(flags, 'lr', false),
    alpha: number(flags, 'alpha', false),
    schedule: oneOf(flags, 'schedule', SCHEDULES),
    batchSize: number(flags, 'batch-size', true),
    labelledBatchSize: number(flags, 'labelled-batch-size', true),
    hidden,
    zDim: number(flags, 'z-dim', true),
    init: oneOf(flags, 'init', INITS),
    dataset: flags['data-dir'] === undefined ? undefined : path.resolve(flags['data-dir'] as string),
  };
  if (resume) {
    const fixed = Object.entries(overrides).filter(([k, v]) => v !== undefined && k !== 'epochs').map(([k]) => k);
    if (fixed.length > 0) throw new UsageError(`--resume continues the run in ${out} with its own settings; only --epochs may be given (got ${fixed.join(', ')})`);
    if (!isResumable(out)) throw new UsageError(`--resume: ${out} holds no run to resume (needs run.json and checkpoint/)`);
  } else {
    if (overrides.variant === undefined) throw new UsageError('train needs --variant v1|v2|v3|baseline');
    if (overrides.labels === undefined) throw new UsageError('train needs --labels N');
    if (fs.existsSync(path.join(out, 'run.json'))) throw new UsageError(`${out} already holds a run; use --resume to continue it or choose another --out`);
    try {
      resolveConfig(overrides);
    } catch (err) {
      throw new UsageError((err as Error).message.replace(/^config\.(\w+)/, (_, k: string) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`));
    }
  }
  const interactive = process.stderr.isTTY === true;
  const bar = interactive ? new SingleBar({ format: 'epoch {epoch} [{bar}] {value}/{total} steps  {eta}s left', hideCursor: true }, undefined) : undefined;
  let barEpoch = 0;
  try {
    const { record } = await train(overrides, {
      outDir: out,
      resume,
      onStep: (epoch, done, total) => {
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
        console.log(formatEpoch(entry, run.config.epochs));
      },
    });
    const r = record.result;
    console.log(`done: test accuracy ${r.testAccuracyAtBest.toFixed(4)} at the best validation epoch ${r.bestEpoch} (validation ${r.validationAccuracyAtBest.toFixed(4)}); ${r.testAccuracyLast.toFixed(4)} at the last epoch. Record: ${path.join(out, 'run.json')}`);
  } catch (err) {
    bar?.stop();
    if (err instanceof TrainingDiverged) throw new Error(`training stopped: ${err.message}; the last good checkpoint is in ${path.join(out, 'checkpoint')}`);
    throw err;
  }
}

async function evalCommand(argv: string[]): Promise<void> {
  const flags = parse(argv, { run: { type: 'string', short: 'r' }, weights: { type: 'string' } });
  const dir = flags.run as string | undefined;
  if (dir === undefined) throw new UsageError('eval needs --run DIR');
  const which = oneOf(flags, 'weights', ['best', 'last'] as const) ?? 'best';
  const record = readRunRecord(dir);
  const weights = path.join(dir, which === 'best' ? 'best' : 'checkpoint');
  await initBackend();
  const config = resolveConfig(record.config);
  const dataset = loadDataset(config.dataset === 'mnist' ? {} : { dataDir: config.dataset });
  const model = createM2(config, config.seed);
  try {
    const state = loadM2Into(weights, model) as { epoch?: number };
    const matrix = confusionMatrix(model, dataset.test, config.numClasses);
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

const COMMANDS: Record<string, (argv: string[]) => Promise<void>> = { info, train: trainCommand, eval: evalCommand };

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
