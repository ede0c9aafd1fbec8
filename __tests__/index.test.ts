// The public API: what src/index.ts exports, and that the package's compiled entry point (built by
// `npm ci` through the prepare script) exports the same.
import { existsSync } from 'fs';
import { join } from 'path';
import * as api from '../src';

const EXPECTED = [
  'DEFAULTS', 'PodAntiAffinity', 'RedisController', 'RedisDisruptionBudget', 'RedisHeadlessService', 'RedisMasterPod', 'RedisSentinel',
  'RedisSentinelConfig', 'RedisSentinelNetworkPolicy', 'RedisSentinelPropError', 'RedisSentinelStatefulSet', 'RedisStatefulSet',
  'SentinelController', 'SentinelDisruptionBudget', 'SentinelPlacement', 'SentinelService', 'SentinelStatefulSet', 'VolumeRetention',
  'launchPlan', 'renderLaunchScript', 'renderStepsJson', 'renderStepsMarkdown', 'resolveSettings', 'resolveStatefulSetSettings', 'writeLaunch',
];

test('src/index.ts exports the constructs, the settings and the launch sequence, and nothing of the k8s L1 surface', () => {
  expect(Object.keys(api).sort()).toEqual(EXPECTED);
});

test('the package entry point is the compiled src/index.ts', () => {
  const pkg = require('../package.json');
  const main = join(__dirname, '..', pkg.main);
  expect(pkg.main).toBe('lib/src/index.js');
  expect(existsSync(main)).toBe(true);
  expect(Object.keys(require(main)).sort()).toEqual(EXPECTED);
  expect(existsSync(join(__dirname, '..', pkg.types))).toBe(true);
});
