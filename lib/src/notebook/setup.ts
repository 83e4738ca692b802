/**
 * The opening every training notebook shares: the backend, the data (the full set, or its first
 * images in the smoke profile), one line per epoch while a model trains, a report of each run,
 * and charts shown as figures. A notebook calls it once and keeps the notebook for its story.
 */
import { initBackend } from '../core/backend';
import { loadDataset, type Dataset } from '../data/datasets';
import { subsetDataset, type SubsetSizes } from '../data/subset';
import { figureHtml, renderSvg, type TopLevelSpec } from '../figures/vega';
import type { CachedRun } from '../train/cache';
import type { EpochRecord, RunRecord } from '../train/records';
import { epochLine, resultLine } from './progress';

/** Where a notebook shows HTML: tslab's `display` in a notebook. */
export interface HtmlDisplay {
  html(markup: string): void;
}

export interface NotebookOptions {
  /** Train on the first images of each split only (the smoke profile); default the whole dataset. */
  subset?: SubsetSizes;
  /** The number of labelled images, if the notebook trains with labels (named in the data line). */
  labels?: number;
  display: HtmlDisplay;
  /** Where text goes (default console.log). */
  log?: (line: string) => void;
}

export interface NotebookSession {
  data: Dataset;
  /** Prints one epoch's line: pass it as trainCached's onEpoch. */
  printEpoch: (entry: EpochRecord, record: RunRecord) => void;
  /** Prints a run's result; a run loaded from the cache first replays its recorded epochs. */
  report: (run: CachedRun) => void;
  /** Renders a Vega-Lite spec and shows it as a figure with an id and a caption. */
  show: (id: string, caption: string, spec: TopLevelSpec) => Promise<void>;
}

/** Loads the backend and the data, prints what was loaded, and returns the notebook's helpers. */
export async function openNotebook(options: NotebookOptions): Promise<NotebookSession> {
  const log = options.log ?? ((line: string) => console.log(line));
  await initBackend();
  const full = loadDataset();
  const data = options.subset ? subsetDataset(full, options.subset) : full;
  const labelled = options.labels === undefined ? '' : ` (${options.labels} of them labelled)`;
  log(`${data.name}: ${data.train.count} training images${labelled}, ${data.validation.count} validation, ${data.test.count} test`);
  const printEpoch = (entry: EpochRecord, record: RunRecord) => log(epochLine(entry, record.config.epochs));
  return {
    data,
    printEpoch,
    report: (run) => {
      if (run.fromCache) {
        log("the run's recorded epochs:");
        run.record.epochs.forEach((entry) => printEpoch(entry, run.record));
      }
      log(resultLine(run.record));
    },
    show: async (id, caption, spec) => options.display.html(figureHtml(id, caption, await renderSvg(spec))),
  };
}
