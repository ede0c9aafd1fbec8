import { Construct } from 'constructs';
import * as k8s from '../imports/k8s';
import { replicationController } from './controller';
import { objectMeta } from './metadata';
import { podSpec, redisContainer } from './pod-spec';
import { ControllerProps } from './props';
import { resolveControllerReplicas, settingsIn } from './settings';

/**
 * The ReplicationController `<name>` of Redis servers (container `redis`). It selects `name: <name>`
 * and so adopts the bootstrap pod; its own pods start as replicas of the master the sentinels name.
 */
export class RedisController extends Construct {
  /** The controller's name. */
  public readonly name: string;
  /** The generated object. */
  public readonly resource: k8s.KubeReplicationController;

  constructor(scope: Construct, id: string, props: ControllerProps = {}) {
    super(scope, id);
    const s = settingsIn(this, props, { construct: 'RedisController', extraProps: ['replicas'] });
    this.name = s.names.redisController;
    const replicas = resolveControllerReplicas('RedisController', props.replicas);
    this.resource = replicationController(this, objectMeta(s, this.name, s.labels.recommended.redis), s.labels.redisSelector, s.labels.redisPod,
      podSpec(s, [redisContainer(s, false)]), replicas);
  }
}
