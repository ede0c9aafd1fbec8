import { Construct } from 'constructs';
import * as k8s from '../imports/k8s';
import { replicationControllerProps } from './controller';
import { objectMeta } from './metadata';
import { podSpec, redisContainer } from './pod-spec';
import { ControllerProps } from './props';
import { resolveControllerReplicas, settingsIn } from './settings';

/**
 * The ReplicationController `<name>` of Redis servers (container `redis`). It selects `name: <name>`
 * and so adopts the bootstrap pod; its own pods start as replicas of the master the sentinels name.
 * The construct is the ReplicationController object itself.
 */
export class RedisController extends k8s.KubeReplicationController {
  constructor(scope: Construct, id: string, props: ControllerProps = {}) {
    const s = settingsIn(scope, props, { construct: 'RedisController', extraProps: ['replicas'] });
    const replicas = resolveControllerReplicas('RedisController', props.replicas);
    super(scope, id, replicationControllerProps(objectMeta(s, s.names.redisController, s.labels.recommended.redis),
      s.labels.redisSelector, s.labels.redisPod, podSpec(s, [redisContainer(s, false)]), replicas));
  }
}
