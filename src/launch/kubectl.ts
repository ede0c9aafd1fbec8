// The one place that writes kubectl command lines for the launch: the launch script runs these words,
// and the step list and the hints show them.
import type { LaunchAction } from './plan';

/** A manifest file argument: the script puts its folder in front, the step list shows the name. */
export interface ManifestArg {
  readonly manifest: string;
}

/**
 * The kubectl words (after `kubectl` and its namespace flag) of an action that runs kubectl, or
 * undefined for the others.
 */
export function actionKubectlArgs(a: LaunchAction): Array<string | ManifestArg> | undefined {
  switch (a.type) {
    case 'apply': return ['apply', '-f', { manifest: a.file }];
    case 'scale': return ['scale', 'rc', a.controller, `--replicas=${a.replicas}`];
    case 'delete-pod': return ['delete', 'pod', a.pod, '--ignore-not-found', '--wait=true', `--timeout=${a.timeoutSeconds}s`];
    case 'wait':
    case 'report':
      return undefined;
  }
}

/** A kubectl command line for people to read or paste: `kubectl [-n NS] ARGS...`. */
export function kubectlText(args: ReadonlyArray<string | ManifestArg>, namespace?: string): string {
  const words = args.map((x) => (typeof x === 'string' ? x : x.manifest));
  return ['kubectl', ...(namespace ? ['-n', namespace] : []), ...words].join(' ');
}
