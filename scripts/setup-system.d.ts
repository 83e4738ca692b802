/** Types of scripts/setup-system.js, for the TypeScript that requires it (test/browser.ts, its test). */

/** What planSystemSetup may ask about the machine; systemProbe() is the real one. */
export interface SystemProbe {
  /** The environment (SSVAE_CHROMIUM, SSVAE_SKIP_BROWSER_TESTS, SSVAE_SKIP_NOTEBOOK_TESTS). */
  env: Record<string, string | undefined>;
  /** Whether a file exists and may be executed. */
  isExecutable(file: string): boolean;
  /** The path of a command on PATH, or null. */
  which(command: string): string | null;
  /** Whether this process runs as root. */
  root: boolean;
  /** Whether `sudo -n true` succeeds; asked only when an install needs it. */
  sudoWorks(): boolean;
}

/** What to do: nothing, run apt-get (then plan again), or stop with a message. */
export type SystemPlan =
  | { kind: 'ready'; chromium: string | null; parallel: string }
  | { kind: 'install'; packages: string[]; commands: string[][]; missing: string[] }
  | { kind: 'fail'; message: string };

export class SetupSystemError extends Error {}

/** Decides what to do from what the probe reports; pure. */
export function planSystemSetup(probe: SystemProbe): SystemPlan;
/** SSVAE_CHROMIUM (a SetupSystemError if it is not executable), /usr/bin/chromium, or a Chromium on PATH; null if none. */
export function resolveChromium(probe?: SystemProbe): string | null;
/** Installs what is missing; throws a SetupSystemError saying what to do when it cannot. */
export function setupSystem(probe?: SystemProbe): { chromium: string | null; parallel: string };
/** The probe of this machine. */
export function systemProbe(): SystemProbe;
/** Finds a command in the directories of PATH (default process.env.PATH); null if absent. */
export function which(command: string, envPath?: string): string | null;

export const DEBIAN_CHROMIUM: string;
export const CHROMIUM_COMMANDS: readonly string[];
export const APT_PACKAGES: { chromium: string[]; parallel: string[] };
