import { Construct } from 'constructs';
import * as k8s from '../imports/k8s';
import { RedisSentinelPropError, RedisSentinelProps } from './settings';

/** Props of the controllers: the topology's props plus the replicas written into the manifest. */
export interface ControllerProps extends RedisSentinelProps {
  /**
   * `spec.replicas` in the manifest.
   * @default - omitted: Kubernetes starts the controller at 1 (the seed's value), the launch scales
   * it, and a later `kubectl apply` of the same manifest never scales a running cluster back down
   */
  readonly replicas?: number;
}

/** `spec.replicas` of a controller manifest, checked. */
export function manifestReplicas(props: ControllerProps): { replicas?: number } {
  if (props.replicas === undefined) return {};
  if (!Number.isInteger(props.replicas) || props.replicas < 1) {
    throw new RedisSentinelPropError('replicas', props.replicas, 'a controller needs at least one pod',
      'set replicas to 1 or more, or leave it unset to let the launch scale the controller');
  }
  return { replicas: props.replicas };
}

/** The ReplicationController around a pod template (both controllers have this shape). */
export function replicationController(scope: Construct, meta: k8s.ObjectMeta, selector: Readonly<Record<string, string>>,
  podLabels: Readonly<Record<string, string>>, podSpec: k8s.PodSpec, props: ControllerProps): k8s.KubeReplicationController {
  return new k8s.KubeReplicationController(scope, 'Resource', {
    metadata: meta,
    spec: {
      ...manifestReplicas(props),
      selector: { ...selector },
      template: { metadata: { labels: { ...podLabels } }, spec: podSpec },
    },
  });
}
