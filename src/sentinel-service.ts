import { Construct } from 'constructs';
import * as k8s from '../imports/k8s';
import { objectMeta } from './metadata';
import { IPodSelectorPeer, PeerPodSelectorConfig, podSelectorConfig } from './peer';
import { RedisSentinelProps } from './props';
import { settingsIn } from './settings';

/**
 * The Service `<name>-sentinel`: every ready sentinel on the sentinel port. Pods find the master by
 * asking it (by DNS name), and Sentinel-aware clients connect to it.
 */
export class SentinelService extends Construct implements IPodSelectorPeer {
  /** The Service's name, also its DNS name inside the namespace. */
  public readonly name: string;
  /** The Service's port. */
  public readonly port: number;
  /** The generated object. */
  public readonly resource: k8s.KubeService;
  private readonly selected: PeerPodSelectorConfig;

  constructor(scope: Construct, id: string, props: RedisSentinelProps = {}) {
    super(scope, id);
    const s = settingsIn(this, props, { construct: 'SentinelService' });
    this.name = s.names.sentinelService;
    this.port = s.sentinelPort;
    this.resource = new k8s.KubeService(this, 'Resource', {
      metadata: objectMeta(s, this.name, s.labels.sentinelService),
      spec: {
        ports: [{ port: s.sentinelPort, targetPort: k8s.IntOrString.fromNumber(s.sentinelPort) }],
        selector: { ...s.labels.sentinelSelector },
      },
    });
    this.selected = podSelectorConfig(s.labels.sentinelSelector, s.namespace);
  }

  /** The pods behind the Service, the sentinels (cdk8s-plus IPodSelector). */
  public toPodSelectorConfig(): PeerPodSelectorConfig {
    return this.selected;
  }

  /** cdk8s-plus INetworkPolicyPeer: the sentinels behind the Service. */
  public toNetworkPolicyPeerConfig(): { podSelector: PeerPodSelectorConfig } {
    return { podSelector: this.selected };
  }

  /** cdk8s-plus INetworkPolicyPeer. */
  public toPodSelector(): IPodSelectorPeer {
    return this;
  }
}
