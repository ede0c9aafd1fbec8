import { Construct } from 'constructs';
import * as k8s from '../imports/k8s';
import { replicationControllerProps } from './controller';
import { objectMeta } from './metadata';
import { podSpec, sentinelContainer } from './pod-spec';
import { ControllerProps } from './props';
import { resolveControllerReplicas, settingsIn } from './settings';

/**
 * The ReplicationController `<name>-sentinel` of sentinels (container `sentinel`). It selects
 * `<name>-sentinel: "true"` and so adopts the bootstrap pod's sentinel. The construct is the
 * ReplicationController object itself.
 */
export class SentinelController extends k8s.KubeReplicationController {
  constructor(scope: Construct, id: string, props: ControllerProps = {}) {
    const s = settingsIn(scope, props, { construct: 'SentinelController', extraProps: ['replicas'] });
    const replicas = resolveControllerReplicas('SentinelController', props.replicas);
    super(scope, id, replicationControllerProps(objectMeta(s, s.names.sentinelController, s.labels.recommended.sentinel),
      s.labels.sentinelSelector, s.labels.sentinelPod, podSpec(s, [sentinelContainer(s)]), replicas));
  }
}
