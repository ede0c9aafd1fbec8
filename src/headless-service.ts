import { Construct } from 'constructs';
import * as k8s from '../imports/k8s';
import { objectMeta } from './metadata';
import { RedisSentinelProps } from './props';
import { settingsIn } from './settings';

/**
 * The headless Service `<name>-headless` over the Redis pods (the bootstrap pod included), with
 * `publishNotReadyAddresses: true`: its DNS name resolves to every Redis pod that has an address,
 * ready or not. Redis pods and sentinels ask these pods themselves when no sentinel knows a master
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
        ports: [{ name: 'redis', port: s.redisPort, targetPort: k8s.IntOrString.fromNumber(s.redisPort) }],
        selector: { ...s.labels.redisSelector },
      },
    });
  }
}
