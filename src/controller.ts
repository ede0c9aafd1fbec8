import { Construct } from 'constructs';
import * as k8s from '../imports/k8s';

/** The ReplicationController around a pod template (both controllers have this shape). */
export function replicationController(scope: Construct, meta: k8s.ObjectMeta, selector: Readonly<Record<string, string>>,
  podLabels: Readonly<Record<string, string>>, podSpec: k8s.PodSpec, replicas: number | undefined): k8s.KubeReplicationController {
  return new k8s.KubeReplicationController(scope, 'Resource', {
    metadata: meta,
    spec: {
      ...(replicas !== undefined ? { replicas } : {}),
      selector: { ...selector },
      template: { metadata: { labels: { ...podLabels } }, spec: podSpec },
    },
  });
}
