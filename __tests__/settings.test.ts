import { Duration, Size } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-28';
import { RedisSentinelPropError, RedisSentinelProps, resolveSettings } from '../src';

describe('resolveSettings', () => {
  test('defaults are the seed\'s names and our timings', () => {
    const s = resolveSettings({});
    expect(s.names).toEqual({
      instance: 'redis',
      configMap: 'redis-config',
      bootstrapPod: 'redis-master',
      sentinelService: 'redis-sentinel',
      redisController: 'redis',
      sentinelController: 'redis-sentinel',
    });
    expect(s.labels.bootstrapPod).toEqual({ 'name': 'redis', 'redis-sentinel': 'true', 'role': 'master' });
    expect(s.labels.sentinelPod).toEqual({ 'name': 'redis-sentinel', 'redis-sentinel': 'true', 'role': 'sentinel' });
    expect(s.labels.sentinelService).toEqual({ name: 'sentinel', role: 'service' });
    expect(s).toMatchObject({
      image: 'redis:7.2.5', redisReplicas: 3, sentinelReplicas: 3, masterName: 'mymaster', quorum: 2,
      downAfterMs: 5000, failoverTimeoutMs: 15000, parallelSyncs: 1, minReplicasToWrite: 1,
      redisPort: 6379, sentinelPort: 26379, discoveryTimeoutSeconds: 120,
    });
    expect(s.redisResources).toEqual({ limits: { cpu: '1' } });
    expect(s.sentinelResources).toEqual({});
    expect(s.namespace).toBeUndefined();
  });

  test('a second instance derives every name and selector from its name', () => {
    const s = resolveSettings({ name: 'cache' });
    expect(Object.values(s.names)).toEqual(['cache', 'cache-config', 'cache-master', 'cache-sentinel', 'cache', 'cache-sentinel']);
    expect(s.labels.redisSelector).toEqual({ name: 'cache' });
    expect(s.labels.sentinelSelector).toEqual({ 'cache-sentinel': 'true' });
  });

  test('the seed\'s 60 s / 180 s timings are one prop change away', () => {
    const s = resolveSettings({ downAfter: Duration.seconds(60), failoverTimeout: Duration.seconds(180) });
    expect([s.downAfterMs, s.failoverTimeoutMs]).toEqual([60000, 180000]);
  });

  test('resources become Kubernetes quantities', () => {
    const s = resolveSettings({
      redisResources: { cpu: { request: Cpu.millis(100), limit: Cpu.units(1) }, memory: { request: Size.mebibytes(64), limit: Size.gibibytes(1) } },
    });
    expect(s.redisResources).toEqual({ limits: { cpu: '1', memory: '1024Mi' }, requests: { cpu: '100m', memory: '64Mi' } });
  });

  test('the containers keep the seed\'s names, which the launch script also uses', () => {
    expect(resolveSettings({ name: 'cache' }).containers).toEqual({ bootstrapRedis: 'master', redis: 'redis', sentinel: 'sentinel' });
  });

  // Each bad prop: the message names the prop, shows the value and gives the fix.
  const bad: Array<[string, RedisSentinelProps, RegExp]> = [
    ['quorum 0', { quorum: 0 }, /prop 'quorum' = 0: .*from 1 to sentinelReplicas - 1 \(2\).*Fix: set quorum to 2/],
    ['quorum above the sentinel count', { quorum: 4 }, /prop 'quorum' = 4: .*Fix: set quorum to 2 \(a majority of 3\)/],
    ['quorum equal to the sentinel count', { quorum: 3 }, /prop 'quorum' = 3: .*bootstrap pod's sentinel leaves with it/],
    ['quorum not whole', { quorum: 1.5 }, /prop 'quorum' = 1.5/],
    ['redis replicas 0', { redisReplicas: 0 }, /prop 'redisReplicas' = 0: it must be a whole number of at least 2.*Fix: set redisReplicas to 2 or more/],
    ['redis replicas 1', { redisReplicas: 1, minReplicasToWrite: 0 }, /prop 'redisReplicas' = 1: .*replica to promote/],
    ['sentinel replicas 0', { sentinelReplicas: 0 }, /prop 'sentinelReplicas' = 0: it must be a whole number of at least 3/],
    ['sentinel replicas 2', { sentinelReplicas: 2, quorum: 1 }, /prop 'sentinelReplicas' = 2: .*majority/],
    ['failover timeout equal to down-after', { downAfter: Duration.seconds(10), failoverTimeout: Duration.seconds(10) },
      /prop 'failoverTimeout' = Duration\(10000 ms\): it must be longer than downAfter \(10000 ms\).*Fix: set failoverTimeout to at least three times downAfter, e.g. Duration.millis\(30000\)/],
    ['failover timeout below down-after', { downAfter: Duration.seconds(60) }, /prop 'failoverTimeout' = Duration\(15000 ms\): it must be longer than downAfter \(60000 ms\)/],
    ['down-after below a second', { downAfter: Duration.millis(500) }, /prop 'downAfter' = Duration\(500 ms\): Sentinel pings once a second/],
    ['down-after as a number', { downAfter: 5000 as unknown as Duration }, /prop 'downAfter' = 5000: durations are cdk8s Duration values/],
    ['name with capitals', { name: 'Redis' }, /prop 'name' = "Redis": .*DNS label.*Fix: use a name such as 'redis' or 'cache'/],
    ['name with an underscore', { name: 'my_redis' }, /prop 'name' = "my_redis"/],
    ['name starting with a digit', { name: '1redis' }, /prop 'name' = "1redis"/],
    ['name too long for its derived names', { name: 'r'.repeat(55) }, /prop 'name' = "r{55}": .*at most 54 characters/],
    ['empty name', { name: '' }, /prop 'name' = "": /],
    ['namespace not a DNS label', { namespace: 'Prod.NS' }, /prop 'namespace' = "Prod.NS": a namespace must be a DNS label/],
    ['empty image', { image: '' }, /prop 'image' = "": every container needs an image.*Fix: set image to a pinned Redis image/],
    ['blank image', { image: '   ' }, /prop 'image' = "   ": every container needs an image/],
    ['unpinned image', { image: 'redis' }, /prop 'image' = "redis": the image must be pinned.*Fix: add a version tag, e.g. 'redis:7.2.5'/],
    ['latest image', { image: 'redis:latest' }, /prop 'image' = "redis:latest": the image must be pinned/],
    ['registry port is not a tag', { image: 'registry.local:5000/redis' }, /prop 'image' = "registry.local:5000\/redis": the image must be pinned/],
    ['image with a space', { image: 'redis: 7' }, /prop 'image' = "redis: 7": an image reference has no white space/],
    ['master name with a space', { masterName: 'my master' }, /prop 'masterName' = "my master": a master name may hold only/],
    ['parallel syncs 0', { parallelSyncs: 0 }, /prop 'parallelSyncs' = 0: it must be a whole number of at least 1/],
    ['min replicas to write above the replicas', { minReplicasToWrite: 3 }, /prop 'minReplicasToWrite' = 3: it must be a whole number from 0 to redisReplicas - 1 \(2\)/],
    ['negative min replicas to write', { minReplicasToWrite: -1 }, /prop 'minReplicasToWrite' = -1/],
    ['same ports', { sentinelPort: 6379 }, /prop 'sentinelPort' = 6379: Redis and Sentinel share the bootstrap pod's network/],
    ['port out of range', { redisPort: 70000 }, /prop 'redisPort' = 70000: a port is a whole number from 1 to 65535/],
    ['discovery timeout too short', { discoveryTimeout: Duration.seconds(1) }, /prop 'discoveryTimeout' = Duration\(1000 ms\)/],
    ['cpu request above its limit', { redisResources: { cpu: { request: Cpu.units(2), limit: Cpu.millis(500) } } },
      /prop 'redisResources.cpu' = \{"request":"2","limit":"500m"\}: a request above its limit/],
    ['memory request above its limit', { sentinelResources: { memory: { request: Size.gibibytes(1), limit: Size.mebibytes(64) } } },
      /prop 'sentinelResources.memory' = \{"request":"1024Mi","limit":"64Mi"\}/],
  ];
  test.each(bad)('rejects %s', (_what, props, message) => {
    expect(() => resolveSettings(props)).toThrow(RedisSentinelPropError);
    expect(() => resolveSettings(props)).toThrow(message);
  });

  test('accepts a digest-pinned image and a registry with a port and a tag', () => {
    expect(resolveSettings({ image: `redis@sha256:${'a'.repeat(64)}` }).image).toContain('@sha256:');
    expect(resolveSettings({ image: 'registry.local:5000/redis:7.2.5' }).image).toBe('registry.local:5000/redis:7.2.5');
  });
});
