import { Construct } from 'constructs';
import * as k8s from '../imports/k8s';
import { objectMeta } from './metadata';
import { podSpec, redisContainer, sentinelContainer } from './pod-spec';
import { RedisSentinelProps } from './props';
import { settingsIn } from './settings';

/**
 * The bootstrap pod `<name>-master`: container `master` (the first master of a new cluster) and
 * container `sentinel` (its first sentinel). Its labels put it in both controllers' selectors and
 * behind the sentinel Service, as in the classic example; the launch deletes it once the
 * controllers' pods have taken over. The construct is the Pod object itself.
 */
export class RedisMasterPod extends k8s.KubePod {
  constructor(scope: Construct, id: string, props: RedisSentinelProps = {}) {
    const s = settingsIn(scope, props, { construct: 'RedisMasterPod' });
    super(scope, id, {
      metadata: objectMeta(s, s.names.bootstrapPod, s.labels.bootstrapPod),
      spec: podSpec(s, [redisContainer(s, true), sentinelContainer(s)]),
    });
  }
}
