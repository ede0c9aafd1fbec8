// The StatefulSet topology's constructs: what it synthesizes, its own rules, and that its objects
// pass the strict 1.28 and 1.36 schemas.
import { Size, Testing } from 'cdk8s';
import { PodAntiAffinity, RedisSentinel, RedisSentinelPropError, RedisSentinelStatefulSet, resolveStatefulSetSettings, SentinelPlacement, VolumeRetention } from '../src';
import { strictValidators } from './strict-schema';

function synth(props = {}) {
  const chart = Testing.chart();
  new RedisSentinelStatefulSet(chart, 'Redis', props);
  return Testing.synth(chart);
}
const find = (docs: any[], kind: string, name: string) => docs.find((d) => d.kind === kind && d.metadata.name === name);

describe('RedisSentinelStatefulSet', () => {
  test('with defaults: sentinels as sidecars, one budget, a governing headless Service, volumes; matches its snapshot', () => {
    const docs = synth();
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`)).toEqual([
      'ConfigMap/redis-config', 'NetworkPolicy/redis', 'PodDisruptionBudget/redis', 'Service/redis-sentinel',
      'Service/redis-headless', 'StatefulSet/redis',
    ]);
    const sts = find(docs, 'StatefulSet', 'redis');
    expect(sts.spec).toMatchObject({
      serviceName: 'redis-headless', replicas: 3, podManagementPolicy: 'Parallel', updateStrategy: { type: 'RollingUpdate' },
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
    });
    expect(sts.spec.template.spec.containers.map((c: any) => c.name)).toEqual(['redis', 'sentinel']);
    expect(sts.spec.volumeClaimTemplates).toEqual([{
      metadata: { name: 'data', labels: expect.objectContaining({ 'app.kubernetes.io/instance': 'redis' }) },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    }]);
    expect(sts.spec.template.spec.volumes.map((v: any) => v.name)).not.toContain('data');
    const redis = sts.spec.template.spec.containers[0];
    expect(redis.startupProbe.exec.command).toEqual(['sh', '/etc/redis-sentinel/probe.sh', 'redis-started']);
    expect(redis.livenessProbe.exec.command).toEqual(['sh', '/etc/redis-sentinel/probe.sh', 'redis-alive']);
    const headless = find(docs, 'Service', 'redis-headless');
    expect(headless.spec).toMatchObject({ clusterIP: 'None', publishNotReadyAddresses: true, selector: { 'app.kubernetes.io/instance': 'redis', 'app.kubernetes.io/name': 'redis' } });
    expect(headless.spec.ports.map((p: any) => p.port)).toEqual([6379, 26379]);
    expect(find(docs, 'Service', 'redis-sentinel').spec.selector).toEqual(sts.spec.selector.matchLabels);
    expect(find(docs, 'PodDisruptionBudget', 'redis').spec.selector.matchLabels).toEqual(sts.spec.selector.matchLabels);
    expect(docs).toMatchSnapshot();
  });

  test('sentinels in a StatefulSet of their own: two StatefulSets, two budgets; matches its snapshot', () => {
    const docs = synth({ sentinelPlacement: SentinelPlacement.STATEFUL_SET, sentinelReplicas: 5, quorum: 3 });
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`)).toContain('StatefulSet/redis-sentinel');
    expect(find(docs, 'StatefulSet', 'redis').spec.template.spec.containers.map((c: any) => c.name)).toEqual(['redis']);
    const sentinels = find(docs, 'StatefulSet', 'redis-sentinel');
    expect(sentinels.spec.replicas).toBe(5);
    expect(sentinels.spec.volumeClaimTemplates).toBeUndefined();
    expect(find(docs, 'PodDisruptionBudget', 'redis-sentinel').spec.selector.matchLabels).toEqual(sentinels.spec.selector.matchLabels);
    expect(docs).toMatchSnapshot();
  });

  test('storage and scheduling props reach the StatefulSet', () => {
    const sts = find(synth({
      storageSize: Size.gibibytes(20), storageClassName: 'fast-ssd', volumesWhenDeleted: VolumeRetention.DELETE,
      podAntiAffinity: PodAntiAffinity.REQUIRED, spreadOverZones: false, nodeSelector: { disktype: 'ssd' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'redis', effect: 'NoSchedule' }], priorityClassName: 'high',
    }), 'StatefulSet', 'redis');
    expect(sts.spec.volumeClaimTemplates[0].spec).toMatchObject({ storageClassName: 'fast-ssd', resources: { requests: { storage: '20480Mi' } } });
    expect(sts.spec.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: 'Delete', whenScaled: 'Retain' });
    const pod = sts.spec.template.spec;
    expect(pod.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey).toBe('kubernetes.io/hostname');
    expect(pod.topologySpreadConstraints).toBeUndefined();
    expect([pod.nodeSelector, pod.tolerations, pod.priorityClassName]).toEqual([{ disktype: 'ssd' }, [{ key: 'dedicated', operator: 'Equal', value: 'redis', effect: 'NoSchedule' }], 'high']);
  });

  test('its objects pass the strict 1.28 and 1.36 schemas, in both placements', () => {
    for (const file of ['v1.28.0-definitions.json', 'v1.36.0-definitions.json']) {
      const validatorFor = strictValidators(file);
      for (const doc of [...synth(), ...synth({ sentinelPlacement: SentinelPlacement.STATEFUL_SET })]) {
        const validate = validatorFor(doc);
        expect({ file, object: `${doc.kind}/${doc.metadata.name}`, ok: validate(doc), errors: validate.errors ?? [] })
          .toEqual({ file, object: `${doc.kind}/${doc.metadata.name}`, ok: true, errors: [] });
      }
    }
  });

  test('it and a classic instance of the same name in one namespace collide; distinct names do not', () => {
    const chart = Testing.chart();
    new RedisSentinel(chart, 'Classic');
    expect(() => new RedisSentinelStatefulSet(chart, 'Sts')).toThrow(/prop 'name' = "redis": it collides with the instance 'test\/Classic'/);
    expect(() => new RedisSentinelStatefulSet(chart, 'Ha', { name: 'redis-ha' })).not.toThrow();
  });

  const bad: Array<[string, any, RegExp]> = [
    ['two pods with sidecars', { redisReplicas: 2 }, /Invalid RedisSentinelStatefulSet prop 'redisReplicas' = 2: it must be a whole number from 3 to .*: each Redis pod carries a sentinel/],
    ['a sentinel count beside sidecars', { sentinelReplicas: 5 }, /prop 'sentinelReplicas' = 5: with sentinels as sidecars there is one per Redis pod \(redisReplicas = 3\)/],
    ['a quorum above the sentinels', { quorum: 4 }, /prop 'quorum' = 4: it must be a whole number from 1 to 3: a quorum above the number of sentinels/],
    ['an unknown placement', { sentinelPlacement: 'daemonset' }, /prop 'sentinelPlacement' = "daemonset": it must be a SentinelPlacement: one of "sidecar", "statefulset"/],
    ['a bad storage class', { storageClassName: 'Fast SSD' }, /prop 'storageClassName' = "Fast SSD": it is the name of a Kubernetes object/],
    ['a NaN storage size', { storageSize: Size.gibibytes(NaN) }, /prop 'storageSize' = Size\(NaN gibibytes\)/],
    ['a toleration with an odd effect', { tolerations: [{ key: 'a', effect: 'Sometimes' }] }, /prop 'tolerations\[0\].effect' = "Sometimes"/],
    ['a node selector with a bad value', { nodeSelector: { disktype: 'solid state' } }, /prop 'nodeSelector.disktype' = "solid state"/],
    ['an unknown prop', { storageSiz: Size.gibibytes(1) }, /prop 'storageSiz' = .*there is no such prop \(did you mean 'storageSize'\?\)/],
  ];
  test.each(bad)('rejects %s', (_what, props, message) => {
    expect(() => resolveStatefulSetSettings(props)).toThrow(RedisSentinelPropError);
    expect(() => resolveStatefulSetSettings(props)).toThrow(message);
  });

  test('a quorum of every sentinel is fine here (there is no bootstrap pod to lose)', () => {
    expect(resolveStatefulSetSettings({ quorum: 3 }).quorum).toBe(3);
  });
});
