export type { RedisSentinelProps, RedisSentinelAuthProps, ControllerProps, RedisSentinelStatefulSetProps, PodToleration } from './props';
export { SentinelPlacement, PodAntiAffinity, VolumeRetention } from './props';
export type {
  RedisSentinelSettings, ResolvedNames, ResolvedLabels, ResolvedResources, ResolvedContainers, ResolvedAuth, ResolveOptions, Component,
  AuthUser, Labels, Topology, ResolvedStatefulSet,
} from './settings';
export { RedisSentinelPropError, resolveSettings, resolveStatefulSetSettings, DEFAULTS } from './settings';
export type { IPodSelectorPeer, PeerPodSelectorConfig } from './peer';
export { RedisSentinelNetworkPolicy } from './network-policy';
export { RedisDisruptionBudget, SentinelDisruptionBudget } from './disruption-budgets';
export { RedisSentinel } from './redis-sentinel';
export type { ConnectionEnvOptions } from './client-env';
export { RedisSentinelConfig } from './config-map';
export { RedisMasterPod } from './master-pod';
export { SentinelService } from './sentinel-service';
export { RedisHeadlessService } from './headless-service';
export { RedisController } from './redis-controller';
export { SentinelController } from './sentinel-controller';
export type { LaunchPlan, LaunchStep, LaunchAction, LaunchCheck, LaunchContext, LaunchPlanOptions, LaunchWhen, ManifestFile } from './launch/plan';
export { launchPlan } from './launch/plan';
export { renderLaunchScript, renderStepsJson, renderStepsMarkdown } from './launch/render';
export type { WrittenLaunch } from './launch/write';
export { writeLaunch } from './launch/write';
export { RedisSentinelStatefulSet } from './statefulset/redis-sentinel-stateful-set';
export { RedisStatefulSet } from './statefulset/redis-stateful-set';
export { SentinelStatefulSet } from './statefulset/sentinel-stateful-set';
