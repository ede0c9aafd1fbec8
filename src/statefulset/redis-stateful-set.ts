import { Construct } from 'constructs';
import * as k8s from '../../imports/k8s';
import { objectMeta } from '../metadata';
import { redisContainer, sentinelContainer } from '../pod-spec';
import { RedisSentinelStatefulSetProps, SentinelPlacement } from '../props';
import { resolveStatefulSetSettings, settingsIn } from '../settings';
import { dataClaimTemplate, statefulPodSpec, statefulSetSettings, withRedisLifeProbes } from './pods';

/**
 * The StatefulSet `<name>` of Redis pods, `<name>-0` to `<name>-N`, each with its own volume and,
 * with sentinels as sidecars, a sentinel. Parallel pod management: the pods start together and
 * decide among themselves who founds, follows or waits (docs/state-machine.md). The construct is the
 * StatefulSet object itself.
 */
export class RedisStatefulSet extends k8s.KubeStatefulSet {
  constructor(scope: Construct, id: string, props: RedisSentinelStatefulSetProps = {}) {
    const s = settingsIn(scope, props, { construct: 'RedisStatefulSet' }, resolveStatefulSetSettings);
    const st = statefulSetSettings(s);
    const containers = [withRedisLifeProbes(s, redisContainer(s, false)),
      ...(st.sentinelPlacement === SentinelPlacement.SIDECAR ? [sentinelContainer(s)] : [])];
    super(scope, id, {
      metadata: objectMeta(s, st.redisStatefulSet, s.labels.recommended.redis),
      spec: {
        serviceName: s.names.headlessService,
        replicas: s.redisReplicas,
        podManagementPolicy: 'Parallel',
        updateStrategy: { type: 'RollingUpdate' },
        persistentVolumeClaimRetentionPolicy: { whenDeleted: st.volumesWhenDeleted, whenScaled: st.volumesWhenScaled },
        selector: { matchLabels: { ...st.redisPodSelector } },
        template: {
          metadata: { labels: { ...s.labels.recommended.redis } },
          spec: statefulPodSpec(s, containers, st.redisPodSelector),
        },
        volumeClaimTemplates: [dataClaimTemplate(s)],
      },
    });
  }
}
