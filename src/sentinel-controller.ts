import { Construct } from 'constructs';
import * as k8s from '../imports/k8s';
import { replicationController } from './controller';
import { objectMeta } from './metadata';
import { POD_SECURITY, sentinelContainer, volumes } from './pod-spec';
import { ControllerProps } from './props';
import { resolveControllerReplicas, resolveSettings } from './settings';

/**
 * The ReplicationController `<name>-sentinel` of sentinels (container `sentinel`). It selects
 * `<name>-sentinel: "true"` and so adopts the bootstrap pod's sentinel.
 */
export class SentinelController extends Construct {
  /** The controller's name. */
  public readonly name: string;
  /** The generated object. */
  public readonly resource: k8s.KubeReplicationController;

  constructor(scope: Construct, id: string, props: ControllerProps = {}) {
    super(scope, id);
    const s = resolveSettings(props);
    this.name = s.names.sentinelController;
    const replicas = resolveControllerReplicas('SentinelController', props.replicas);
    this.resource = replicationController(this, objectMeta(s, this.name), s.labels.sentinelSelector, s.labels.sentinelPod, {
      securityContext: POD_SECURITY,
      containers: [sentinelContainer(s)],
      volumes: volumes(s, { data: false, sentinelState: true }),
    }, replicas);
  }
}
