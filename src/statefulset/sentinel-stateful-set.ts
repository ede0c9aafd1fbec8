import { Construct } from 'constructs';
import * as k8s from '../../imports/k8s';
import { objectMeta } from '../metadata';
import { sentinelContainer } from '../pod-spec';
import { RedisSentinelStatefulSetProps } from '../props';
import { resolveStatefulSetSettings, settingsIn } from '../settings';
import { statefulPodSpec, statefulSetSettings } from './pods';

/**
 * The StatefulSet `<name>-sentinel` of sentinel pods, for `SentinelPlacement.STATEFUL_SET`: stable
 * names, no volume (a sentinel rebuilds its state from its peers). The construct is the StatefulSet
 * object itself.
 */
export class SentinelStatefulSet extends k8s.KubeStatefulSet {
  constructor(scope: Construct, id: string, props: RedisSentinelStatefulSetProps = {}) {
    const s = settingsIn(scope, props, { construct: 'SentinelStatefulSet' }, resolveStatefulSetSettings);
    const st = statefulSetSettings(s);
    super(scope, id, {
      metadata: objectMeta(s, st.sentinelStatefulSet, s.labels.recommended.sentinel),
      spec: {
        serviceName: s.names.headlessService,
        replicas: s.sentinelReplicas,
        podManagementPolicy: 'Parallel',
        updateStrategy: { type: 'RollingUpdate' },
        selector: { matchLabels: { ...st.sentinelPodSelector } },
        template: {
          metadata: { labels: { ...s.labels.recommended.sentinel } },
          spec: statefulPodSpec(s, [sentinelContainer(s)], st.sentinelPodSelector),
        },
      },
    });
  }
}
