import { readFileSync } from 'fs';
import { join } from 'path';

/**
 * The entry scripts and the modules they source from the config dir, shipped to the pods in the
 * ConfigMap under these keys (README.md beside this file maps them).
 */
export const SCRIPT_FILES = [
  'common.sh', 'auth.sh', 'discovery.sh', 'founding.sh', 'follow.sh', 'sentinel.sh', 'janitor.sh', 'handover.sh', // modules
  'entrypoint.sh', 'prestop.sh', 'probe.sh', 'cli.sh', // what containers, hooks, probes and the launch script run
] as const;
export type ScriptFile = typeof SCRIPT_FILES[number];

let loaded: Readonly<Record<ScriptFile, string>> | undefined;

/**
 * The entry scripts' text. They are real `.sh` files beside this module (copied next to the
 * compiled JavaScript by the build), so they can be linted and run outside Kubernetes too.
 */
export function entryScripts(): Readonly<Record<ScriptFile, string>> {
  if (!loaded) {
    const texts = {} as Record<ScriptFile, string>;
    for (const file of SCRIPT_FILES) texts[file] = readFileSync(join(__dirname, file), 'utf8');
    loaded = texts;
  }
  return loaded;
}

/** Where the scripts live on disk, for tests that lint or run them. */
export const SCRIPTS_DIR = __dirname;
