/** Small array helpers that keep index arithmetic (and its unchecked reads) out of the rest of the code. */

/** [a[0], b[0]], [a[1], b[1]], …; an error if the lengths differ. */
export function zip<A, B>(a: readonly A[], b: readonly B[]): [A, B][] {
  if (a.length !== b.length) throw new Error(`zip: ${a.length} items against ${b.length}`);
  return a.map((x, i) => [x, b[i] as B]);
}
