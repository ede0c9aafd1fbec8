// The one place that writes kubectl command lines for the launch: the launch script runs these words,
// and the step list and the hints show them.
import type { LaunchAction } from './plan';

/** A manifest file argument: the script puts the manifest folder in front, the step list shows the name. */
export interface ManifestArg {
  readonly manifest: string;
}

/**
 * A file of fresh random bytes that the script makes just for this call and removes after it,
 * written after `prefix` in one word (`--from-file=KEY=<file>`); the step list shows a placeholder.
 */
export interface RandomFileArg {
  readonly prefix: string;
  readonly randomFile: string;
}

export type KubectlArg = string | ManifestArg | RandomFileArg;

/**
 * The kubectl words (after `kubectl` and its namespace flag) of an action that runs kubectl, or
 * undefined for the others.
 */
export function actionKubectlArgs(a: LaunchAction): KubectlArg[] | undefined {
  switch (a.type) {
    case 'create-secret':
      return ['create', 'secret', 'generic', a.secret, ...a.keys.map((k) => ({ prefix: `--from-file=${k}=`, randomFile: k }))];
    case 'apply': return ['apply', '-f', { manifest: a.file }, '-l', a.selector];
    case 'scale': return ['scale', 'rc', a.controller, `--replicas=${a.replicas}`];
    case 'delete-pod': return ['delete', 'pod', a.pod, '--ignore-not-found', '--wait=true', `--timeout=${a.timeoutSeconds}s`];
    case 'start-afresh': return ['delete', 'rc', ...a.controllers, '--ignore-not-found', '--wait=true', `--timeout=${a.timeoutSeconds}s`];
    case 'wait':
    case 'survey':
    case 'report':
      return undefined;
  }
}

/** A kubectl command line for people to read or paste: `kubectl [-n NS] ARGS...`. */
export function kubectlText(args: readonly KubectlArg[], namespace?: string): string {
  const words = args.map((x) => {
    if (typeof x === 'string') return x;
    if ('manifest' in x) return x.manifest;
    return `${x.prefix}<${RANDOM_BYTES} random bytes>`;
  });
  return ['kubectl', ...(namespace ? ['-n', namespace] : []), ...words].join(' ');
}

/** How many bytes from the kernel's CSPRNG each generated password holds (as hex). */
export const RANDOM_BYTES = 32;
