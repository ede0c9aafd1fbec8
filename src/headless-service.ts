import { Construct } from 'constructs';
import * as k8s from '../imports/k8s';
import { objectMeta } from './metadata';
import { RedisSentinelProps } from './props';
import { settingsIn } from './settings';

/**
 * The headless Service `<name>-headless` over the Redis pods (the bootstrap pod included), with
 * `publishNotReadyAddresses: true`: its DNS name resolves to every Redis pod that has an address,
 * ready or not. In the StatefulSet topology it is the StatefulSets' governing Service: each pod's
 * stable name is `<pod>.<name>-headless.<namespace>.svc`. Redis pods and sentinels ask these pods themselves when no sentinel knows a master
 * (every sentinel replaced at once, or every pod lost: docs/state-machine.md). Not for clients, who
 * ask the sentinels. The construct is the Service object itself.
 */
export class RedisHeadlessService extends k8s.KubeService {
  constructor(scope: Construct, id: string, props: RedisSentinelProps = {}) {
    const s = settingsIn(scope, props, { construct: 'RedisHeadlessService' });
    super(scope, id, {
      metadata: objectMeta(s, s.names.headlessService, s.labels.recommended.redis),
      spec: {
        clusterIp: 'None',
        publishNotReadyAddresses: true,
        ports: [
          { name: 'redis', port: s.redisPort, targetPort: k8s.IntOrString.fromNumber(s.redisPort) },
          // In the StatefulSet topology it also governs the sentinels' stable names.
          ...(s.topology === 'statefulset' ? [{ name: 'sentinel', port: s.sentinelPort, targetPort: k8s.IntOrString.fromNumber(s.sentinelPort) }] : []),
        ],
        // Classic: the Redis pods. StatefulSet: every pod of the instance, whose DNS names it gives.
        selector: { ...(s.topology === 'statefulset' ? s.labels.instanceSelector : s.labels.redisSelector) },
      },
    });
  }
}
