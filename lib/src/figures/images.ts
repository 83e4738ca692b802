/** Digit images as PNG grids (encoded by TensorFlow's native PNG encoder). */
import { tf, tfNode } from '../core/backend';

/** Ink level of the lines between images: a light grey once inverted to dark-on-white. */
const GRID_LINE = 0.2;

export interface GridOptions {
  /** Images per row (default: as square as possible). */
  columns?: number;
  /** Pixels between images (default 2). */
  padding?: number;
  /** Integer upscaling factor for readability (default 2). */
  scale?: number;
}

/**
 * Lays out `count × (height·width)` images with values in [0, 1] as a grid and encodes it as a
 * PNG. Accepts a tensor or a flat Float32Array.
 */
export async function digitGridPng(
  images: tf.Tensor | Float32Array,
  imageShape: [number, number],
  options: GridOptions = {},
): Promise<Uint8Array> {
  const [h, w] = imageShape;
  const grid = tf.tidy(() => {
    const flat = images instanceof tf.Tensor ? images : tf.tensor2d(images, [images.length / (h * w), h * w]);
    const [count = 0] = flat.shape;
    const columns = options.columns ?? Math.ceil(Math.sqrt(count));
    const rows = Math.ceil(count / columns);
    const pad = options.padding ?? 2;
    const scale = options.scale ?? 2;
    // [count, h, w] padded with blank images up to rows × columns, and a border round each.
    let cells = flat.reshape([count, h, w]);
    if (rows * columns > count) cells = cells.concat(tf.zeros([rows * columns - count, h, w]));
    cells = cells.pad(
      [
        [0, 0],
        [pad, 0],
        [pad, 0],
      ],
      GRID_LINE,
    );
    const ph = h + pad;
    const pw = w + pad;
    // [rows, columns, ph, pw] -> [rows, ph, columns, pw] -> one image
    let picture = cells
      .reshape([rows, columns, ph, pw])
      .transpose([0, 2, 1, 3])
      .reshape([rows * ph, columns * pw]);
    picture = picture.pad(
      [
        [0, pad],
        [0, pad],
      ],
      GRID_LINE,
    );
    if (scale > 1) {
      const [height = 0, width = 0] = picture.shape;
      picture = tf.image.resizeNearestNeighbor(picture.expandDims(2) as tf.Tensor3D, [height * scale, width * scale]).squeeze([2]);
    }
    // Dark digits on white paper read better on a handout than MNIST's white on black.
    return tf.sub(1, picture.clipByValue(0, 1)).mul(255).round().expandDims(2).toInt() as tf.Tensor3D;
  });
  try {
    return await tfNode().encodePng(grid);
  } finally {
    grid.dispose();
  }
}
