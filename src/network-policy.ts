import { Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import * as k8s from '../imports/k8s';
import { objectMeta } from './metadata';
import { kubePeers } from './peer';
import { RedisSentinelProps } from './props';
import { settingsIn } from './settings';

/** DNS: the cluster's DNS pods (kube-dns and CoreDNS carry `k8s-app: kube-dns`), in any namespace. */
const DNS_PEER: k8s.NetworkPolicyPeer = { namespaceSelector: {}, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } };
const DNS_PORTS: k8s.NetworkPolicyPort[] = [
  { protocol: 'UDP', port: k8s.IntOrString.fromNumber(53) },
  { protocol: 'TCP', port: k8s.IntOrString.fromNumber(53) },
];

/**
 * The NetworkPolicy `<name>` over every pod of the instance: the Redis and Sentinel ports take
 * traffic only from the instance's own pods, from pods labelled `<name>-client: "true"` in the
 * namespace, and from the peers given to `allowFrom`; the pods reach only each other and DNS. The
 * construct is the NetworkPolicy object itself.
 */
export class RedisSentinelNetworkPolicy extends k8s.KubeNetworkPolicy {
  private readonly clients: k8s.NetworkPolicyPeer[];

  constructor(scope: Construct, id: string, props: RedisSentinelProps = {}) {
    const s = settingsIn(scope, props, { construct: 'RedisSentinelNetworkPolicy' });
    const own: k8s.NetworkPolicyPeer = { podSelector: { matchLabels: { ...s.labels.instanceSelector } } };
    const ports: k8s.NetworkPolicyPort[] = [s.redisPort, s.sentinelPort].map((p) => ({ protocol: 'TCP', port: k8s.IntOrString.fromNumber(p) }));
    const clients: k8s.NetworkPolicyPeer[] = [];
    super(scope, id, {
      metadata: objectMeta(s, s.names.networkPolicy, s.labels.recommended.network),
      spec: {
        podSelector: { matchLabels: { ...s.labels.instanceSelector } },
        policyTypes: ['Ingress', 'Egress'],
        ingress: Lazy.any({
          produce: () => [{ from: [own, { podSelector: { matchLabels: { ...s.labels.clientSelector } } }, ...clients], ports }],
        }),
        egress: [{ to: [own], ports }, { to: [DNS_PEER], ports: DNS_PORTS }],
      },
    });
    this.clients = clients;
  }

  /** Lets a cdk8s-plus peer (a Deployment, `Pods.select(...)`, a namespace, an IP block) reach both ports. */
  public allowFrom(peer: { toNetworkPolicyPeerConfig(): any }): void {
    this.clients.push(...kubePeers(peer));
  }
}
