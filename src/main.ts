import { App, Chart } from 'cdk8s';
import { writeDist, WrittenDist } from './launch/write';
import { RedisSentinel } from './redis-sentinel';
import { RedisSentinelProps } from './props';

/** The seed tutorial as a cdk8s app: one RedisSentinel with the classic example's names. */
export function buildApp(props: RedisSentinelProps = {}): { app: App; chart: Chart; redis: RedisSentinel } {
  const app = new App();
  const chart = new Chart(app, 'redis-sentinel');
  const redis = new RedisSentinel(chart, 'Redis', props);
  return { app, chart, redis };
}

/** `npm run synth`: writes dist/ (or $CDK8S_OUTDIR, as the cdk8s CLI sets it). */
export function main(outdir = process.env.CDK8S_OUTDIR ?? 'dist'): WrittenDist {
  return writeDist(outdir, buildApp().redis);
}

if (require.main === module) {
  const written = main();
  process.stdout.write(`wrote ${written.files.length} files: ${written.files.join(', ')}\n`);
}
