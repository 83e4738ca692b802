/**
 * Run profiles. `SSVAE_PROFILE=smoke` shrinks every experiment to a few steps on small subsets
 * (CI checks that everything runs); the default profile is what a student runs.
 */
export type Profile = 'default' | 'smoke';

export function currentProfile(): Profile {
  const value = process.env.SSVAE_PROFILE;
  if (value === undefined || value === '' || value === 'default') return 'default';
  if (value === 'smoke') return 'smoke';
  throw new Error(`SSVAE_PROFILE must be "smoke" or "default", got "${value}"`);
}

/** Picks the value for the current profile: `byProfile({ default: 50, smoke: 1 })`. */
export function byProfile<T>(values: Record<Profile, T>): T {
  return values[currentProfile()];
}
