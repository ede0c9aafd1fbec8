// Network-policy peers as cdk8s-plus' connections API reads them (`deployment.connections.allowTo(x)`
// calls x.toNetworkPolicyPeerConfig() and x.toPodSelector().toPodSelectorConfig(), then reads the
// label selector's isEmpty() and _toKube()). Written by shape, so that the cdk8s-plus-NN of any app
// can use our constructs as peers, whichever cdk8s-plus version we were built with.
import type { IConstruct } from 'constructs';
import * as k8s from '../imports/k8s';

/** A pod selector as cdk8s-plus reads it: the label selector is duck-typed (see the file comment). */
export interface PeerPodSelectorConfig {
  /** An object with cdk8s-plus LabelSelector's isEmpty() and _toKube(). */
  readonly labelSelector: any;
  readonly namespaces?: { readonly names?: string[] };
}

/** Something that selects pods and can stand as a network-policy peer in cdk8s-plus. */
export interface IPodSelectorPeer extends IConstruct {
  toPodSelectorConfig(): PeerPodSelectorConfig;
  toNetworkPolicyPeerConfig(): { readonly podSelector?: PeerPodSelectorConfig };
  toPodSelector(): IPodSelectorPeer | undefined;
}

/** The pod selector config of pods with these labels, in this namespace (or the policy's own). */
export function podSelectorConfig(labels: Readonly<Record<string, string>>, namespace?: string): PeerPodSelectorConfig {
  const matchLabels = { ...labels };
  return {
    labelSelector: { isEmpty: () => false, _toKube: (): k8s.LabelSelector => ({ matchLabels: { ...matchLabels } }) },
    ...(namespace ? { namespaces: { names: [namespace] } } : {}),
  };
}

/**
 * A cdk8s-plus peer (a Deployment, `Pods.select(...)`, `Namespaces.select(...)`, an IP block...) as
 * Kubernetes NetworkPolicy peers, read through the same calls cdk8s-plus itself makes.
 */
export function kubePeers(peer: { toNetworkPolicyPeerConfig(): any }): k8s.NetworkPolicyPeer[] {
  const config = peer.toNetworkPolicyPeerConfig();
  if (config.ipBlock) return [{ ipBlock: config.ipBlock._toKube() }];
  const selector = config.podSelector;
  if (!selector) throw new Error('a network-policy peer must select pods or an IP block');
  const podSelector: k8s.LabelSelector = selector.labelSelector._toKube();
  const byLabels: k8s.LabelSelector | undefined = selector.namespaces?.labelSelector?._toKube();
  const names: string[] | undefined = selector.namespaces?.names;
  if (!names) return [{ podSelector, ...(byLabels ? { namespaceSelector: byLabels } : {}) }];
  return names.map((name) => ({
    podSelector,
    namespaceSelector: { ...byLabels, matchLabels: { ...byLabels?.matchLabels, 'kubernetes.io/metadata.name': name } },
  }));
}
