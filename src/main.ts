import { App, Chart } from 'cdk8s';
import { writeLaunch, WrittenLaunch } from './launch/write';
import { RedisSentinelProps } from './props';
import { RedisSentinel } from './redis-sentinel';

/** The seed tutorial as a cdk8s app: one RedisSentinel with the classic example's names. */
export function buildApp(props: RedisSentinelProps = {}, outdir?: string): { app: App; chart: Chart; redis: RedisSentinel } {
  const app = new App(outdir === undefined ? {} : { outdir });
  const chart = new Chart(app, 'redis-sentinel');
  const redis = new RedisSentinel(chart, 'Redis', props);
  return { app, chart, redis };
}

/**
 * `npm run synth` and `cdk8s synth`: the app's own synth into its outdir (`dist`, or $CDK8S_OUTDIR as
 * the cdk8s CLI sets it), then the launch files beside it.
 */
export function main(outdir?: string): { app: App; launch: WrittenLaunch[] } {
  const { app } = buildApp({}, outdir);
  app.synth();
  return { app, launch: writeLaunch(app) };
}

if (require.main === module) {
  const { app, launch } = main();
  process.stdout.write(`synthesized ${app.outdir}; launch files: ${launch.flatMap((l) => l.files).join(', ')}\n`);
}
