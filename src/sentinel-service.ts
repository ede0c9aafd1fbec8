import { Construct } from 'constructs';
import * as k8s from '../imports/k8s';
import { objectMeta } from './metadata';
import { IPodSelectorPeer, PeerPodSelectorConfig, podSelectorConfig } from './peer';
import { RedisSentinelProps } from './props';
import { RedisSentinelSettings, settingsIn } from './settings';

/**
 * The Service `<name>-sentinel`: every ready sentinel on the sentinel port. Pods find the master by
 * asking it (by DNS name), and Sentinel-aware clients connect to it. The construct is the Service
 * object itself, and a cdk8s-plus network-policy peer for the sentinels behind it.
 */
export class SentinelService extends k8s.KubeService implements IPodSelectorPeer {
  /** The Service's port. */
  public readonly port: number;
  private readonly settings: RedisSentinelSettings;

  constructor(scope: Construct, id: string, props: RedisSentinelProps = {}) {
    const s = settingsIn(scope, props, { construct: 'SentinelService' });
    super(scope, id, {
      metadata: objectMeta(s, s.names.sentinelService, s.labels.sentinelService),
      spec: {
        ports: [{ port: s.sentinelPort, targetPort: k8s.IntOrString.fromNumber(s.sentinelPort) }],
        selector: { ...s.labels.sentinelSelector },
      },
    });
    this.settings = s;
    this.port = s.sentinelPort;
  }

  /** The pods behind the Service, the sentinels (cdk8s-plus IPodSelector). */
  public toPodSelectorConfig(): PeerPodSelectorConfig {
    return podSelectorConfig(this.settings.labels.sentinelSelector, this.settings.namespace);
  }

  /** cdk8s-plus INetworkPolicyPeer: the sentinels behind the Service. */
  public toNetworkPolicyPeerConfig(): { podSelector: PeerPodSelectorConfig } {
    return { podSelector: this.toPodSelectorConfig() };
  }

  /** cdk8s-plus INetworkPolicyPeer. */
  public toPodSelector(): IPodSelectorPeer {
    return this;
  }
}
