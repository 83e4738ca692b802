/** Stable text and short hashes of settings: equal settings always give the same key. */
import * as crypto from 'node:crypto';

/** JSON with object keys sorted, so that equal settings always give the same text. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** A short hash of a configuration (12 hex digits of SHA-256): any change of setting gives another one. */
export function configHash(config: object): string {
  return crypto.createHash('sha256').update(stableJson(config)).digest('hex').slice(0, 12);
}
