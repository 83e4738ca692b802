/**
 * Saving and loading M2 and its optimizer state.
 *
 * Each network is written by its own LayersModel.save in the layout tf.loadLayersModel reads
 * (model.json + weights.bin), through a custom save handler so that it works on any backend
 * and lands atomically. The optimizer's moments go to optimizer.json + optimizer.bin.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { zip } from '../core/arrays';
import { tf } from '../core/backend';
import { readableDir, replaceDirAtomic } from '../core/files';
import { M2_NETWORKS, type M2 } from '../model/m2';
import type { Adam, AdamState } from '../model/optimizer';
import type { WeightAverage } from '../model/average';

export interface SavedNetwork {
  json: string;
  weights: Uint8Array;
}

/** A network's topology and weights as tf.loadLayersModel's model.json + weights.bin, in memory. */
export async function serialise(model: tf.LayersModel): Promise<SavedNetwork> {
  let saved: SavedNetwork | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = new Uint8Array(artifacts.weightData as ArrayBuffer);
      const json = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
      };
      saved = { json: JSON.stringify(json), weights };
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (saved === undefined) throw new Error(`saving ${model.name} produced nothing`);
  return saved;
}

/** Writes a serialised network as dir/model.json and dir/weights.bin. */
export function writeNetwork(dir: string, saved: SavedNetwork): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'model.json'), saved.json);
  fs.writeFileSync(path.join(dir, 'weights.bin'), saved.weights);
}

/** Loads weights saved by writeNetwork into an existing model of the same architecture. */
export function readNetworkInto(dir: string, model: tf.LayersModel): void {
  const jsonFile = path.join(dir, 'model.json');
  let manifest: { weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] };
  try {
    manifest = JSON.parse(fs.readFileSync(jsonFile, 'utf8'));
  } catch (err) {
    throw new Error(`${jsonFile}: cannot read saved network (${(err as Error).message})`, { cause: err });
  }
  const group = manifest.weightsManifest?.[0];
  if (group === undefined) throw new Error(`${jsonFile}: no weightsManifest`);
  const binFile = path.join(dir, group.paths[0] ?? 'weights.bin');
  const bytes = fs.readFileSync(binFile);
  const expected = group.weights.reduce((n, w) => n + 4 * w.shape.reduce((a, b) => a * b, 1), 0);
  if (bytes.length !== expected) throw new Error(`${binFile}: holds ${bytes.length} bytes, its manifest needs ${expected}`);
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const named = tf.io.decodeWeights(buffer, group.weights);
  const values = group.weights.map((w) => named[w.name] as tf.Tensor);
  if (values.length !== model.weights.length) {
    throw new Error(`${jsonFile}: holds ${values.length} weights, the ${model.name} network has ${model.weights.length}`);
  }
  zip(values, model.weights).forEach(([v, target], i) => {
    if (v.shape.join('x') !== target.shape.join('x'))
      throw new Error(`${jsonFile}: weight ${i} has shape [${v.shape}], expected [${target.shape}]`);
  });
  model.setWeights(values);
  values.forEach((v) => v.dispose());
}

function encodeOptimizer(state: AdamState): { json: string; bin: Uint8Array } {
  const total = state.groups.reduce((n, g) => n + g.m.length + g.v.length, 0);
  const all = new Float32Array(total);
  let offset = 0;
  for (const g of state.groups) {
    all.set(g.m, offset);
    all.set(g.v, offset + g.m.length);
    offset += g.m.length + g.v.length;
  }
  const json = JSON.stringify({ groups: state.groups.map(({ names, t, m }) => ({ names, t, size: m.length })) });
  return { json, bin: new Uint8Array(all.buffer) };
}

function decodeOptimizer(dir: string): AdamState {
  const jsonFile = path.join(dir, 'optimizer.json');
  const binFile = path.join(dir, 'optimizer.bin');
  const meta = JSON.parse(fs.readFileSync(jsonFile, 'utf8')) as { groups: { names: string[]; t: number; size: number }[] };
  const raw = fs.readFileSync(binFile);
  const all = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  let offset = 0;
  const groups = meta.groups.map(({ names, t, size }) => {
    const m = all.slice(offset, offset + size);
    const v = all.slice(offset + size, offset + 2 * size);
    offset += 2 * size;
    return { names, t, m, v };
  });
  if (offset !== all.length) throw new Error(`${binFile}: holds ${all.length} values, ${jsonFile} describes ${offset}`);
  return { groups };
}

/** The optimizer's state, read out now, as the two files writeOptimizer puts in a checkpoint. */
export function optimizerFiles(optimizer: Adam): { json: string; bin: Uint8Array } {
  return encodeOptimizer(optimizer.getState());
}

/** Writes dir/optimizer.json and dir/optimizer.bin (dir being a checkpoint's temporary folder). */
export function writeOptimizer(dir: string, files: { json: string; bin: Uint8Array }): void {
  fs.writeFileSync(path.join(dir, 'optimizer.json'), files.json);
  fs.writeFileSync(path.join(dir, 'optimizer.bin'), files.bin);
}

/** Restores the optimizer state written by writeOptimizer in dir. */
export function readOptimizerInto(dir: string, optimizer: Adam): void {
  optimizer.setState(decodeOptimizer(dir));
}

/** The file of a checkpoint that holds a weight average's running sums (its step count goes in state.json). */
const AVERAGE_FILE = 'average.bin';

/**
 * Saves the three networks to dir/{classifier,encoder,decoder}/ (replacing dir atomically), plus
 * the optimizer and the weight average if given.
 */
export async function saveM2(
  dir: string,
  m: M2,
  optimizer?: Adam,
  extra: Record<string, unknown> = {},
  average?: WeightAverage,
): Promise<void> {
  const nets = zip(M2_NETWORKS, await Promise.all(M2_NETWORKS.map((name) => serialise(m[name]))));
  const opt = optimizer ? optimizerFiles(optimizer) : undefined;
  const avg = average?.getState();
  replaceDirAtomic(dir, (tmp) => {
    for (const [name, net] of nets) writeNetwork(path.join(tmp, name), net);
    if (opt) writeOptimizer(tmp, opt);
    if (avg) fs.writeFileSync(path.join(tmp, AVERAGE_FILE), new Uint8Array(avg.sums.buffer, avg.sums.byteOffset, avg.sums.byteLength));
    const state = avg ? { ...extra, averageSteps: avg.steps } : extra;
    fs.writeFileSync(path.join(tmp, 'state.json'), JSON.stringify(state));
  });
}

/**
 * Loads weights (and optimizer state and weight average, if asked) saved by saveM2 into `m`;
 * returns the saved extra state.
 */
export function loadM2Into(dir: string, m: M2, optimizer?: Adam, average?: WeightAverage): Record<string, unknown> {
  const source = readableDir(dir);
  if (source === undefined) throw new Error(`${dir}: no checkpoint there`);
  M2_NETWORKS.forEach((name) => readNetworkInto(path.join(source, name), m[name]));
  if (optimizer) readOptimizerInto(source, optimizer);
  const state = JSON.parse(fs.readFileSync(path.join(source, 'state.json'), 'utf8')) as Record<string, unknown>;
  if (average) {
    const file = path.join(source, AVERAGE_FILE);
    if (!fs.existsSync(file)) throw new Error(`${file}: missing; the checkpoint holds no weight average to continue`);
    const raw = fs.readFileSync(file);
    const sums = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    try {
      average.setState({ steps: state.averageSteps as number, sums });
    } catch (err) {
      throw new Error(`${file}: ${(err as Error).message}`, { cause: err });
    }
  }
  return state;
}
