import { Construct } from 'constructs';
import * as k8s from '../imports/k8s';
import { replicationController } from './controller';
import { objectMeta } from './metadata';
import { podSpec, sentinelContainer } from './pod-spec';
import { ControllerProps } from './props';
import { resolveControllerReplicas, settingsIn } from './settings';

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
    const s = settingsIn(this, props, { construct: 'SentinelController', extraProps: ['replicas'] });
    this.name = s.names.sentinelController;
    const replicas = resolveControllerReplicas('SentinelController', props.replicas);
    this.resource = replicationController(this, objectMeta(s, this.name, s.labels.recommended.sentinel), s.labels.sentinelSelector, s.labels.sentinelPod,
      podSpec(s, [sentinelContainer(s)]), replicas);
  }
}
