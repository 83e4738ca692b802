#!/usr/bin/env node
/**
 * Command line: `npm run ssvae -- <command> [flags]`.
 * Flags are parsed by Node's own util.parseArgs in strict mode, so unknown flags are errors.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { initBackend } from './backend';
import { classCounts, loadDataset } from './data';

export class UsageError extends Error {}

const USAGE = `Usage: npm run ssvae -- <command> [flags]

Commands:
  info [--data-dir DIR]       print backend, versions and split sizes as JSON

Examples:
  npm run ssvae -- info
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

const COMMANDS: Record<string, (argv: string[]) => Promise<void>> = { info };

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
