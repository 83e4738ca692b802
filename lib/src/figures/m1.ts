/** M1's code z₁: how much each dimension's mean varies over the images, and which are kept as features. */
import { horizontalRuleLayer, VEGA_LITE_SCHEMA, WIDE_LEGEND, type ChartOptions, type TopLevelSpec } from './vega';

/**
 * One bar per dimension of z₁, tallest first: the standard deviation of μ(x) over the images,
 * coloured by whether it exceeds `threshold` (a kept dimension) or not, with the threshold as a rule.
 */
export function dimensionSpreadSpec(spreads: number[], threshold: number, options: ChartOptions = {}): TopLevelSpec {
  const values = spreads
    .map((spread, dimension) => ({ dimension, spread, kept: spread > threshold ? 'kept' : 'dropped' }))
    .sort((a, b) => b.spread - a.spread)
    .map((d, rank) => ({ ...d, rank: rank + 1 }));
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: options.title ?? 'Spread of each dimension of z₁ over the images',
    width: options.width ?? 480,
    height: options.height ?? 200,
    layer: [
      {
        data: { values },
        mark: 'bar',
        encoding: {
          x: { field: 'rank', type: 'ordinal', title: 'Dimensions of z₁, by spread', axis: { labels: false, ticks: false } },
          y: { field: 'spread', type: 'quantitative', title: 'Standard deviation of μ(x)' },
          color: { field: 'kept', type: 'nominal', title: 'Dimension', sort: ['kept', 'dropped'], legend: WIDE_LEGEND },
          tooltip: [{ field: 'dimension' }, { field: 'spread', format: '.3f' }],
        },
      },
      horizontalRuleLayer(threshold),
    ],
  };
}
