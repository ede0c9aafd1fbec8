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
 * controllers' pods have taken over.
 */
export class RedisMasterPod extends Construct {
  /** The pod's name. */
  public readonly name: string;
  /** The generated object. */
  public readonly resource: k8s.KubePod;

  constructor(scope: Construct, id: string, props: RedisSentinelProps = {}) {
    super(scope, id);
    const s = settingsIn(this, props, { construct: 'RedisMasterPod' });
    this.name = s.names.bootstrapPod;
    this.resource = new k8s.KubePod(this, 'Resource', {
      metadata: objectMeta(s, this.name, s.labels.bootstrapPod),
      spec: podSpec(s, [redisContainer(s, true), sentinelContainer(s)]),
    });
  }
}
