import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'fs';
import { join, resolve, sep } from 'path';
import { Chart, Yaml } from 'cdk8s';
import { RedisSentinel } from '../redis-sentinel';
import { launchPlan, LaunchPlan } from './plan';
import { renderLaunchScript, renderStepsJson, renderStepsMarkdown } from './render';
import { launchStages, Stage } from './stages';

/** The launch sequence's folder inside dist/ (kubectl apply -f dist does not descend into it). */
export const LAUNCH_DIR = 'launch';

export interface WrittenDist {
  readonly stages: readonly Stage[];
  readonly plan: LaunchPlan;
  /** Every file written, relative to the output folder. */
  readonly files: readonly string[];
}

/**
 * Writes dist/: the ordered manifest files of one RedisSentinel and its launch sequence. The folder
 * is emptied first (cdk8s' own synth leaves stale files behind), so it must lie inside the working
 * directory.
 */
export function writeDist(outdir: string, redis: RedisSentinel): WrittenDist {
  const target = resolve(outdir);
  if (!target.startsWith(process.cwd() + sep)) {
    throw new Error(`refusing to empty ${target}: the output folder must lie inside the working directory ${process.cwd()}`);
  }
  // Validates the whole app (node.addValidation included) and resolves every object.
  const docs: any[] = Chart.of(redis).toJson();
  const byKey = new Map(docs.map((d) => [key(d.kind, d.metadata?.namespace, d.metadata?.name), d]));

  const stages = launchStages(redis);
  const plan = launchPlan(redis.settings, stages);
  rmSync(target, { recursive: true, force: true });
  mkdirSync(join(target, LAUNCH_DIR), { recursive: true });
  const files: string[] = [];
  const write = (file: string, text: string, mode = 0o644) => {
    writeFileSync(join(target, file), text);
    chmodSync(join(target, file), mode);
    files.push(file);
  };
  for (const stage of stages) {
    const objects = stage.objects.map((o) => {
      const doc = byKey.get(key(o.kind, o.metadata.namespace, o.name));
      if (!doc) throw new Error(`${o.kind}/${o.name} is not in chart ${Chart.of(redis).node.path}`);
      return doc;
    });
    write(stage.file, Yaml.stringify(...objects));
  }
  write(join(LAUNCH_DIR, 'launch.sh'), renderLaunchScript(plan), 0o755);
  write(join(LAUNCH_DIR, 'steps.json'), renderStepsJson(plan));
  write(join(LAUNCH_DIR, 'steps.md'), renderStepsMarkdown(plan));
  return { stages, plan, files };
}

function key(kind: string, namespace: string | undefined, name: string | undefined): string {
  return `${kind}/${namespace ?? ''}/${name ?? ''}`;
}
