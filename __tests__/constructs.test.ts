import { ApiObject, Chart, Duration, Testing } from 'cdk8s';
import { Construct } from 'constructs';
import {
  RedisController, RedisMasterPod, RedisSentinel, RedisSentinelConfig, RedisSentinelPropError, RedisSentinelProps,
  SentinelController, SentinelService,
} from '../src';

type Part = new (scope: Construct, id: string, props?: RedisSentinelProps) => Construct;
const parts: Array<[string, Part]> = [
  ['RedisSentinelConfig', RedisSentinelConfig],
  ['RedisMasterPod', RedisMasterPod],
  ['SentinelService', SentinelService],
  ['RedisController', RedisController],
  ['SentinelController', SentinelController],
];

function synth(build: (chart: Chart) => void): any[] {
  const chart = Testing.chart();
  build(chart);
  return Testing.synth(chart);
}

const find = (docs: any[], kind: string, name: string) => {
  const doc = docs.find((d) => d.kind === kind && d.metadata.name === name);
  if (!doc) throw new Error(`no ${kind}/${name} in ${docs.map((d) => `${d.kind}/${d.metadata.name}`).join(', ')}`);
  return doc;
};
const container = (spec: any, name: string) => spec.containers.find((c: any) => c.name === name);
const env = (c: any) => Object.fromEntries((c.env ?? []).filter((e: any) => 'value' in e).map((e: any) => [e.name, e.value]));
const mounts = (c: any) => Object.fromEntries(c.volumeMounts.map((m: any) => [m.name, m.mountPath]));

describe('part constructs', () => {
  test.each(parts)('%s matches its snapshot', (_name, Part) => {
    expect(synth((chart) => new Part(chart, 'Part'))).toMatchSnapshot();
  });

  test('each part is its Kubernetes object, with no construct in between (a lean tree for cdk8s\' synth)', () => {
    for (const [, Part] of parts) {
      const chart = Testing.chart();
      const part = new Part(chart, 'Part');
      expect(part).toBeInstanceOf(ApiObject);
      expect(part.node.children).toEqual([]);
    }
    const chart = Testing.chart();
    const redis = new RedisSentinel(chart, 'Redis');
    expect(redis.node.children.every((c) => c instanceof ApiObject)).toBe(true);
    expect(redis.node.children).toHaveLength(9);
  });

  test('a controller writes replicas only when asked, and rejects fewer than one', () => {
    expect(find(synth((c) => new RedisController(c, 'R')), 'ReplicationController', 'redis').spec.replicas).toBeUndefined();
    expect(find(synth((c) => new SentinelController(c, 'S', { replicas: 3 })), 'ReplicationController', 'redis-sentinel').spec.replicas).toBe(3);
    expect(() => new RedisController(Testing.chart(), 'R', { replicas: 0 })).toThrow(/Invalid RedisController prop 'replicas' = 0: it must be a whole number from 1 to 2147483647: a controller needs at least one pod/);
    expect(() => new SentinelController(Testing.chart(), 'S', { replicas: 1.5 })).toThrow(/Invalid SentinelController prop 'replicas' = 1.5/);
  });
});

describe('RedisSentinel', () => {
  const defaults = () => synth((chart) => new RedisSentinel(chart, 'Redis'));

  test('with defaults matches its snapshot', () => {
    expect(defaults()).toMatchSnapshot();
  });

  test('with a non-default configuration matches its snapshot', () => {
    expect(synth((chart) => new RedisSentinel(chart, 'Cache', {
      name: 'cache', namespace: 'apps', image: 'redis:7.2.4-alpine', redisReplicas: 5, sentinelReplicas: 5, quorum: 3,
      masterName: 'cachemaster', downAfter: Duration.seconds(60), failoverTimeout: Duration.seconds(180), parallelSyncs: 2,
      redisPort: 7000, sentinelPort: 27000,
    }))).toMatchSnapshot();
  });

  test('exposes the wiring', () => {
    const chart = Testing.chart();
    const plain = new RedisSentinel(chart, 'Redis');
    expect([plain.sentinelHost, plain.sentinelPort, plain.masterName]).toEqual(['redis-sentinel', 26379, 'mymaster']);
    const other = new RedisSentinel(chart, 'Cache', { name: 'cache', namespace: 'apps', sentinelPort: 27000, masterName: 'c' });
    expect([other.sentinelHost, other.sentinelPort, other.masterName]).toEqual(['cache-sentinel.apps.svc', 27000, 'c']);
  });

  // The seed checklist (reference/seed-originals.md §4), item by item.
  describe('is faithful to the seed checklist', () => {
    const docs = defaults();
    const pod = find(docs, 'Pod', 'redis-master');
    const svc = find(docs, 'Service', 'redis-sentinel');
    const redisRc = find(docs, 'ReplicationController', 'redis');
    const sentinelRc = find(docs, 'ReplicationController', 'redis-sentinel');

    test('names: Pod redis-master, Service redis-sentinel, RCs redis and redis-sentinel, apiVersion v1; in the seed\'s order', () => {
      expect(docs.map((d) => `${d.apiVersion} ${d.kind}/${d.metadata.name}`)).toEqual([
        'v1 ConfigMap/redis-config', 'networking.k8s.io/v1 NetworkPolicy/redis',
        'policy/v1 PodDisruptionBudget/redis', 'policy/v1 PodDisruptionBudget/redis-sentinel',
        'v1 Pod/redis-master', 'v1 Service/redis-sentinel', 'v1 Service/redis-headless',
        'v1 ReplicationController/redis', 'v1 ReplicationController/redis-sentinel',
      ]);
    });

    test('containers: master and sentinel (bootstrap pod), redis (redis RC), sentinel (sentinel RC)', () => {
      expect(pod.spec.containers.map((c: any) => c.name)).toEqual(['master', 'sentinel']);
      expect(redisRc.spec.template.spec.containers.map((c: any) => c.name)).toEqual(['redis']);
      expect(sentinelRc.spec.template.spec.containers.map((c: any) => c.name)).toEqual(['sentinel']);
    });

    // The seed's labels, beside the Kubernetes recommended app.kubernetes.io/* ones.
    const seedLabels = (labels: Record<string, string>) => Object.fromEntries(Object.entries(labels).filter(([k]) => !k.startsWith('app.kubernetes.io/')));

    test('labels and selectors', () => {
      expect(seedLabels(pod.metadata.labels)).toEqual({ 'name': 'redis', 'redis-sentinel': 'true', 'role': 'master' });
      expect(redisRc.spec.selector).toEqual({ name: 'redis' });
      expect(seedLabels(redisRc.spec.template.metadata.labels)).toEqual({ name: 'redis' });
      expect(sentinelRc.spec.selector).toEqual({ 'redis-sentinel': 'true' });
      expect(seedLabels(sentinelRc.spec.template.metadata.labels)).toEqual({ 'name': 'redis-sentinel', 'redis-sentinel': 'true', 'role': 'sentinel' });
      expect(seedLabels(svc.metadata.labels)).toEqual({ name: 'sentinel', role: 'service' });
      expect(svc.spec.selector).toEqual({ 'redis-sentinel': 'true' });
    });

    test('every object and pod carries the recommended labels', () => {
      const keys = ['app.kubernetes.io/name', 'app.kubernetes.io/instance', 'app.kubernetes.io/component', 'app.kubernetes.io/part-of', 'app.kubernetes.io/managed-by'];
      for (const labels of [...docs.map((d) => d.metadata.labels), redisRc.spec.template.metadata.labels, sentinelRc.spec.template.metadata.labels]) {
        expect(Object.keys(labels)).toEqual(expect.arrayContaining(keys));
      }
      expect(pod.metadata.labels['app.kubernetes.io/component']).toBe('bootstrap');
    });

    test('the bootstrap pod is in both controllers\' selectors and behind the Service', () => {
      const matches = (selector: Record<string, string>) => Object.entries(selector).every(([k, v]) => pod.metadata.labels[k] === v);
      expect([matches(redisRc.spec.selector), matches(sentinelRc.spec.selector), matches(svc.spec.selector)]).toEqual([true, true, true]);
    });

    test('ports: 6379 for Redis, 26379 for Sentinel, Service 26379 -> 26379', () => {
      expect(container(pod.spec, 'master').ports).toEqual([{ containerPort: 6379 }]);
      expect(container(pod.spec, 'sentinel').ports).toEqual([{ containerPort: 26379 }]);
      expect(container(redisRc.spec.template.spec, 'redis').ports).toEqual([{ containerPort: 6379 }]);
      expect(container(sentinelRc.spec.template.spec, 'sentinel').ports).toEqual([{ containerPort: 26379 }]);
      expect(svc.spec.ports).toEqual([{ port: 26379, targetPort: 26379 }]);
    });

    test('env: MASTER on the bootstrap master only, SENTINEL on every sentinel, no role on the redis RC', () => {
      expect(env(container(pod.spec, 'master'))).toEqual({ MASTER: 'true' });
      expect(env(container(pod.spec, 'sentinel'))).toEqual({ SENTINEL: 'true' });
      expect(env(container(sentinelRc.spec.template.spec, 'sentinel'))).toEqual({ SENTINEL: 'true' });
      expect(env(container(redisRc.spec.template.spec, 'redis'))).toEqual({});
    });

    test('volume: data, emptyDir, at /redis-master-data in master and redis, not in sentinels', () => {
      for (const spec of [pod.spec, redisRc.spec.template.spec]) {
        expect(spec.volumes).toContainEqual({ name: 'data', emptyDir: {} });
      }
      expect(mounts(container(pod.spec, 'master')).data).toBe('/redis-master-data');
      expect(mounts(container(redisRc.spec.template.spec, 'redis')).data).toBe('/redis-master-data');
      expect(mounts(container(pod.spec, 'sentinel')).data).toBeUndefined();
      expect(mounts(container(sentinelRc.spec.template.spec, 'sentinel')).data).toBeUndefined();
    });

    test('resources: a CPU limit of 1 on master and redis only (the Kolla demo\'s value), and memory on every container', () => {
      const redis = { limits: { cpu: '1', memory: '512Mi' }, requests: { cpu: '100m', memory: '512Mi' } };
      expect(container(pod.spec, 'master').resources).toEqual(redis);
      expect(container(redisRc.spec.template.spec, 'redis').resources).toEqual(redis);
      expect(container(pod.spec, 'sentinel').resources).toEqual({ limits: { memory: '64Mi' }, requests: { cpu: '20m', memory: '64Mi' } });
      expect(container(sentinelRc.spec.template.spec, 'sentinel').resources.limits.cpu).toBeUndefined();
    });

    test('replicas: both controllers start at 1 (omitted, so the API server defaults it to 1)', () => {
      expect(redisRc.spec.replicas).toBeUndefined();
      expect(sentinelRc.spec.replicas).toBeUndefined();
    });

    test('sentinel config: mymaster, quorum 2, parallel-syncs 1 (timings are ours, see the README)', () => {
      const conf = find(docs, 'ConfigMap', 'redis-config').data['sentinel.conf'];
      expect(conf).toContain('sentinel monitor mymaster %MASTER_HOST% %MASTER_PORT% 2\n');
      expect(conf).toContain('sentinel parallel-syncs mymaster 1\n');
      expect(conf).toContain('sentinel down-after-milliseconds mymaster 5000\n');
      expect(conf).toContain('sentinel failover-timeout mymaster 15000\n');
    });
  });

  test('the seed\'s 60 s / 180 s timings reach sentinel.conf', () => {
    const docs = synth((chart) => new RedisSentinel(chart, 'Redis', { downAfter: Duration.seconds(60), failoverTimeout: Duration.seconds(180) }));
    const conf = find(docs, 'ConfigMap', 'redis-config').data['sentinel.conf'];
    expect(conf).toContain('sentinel down-after-milliseconds mymaster 60000\n');
    expect(conf).toContain('sentinel failover-timeout mymaster 180000\n');
  });

  test('a second instance in the same namespace shares no name or selector', () => {
    const docs = synth((chart) => {
      new RedisSentinel(chart, 'Redis');
      new RedisSentinel(chart, 'Cache', { name: 'cache' });
    });
    const names = docs.map((d) => `${d.kind}/${d.metadata.name}`);
    expect(new Set(names).size).toBe(names.length);
    const cacheSvc = find(docs, 'Service', 'cache-sentinel');
    expect(cacheSvc.spec.selector).toEqual({ 'cache-sentinel': 'true' });
    expect(find(docs, 'ReplicationController', 'cache').spec.selector).toEqual({ name: 'cache' });
    const cachePod = find(docs, 'Pod', 'cache-master');
    // The default instance's selectors do not pick the cache's bootstrap pod, and the reverse.
    expect(cachePod.metadata.labels).toMatchObject({ 'name': 'cache', 'cache-sentinel': 'true', 'role': 'master', 'app.kubernetes.io/instance': 'cache' });
    expect(find(docs, 'Pod', 'redis-master').metadata.labels['cache-sentinel']).toBeUndefined();
    expect(find(docs, 'ConfigMap', 'cache-config').data['cluster.env']).toContain("SENTINEL_HOST='cache-sentinel'");
    expect(container(cachePod.spec, 'master').volumeMounts).toContainEqual({ name: 'config', mountPath: '/etc/redis-sentinel', readOnly: true });
    expect(cachePod.spec.volumes).toContainEqual({ name: 'config', configMap: { name: 'cache-config' } });
  });

  test('two instances whose names collide are rejected', () => {
    const chart = Testing.chart();
    new RedisSentinel(chart, 'Redis');
    expect(() => new RedisSentinel(chart, 'Again', { name: 'redis' })).toThrow(RedisSentinelPropError);
    expect(() => new RedisSentinel(chart, 'Sentinel', { name: 'redis-sentinel' }))
      .toThrow(/prop 'name' = "redis-sentinel": it collides with the instance 'test\/Redis' \(name 'redis'\) in the same namespace: both claim ReplicationController\/redis-sentinel/);
    // In another namespace the same name is fine.
    expect(() => new RedisSentinel(chart, 'Elsewhere', { name: 'redis', namespace: 'other' })).not.toThrow();
  });

  test('bad props fail at synth time, before any object exists', () => {
    const chart = Testing.chart();
    expect(() => new RedisSentinel(chart, 'Redis', { quorum: 0 })).toThrow(/prop 'quorum' = 0/);
    expect(chart.node.findAll().filter((c) => c instanceof ApiObject)).toEqual([]);
  });
});

describe('cdk8s-plus interplay', () => {
  test('a Deployment can allowTo(redis): egress to every pod of the instance, and ingress on them from the Deployment', () => {
    const plus = require('cdk8s-plus-28');
    const chart = Testing.chart();
    const redis = new RedisSentinel(chart, 'Redis', { namespace: 'apps' });
    const web = new plus.Deployment(chart, 'Web', { metadata: { namespace: 'apps' }, containers: [{ image: 'web:1', portNumber: 8080 }] });
    web.connections.allowTo(redis);
    redis.addConnectionEnv(web.containers[0]);
    const docs = Testing.synth(chart);
    const policies = docs.filter((d) => d.kind === 'NetworkPolicy');
    const instance = { 'app.kubernetes.io/name': 'redis', 'app.kubernetes.io/instance': 'redis' };
    const egress = policies.find((p) => p.spec.policyTypes?.includes('Egress') && p.metadata.name !== 'redis');
    expect(egress.spec.egress[0].to[0].podSelector.matchLabels).toEqual(instance);
    const ingress = policies.find((p) => p.spec.podSelector.matchLabels?.['app.kubernetes.io/instance'] === 'redis' && p.metadata.name !== 'redis');
    expect(ingress.metadata.namespace).toBe('apps');
    const deployment = docs.find((d) => d.kind === 'Deployment');
    expect(ingress.spec.ingress[0].from[0].podSelector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
    const env = deployment.spec.template.spec.containers[0].env;
    expect(env).toEqual([
      { name: 'REDIS_SENTINEL_HOST', value: 'redis-sentinel.apps.svc' },
      { name: 'REDIS_SENTINEL_PORT', value: '26379' },
      { name: 'REDIS_MASTER_NAME', value: 'mymaster' },
      { name: 'REDIS_PASSWORD', valueFrom: { secretKeyRef: { name: 'redis-auth', key: 'client-password' } } },
    ]);
  });

  test('allowFrom(peer) opens both ports to a cdk8s-plus peer in the NetworkPolicy', () => {
    const plus = require('cdk8s-plus-28');
    const chart = Testing.chart();
    const redis = new RedisSentinel(chart, 'Redis');
    redis.allowFrom(plus.Pods.select(chart, 'Jobs', { labels: { team: 'jobs' } }));
    const policy = Testing.synth(chart).find((d) => d.kind === 'NetworkPolicy' && d.metadata.name === 'redis');
    expect(policy.spec.ingress[0].from).toContainEqual({ podSelector: { matchLabels: { team: 'jobs' } } });
    expect(policy.spec.ingress[0].ports.map((p: any) => p.port)).toEqual([6379, 26379]);
    expect(() => new RedisSentinel(Testing.chart(), 'Open', { networkPolicy: false }).allowFrom(plus.Pods.select(chart, 'X', { labels: { a: 'b' } })))
      .toThrow(/prop 'networkPolicy' = false: allowFrom\(\) adds to the NetworkPolicy, and this instance has none/);
  });

  test('connectionEnv checks its prefix', () => {
    expect(() => new RedisSentinel(Testing.chart(), 'Redis').connectionEnv({ prefix: 'my-redis' })).toThrow(/Invalid connectionEnv prop 'prefix' = "my-redis"/);
  });
});
