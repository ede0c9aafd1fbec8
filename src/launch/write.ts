// Launch files beside an app's own synth output: after `app.synth()`, writeLaunch(app) writes a launch
// script and step list for every RedisSentinel in the app. It reads nothing from disk and never
// deletes, rewrites or reorders a manifest: the manifests are what cdk8s wrote.
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'fs';
import { join, relative } from 'path';
import { App, Chart, Names, YamlOutputType } from 'cdk8s';
import { RedisSentinel } from '../redis-sentinel';
import { launchPlan, LaunchPlan } from './plan';
import { renderLaunchScript, renderStepsJson, renderStepsMarkdown } from './render';

/** The launch files' folder inside the synth output (`kubectl apply -f dist` does not descend into it). */
export const LAUNCH_DIR = 'launch';

/** What writeLaunch wrote for one instance. */
export interface WrittenLaunch {
  /** The instance's construct path. */
  readonly path: string;
  readonly plan: LaunchPlan;
  /** The folder of its launch files, relative to the synth output folder. */
  readonly folder: string;
  /** The files written, relative to the synth output folder. */
  readonly files: readonly string[];
}

/**
 * Writes the launch files of every RedisSentinel in the app into `<outdir>/launch/` (one instance)
 * or `<outdir>/launch/<instance>/` (several; `<namespace>-<instance>` when a name repeats). Call it
 * after `app.synth()`: the launch script applies the chart files that synth wrote.
 */
export function writeLaunch(app: App): WrittenLaunch[] {
  const instances = app.node.findAll().filter((c): c is RedisSentinel => c instanceof RedisSentinel);
  const chartFiles = chartFileNames(app);
  const repeated = new Set(instances.map((r) => r.settings.names.instance).filter((n, i, all) => all.indexOf(n) !== i));
  const written: WrittenLaunch[] = [];
  for (const redis of instances) {
    const n = redis.settings.names.instance;
    const folder = instances.length === 1 ? LAUNCH_DIR : join(LAUNCH_DIR, repeated.has(n) ? `${redis.settings.namespace ?? 'default'}-${n}` : n);
    const manifest = chartFiles.get(Chart.of(redis));
    if (!manifest) throw new Error(`writeLaunch: no manifest file for chart ${Chart.of(redis).node.path}`);
    if (!existsSync(join(app.outdir, manifest))) {
      throw new Error(`writeLaunch: ${join(app.outdir, manifest)} does not exist: call app.synth() before writeLaunch(app)`);
    }
    const plan = launchPlan(redis.settings, [{ file: manifest }], { manifestDir: relative(folder, '.') });
    mkdirSync(join(app.outdir, folder), { recursive: true });
    const files: string[] = [];
    const write = (file: string, text: string, mode = 0o644) => {
      const at = join(app.outdir, folder, file);
      writeFileSync(at, text);
      chmodSync(at, mode);
      files.push(join(folder, file));
    };
    write('launch.sh', renderLaunchScript(plan), 0o755);
    write('steps.json', renderStepsJson(plan));
    write('steps.md', renderStepsMarkdown(plan));
    written.push({ path: redis.node.path, plan, folder, files });
  }
  return written;
}

/**
 * The file each chart is written to, named as cdk8s names them: `<chart>.k8s.yaml`, or
 * `NNNN-<chart>.k8s.yaml` in dependency order once any chart depends on another (`app.synth()` has
 * turned every cross-chart dependency into a chart dependency by then); one `app.k8s.yaml` per app.
 */
function chartFileNames(app: App): Map<Chart, string> {
  const charts = app.charts;
  const ext = app.outputFileExtension;
  if (app.yamlOutputType === YamlOutputType.FILE_PER_APP) return new Map(charts.map((c) => [c, `app${ext}`]));
  if (app.yamlOutputType !== YamlOutputType.FILE_PER_CHART) {
    throw new Error('writeLaunch: the launch script applies one file per chart (YamlOutputType.FILE_PER_CHART, the default) or per app (FILE_PER_APP)');
  }
  const indexed = charts.some((c) => c.node.dependencies.some((d) => Chart.isChart(d)) || c.node.children.some((d) => Chart.isChart(d)));
  return new Map(charts.map((c, i) => [c, `${indexed ? `${String(i).padStart(4, '0')}-` : ''}${Names.toDnsLabel(c)}${ext}`]));
}
