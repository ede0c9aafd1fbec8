import { join } from 'path';
import { App, Chart } from 'cdk8s';
import { writeLaunch, WrittenLaunch } from './launch/write';
import { RedisSentinelProps, RedisSentinelStatefulSetProps } from './props';
import { RedisSentinel } from './redis-sentinel';
import { RedisSentinelStatefulSet } from './statefulset/redis-sentinel-stateful-set';

/** The StatefulSet topology's folder inside the ready app's output: `kubectl apply -f dist` does not descend into it. */
export const STATEFUL_SET_DIR = 'statefulset';

/** The seed tutorial as a cdk8s app: one RedisSentinel with the classic example's names. */
export function buildApp(props: RedisSentinelProps = {}, outdir?: string): { app: App; chart: Chart; redis: RedisSentinel } {
  const app = new App(outdir === undefined ? {} : { outdir });
  const chart = new Chart(app, 'redis-sentinel');
  const redis = new RedisSentinel(chart, 'Redis', props);
  return { app, chart, redis };
}

/**
 * The production topology as a cdk8s app: one RedisSentinelStatefulSet named `redis-ha`, so that its
 * objects do not collide with the classic ones in the same namespace.
 */
export function buildStatefulSetApp(props: RedisSentinelStatefulSetProps = {}, outdir?: string): { app: App; chart: Chart; redis: RedisSentinelStatefulSet } {
  const app = new App(outdir === undefined ? {} : { outdir });
  const chart = new Chart(app, 'redis-ha');
  const redis = new RedisSentinelStatefulSet(chart, 'Redis', { name: 'redis-ha', ...props });
  return { app, chart, redis };
}

/**
 * `npm run synth` and `cdk8s synth`: the classic app's own synth into its outdir (`dist`, or
 * $CDK8S_OUTDIR as the cdk8s CLI sets it), the launch files beside it, and the StatefulSet app into
 * `<outdir>/statefulset/`.
 */
export function main(outdir?: string): { app: App; launch: WrittenLaunch[]; statefulSet: App } {
  const { app } = buildApp({}, outdir);
  app.synth();
  const { app: statefulSet } = buildStatefulSetApp({}, join(app.outdir, STATEFUL_SET_DIR));
  statefulSet.synth();
  return { app, launch: writeLaunch(app), statefulSet };
}

if (require.main === module) {
  const { app, launch, statefulSet } = main();
  process.stdout.write(`synthesized ${app.outdir} and ${statefulSet.outdir}; launch files: ${launch.flatMap((l) => l.files).join(', ')}\n`);
}
