import { Construct } from 'constructs';
import * as k8s from '../../imports/k8s';
import { claim, selectorClaims } from '../claims';
import { connectionEnv, ConnectionEnvOptions } from '../client-env';
import { RedisSentinelConfig } from '../config-map';
import { RedisDisruptionBudget, SentinelDisruptionBudget } from '../disruption-budgets';
import { RedisHeadlessService } from '../headless-service';
import { RedisSentinelNetworkPolicy } from '../network-policy';
import { IPodSelectorPeer, PeerPodSelectorConfig, podSelectorConfig } from '../peer';
import { RedisSentinelStatefulSetProps, SentinelPlacement } from '../props';
import { SentinelService } from '../sentinel-service';
import { RedisSentinelPropError, RedisSentinelSettings, resolvedProps, resolveStatefulSetSettings, settingsIn } from '../settings';
import { RedisStatefulSet } from './redis-stateful-set';
import { SentinelStatefulSet } from './sentinel-stateful-set';

/**
 * Redis with Sentinel failover as StatefulSets: stable names, data on volumes, and no launch script:
 * `kubectl apply` alone brings it up, and applying again changes nothing, so GitOps tools (Argo CD,
 * Flux) can own it. The pods decide among themselves who founds a cluster, who follows and who
 * waits (docs/state-machine.md), with no Kubernetes API access. The same props as `RedisSentinel`
 * where they mean the same thing, plus storage and scheduling; the same security parts (auth from a
 * Secret, the NetworkPolicy, disruption budgets).
 */
export class RedisSentinelStatefulSet extends Construct implements IPodSelectorPeer {
  /** The resolved settings: every default applied. */
  public readonly settings: RedisSentinelSettings;
  /** Where Sentinel-aware clients connect: the sentinel Service's DNS name. */
  public readonly sentinelHost: string;
  /** The sentinel Service's port. */
  public readonly sentinelPort: number;
  /** The master name to ask the sentinels for. */
  public readonly masterName: string;

  public readonly config: RedisSentinelConfig;
  /** The NetworkPolicy; undefined with `networkPolicy: false`. */
  public readonly networkPolicy?: RedisSentinelNetworkPolicy;
  /** The Redis pods' budget (with sidecars, also the sentinels'). */
  public readonly redisDisruptionBudget: RedisDisruptionBudget;
  /** The sentinel pods' budget; undefined with sentinels as sidecars. */
  public readonly sentinelDisruptionBudget?: SentinelDisruptionBudget;
  public readonly sentinelService: SentinelService;
  /** The governing headless Service: the pods' stable DNS names. */
  public readonly headlessService: RedisHeadlessService;
  public readonly redisStatefulSet: RedisStatefulSet;
  /** The sentinels' StatefulSet; undefined with sentinels as sidecars. */
  public readonly sentinelStatefulSet?: SentinelStatefulSet;

  constructor(scope: Construct, id: string, props: RedisSentinelStatefulSetProps = {}) {
    super(scope, id);
    this.settings = settingsIn(this, props, {}, resolveStatefulSetSettings);
    const s = this.settings;
    const st = s.statefulSet!;
    const sidecars = st.sentinelPlacement === SentinelPlacement.SIDECAR;
    claim(this, s, [
      `ConfigMap/${s.names.configMap}`, `Service/${s.names.sentinelService}`, `Service/${s.names.headlessService}`,
      `StatefulSet/${st.redisStatefulSet}`, ...(sidecars ? [] : [`StatefulSet/${st.sentinelStatefulSet}`]),
      `NetworkPolicy/${s.names.networkPolicy}`, `PodDisruptionBudget/${s.names.redisDisruptionBudget}`,
      ...(sidecars ? [] : [`PodDisruptionBudget/${s.names.sentinelDisruptionBudget}`]),
      ...(s.auth ? [`Secret/${s.auth.secretName}`] : []),
      ...selectorClaims(st.redisPodSelector, st.sentinelPodSelector, s.labels.instanceSelector),
    ]);

    // In apply order: the configuration and the policies, the Services (the StatefulSets need their
    // governing Service for the pods' names), then the pods' owners.
    const parts = resolvedProps(s);
    this.config = new RedisSentinelConfig(this, 'Config', parts);
    if (s.networkPolicy) this.networkPolicy = new RedisSentinelNetworkPolicy(this, 'NetworkPolicy', parts);
    // With sidecars the Redis pods are the sentinel pods: one budget (two budgets over one pod make
    // the eviction API refuse every eviction of it).
    this.redisDisruptionBudget = new RedisDisruptionBudget(this, 'RedisDisruptionBudget', parts);
    if (!sidecars) this.sentinelDisruptionBudget = new SentinelDisruptionBudget(this, 'SentinelDisruptionBudget', parts);
    this.sentinelService = new SentinelService(this, 'SentinelService', parts);
    this.headlessService = new RedisHeadlessService(this, 'HeadlessService', parts);
    this.redisStatefulSet = new RedisStatefulSet(this, 'RedisStatefulSet', parts);
    if (!sidecars) this.sentinelStatefulSet = new SentinelStatefulSet(this, 'SentinelStatefulSet', parts);

    this.sentinelHost = s.namespace === undefined ? s.names.sentinelService : `${s.names.sentinelService}.${s.namespace}.svc`;
    this.sentinelPort = s.sentinelPort;
    this.masterName = s.masterName;
  }

  /** Lets a cdk8s-plus peer reach the Redis and Sentinel ports through the NetworkPolicy. */
  public allowFrom(peer: { toNetworkPolicyPeerConfig(): any }): void {
    if (!this.networkPolicy) {
      throw new RedisSentinelPropError('networkPolicy', false, 'allowFrom() adds to the NetworkPolicy, and this instance has none',
        'leave networkPolicy on, or open the pods with your own policy', 'RedisSentinelStatefulSet');
    }
    this.networkPolicy.allowFrom(peer);
  }

  /** The environment variables a Sentinel-aware client needs (see `RedisSentinel.connectionEnv`). */
  public connectionEnv(options: ConnectionEnvOptions = {}): k8s.EnvVar[] {
    return connectionEnv(this.settings, this.sentinelHost, options);
  }

  /** Adds `connectionEnv()` to a cdk8s-plus container. */
  public addConnectionEnv(container: { readonly env: { addVariable(name: string, value: any): void } }, options: ConnectionEnvOptions = {}): void {
    for (const e of this.connectionEnv(options)) container.env.addVariable(e.name, { value: e.value, valueFrom: e.valueFrom });
  }

  /** Every pod of the instance, in its namespace (cdk8s-plus IPodSelector). */
  public toPodSelectorConfig(): PeerPodSelectorConfig {
    return podSelectorConfig(this.settings.labels.instanceSelector, this.settings.namespace);
  }

  /** cdk8s-plus INetworkPolicyPeer: every pod of the instance. */
  public toNetworkPolicyPeerConfig(): { podSelector: PeerPodSelectorConfig } {
    return { podSelector: this.toPodSelectorConfig() };
  }

  /** cdk8s-plus INetworkPolicyPeer. */
  public toPodSelector(): IPodSelectorPeer {
    return this;
  }
}
