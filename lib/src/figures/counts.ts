/** Bar charts of counts per digit: the images of each split, or predicted against true classes. */
import { VEGA_LITE_SCHEMA, WIDE_LEGEND, type ChartOptions, type TopLevelSpec } from './vega';

export interface DigitCountsOptions extends ChartOptions {
  /** Title of the colour legend, which names the groups (default "Images"). */
  legendTitle?: string;
}

/**
 * Grouped bars: for each digit, one bar per group (e.g. per split, or "true digit" beside
 * "predicted by q(y|x)"), the groups side by side in the order given.
 */
export function digitCountsSpec(countsByGroup: Record<string, number[]>, options: DigitCountsOptions = {}): TopLevelSpec {
  const groups = Object.keys(countsByGroup);
  const values = Object.entries(countsByGroup).flatMap(([group, counts]) =>
    counts.map((count, digit) => ({ digit: String(digit), count, group })),
  );
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: options.title ?? 'Images per digit',
    width: options.width ?? 360,
    height: options.height ?? 200,
    data: { values },
    mark: 'bar',
    encoding: {
      x: { field: 'digit', type: 'nominal', title: 'Digit', axis: { labelAngle: 0 } },
      xOffset: { field: 'group', sort: groups },
      y: { field: 'count', type: 'quantitative', title: 'Number of images' },
      color: { field: 'group', type: 'nominal', title: options.legendTitle ?? 'Images', sort: groups, legend: WIDE_LEGEND },
    },
  };
}
