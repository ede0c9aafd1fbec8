import * as k8s from '../imports/k8s';

/** The props of a ReplicationController around a pod template (both controllers have this shape). */
export function replicationControllerProps(meta: k8s.ObjectMeta, selector: Readonly<Record<string, string>>,
  podLabels: Readonly<Record<string, string>>, podSpec: k8s.PodSpec, replicas: number | undefined): k8s.KubeReplicationControllerProps {
  return {
    metadata: meta,
    spec: {
      ...(replicas !== undefined ? { replicas } : {}),
      selector: { ...selector },
      template: { metadata: { labels: { ...podLabels } }, spec: podSpec },
    },
  };
}
