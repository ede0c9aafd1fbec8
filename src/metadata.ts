// Kubernetes metadata helpers that constructs and the launch plan share: object metadata and the
// `k=v,k2=v2` form of a label selector.
import * as k8s from '../imports/k8s';
import { RedisSentinelSettings } from './settings';

/** Object metadata: a name, the namespace when one is set, and labels. */
export function objectMeta(s: RedisSentinelSettings, name: string, labels?: Readonly<Record<string, string>>): k8s.ObjectMeta {
  return {
    name,
    ...(s.namespace !== undefined ? { namespace: s.namespace } : {}),
    ...(labels ? { labels: { ...labels } } : {}),
  };
}

/** `k=v,k2=v2`, the form of kubectl's `-l`. */
export function labelSelector(labels: Readonly<Record<string, string>>): string {
  return Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',');
}
