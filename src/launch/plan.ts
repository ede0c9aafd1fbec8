import { labelSelector } from '../redis-config';
import { RedisSentinel } from '../redis-sentinel';
import { Stage } from './stages';

/** What the launch checks while it waits; each is a function of the launch script. */
export type LaunchCheck =
  | { readonly check: 'bootstrap-master' }
  | { readonly check: 'replicas-in-sync'; readonly redisPods: number }
  | { readonly check: 'sentinels-agree'; readonly sentinels: number }
  | { readonly check: 'new-master' }
  | { readonly check: 'controllers-ready' };

export type LaunchAction =
  | { readonly kind: 'apply'; readonly file: string; readonly bootstrap: boolean }
  | { readonly kind: 'scale'; readonly controller: string; readonly replicas: number }
  | { readonly kind: 'wait'; readonly until: string; readonly timeoutSeconds: number; readonly hint: string; readonly condition: LaunchCheck }
  | { readonly kind: 'delete-pod'; readonly pod: string; readonly timeoutSeconds: number }
  | { readonly kind: 'report' };

export interface LaunchStep {
  readonly number: number;
  readonly title: string;
  /** Steps that a completed launch skips when the script runs again. */
  readonly firstLaunchOnly: boolean;
  readonly actions: readonly LaunchAction[];
}

/** The facts the steps refer to. */
export interface LaunchContext {
  readonly instance: string;
  readonly namespace?: string;
  readonly bootstrapPod: string;
  readonly redisController: string;
  readonly sentinelController: string;
  readonly sentinelService: string;
  readonly redisSelector: string;
  readonly sentinelSelector: string;
  readonly masterName: string;
  readonly redisPort: number;
  readonly sentinelPort: number;
  readonly redisReplicas: number;
  readonly sentinelReplicas: number;
  /** The script the launch runs inside pods for redis-cli. */
  readonly cliScript: string;
}

/** The launch sequence as data: the launch script and the step list are both rendered from it. */
export interface LaunchPlan {
  readonly context: LaunchContext;
  readonly files: readonly string[];
  readonly steps: readonly LaunchStep[];
}

/** Time for pods to be scheduled and images pulled on a real cluster. */
const POD_START_SECONDS = 300;

/** Builds the seed tutorial's sequence for a RedisSentinel and its ordered files. */
export function launchPlan(redis: RedisSentinel, stages: readonly Stage[]): LaunchPlan {
  const s = redis.settings;
  const n = s.names;
  const sentinelLogs = `kubectl logs -l ${labelSelector(s.labels.sentinelSelector)} -c sentinel`;
  const redisLogs = `kubectl logs -l ${labelSelector(s.labels.redisSelector)} --all-containers`;
  const failoverSeconds = Math.ceil((s.downAfterMs + 2 * s.failoverTimeoutMs) / 1000) + POD_START_SECONDS;
  const context: LaunchContext = {
    instance: n.instance,
    namespace: s.namespace,
    bootstrapPod: n.masterPod,
    redisController: n.redisController,
    sentinelController: n.sentinelController,
    sentinelService: n.sentinelService,
    redisSelector: labelSelector(s.labels.redisSelector),
    sentinelSelector: labelSelector(s.labels.sentinelSelector),
    masterName: s.masterName,
    redisPort: s.redisPort,
    sentinelPort: s.sentinelPort,
    redisReplicas: s.redisReplicas,
    sentinelReplicas: s.sentinelReplicas,
    cliScript: `${s.paths.configDir}/cli.sh`,
  };
  const inSync: LaunchAction = {
    kind: 'wait',
    until: `at least ${s.redisReplicas} redis pods run and every replica is in sync with the master`,
    timeoutSeconds: POD_START_SECONDS,
    hint: `kubectl get pods -l ${context.redisSelector}; ${redisLogs}`,
    condition: { check: 'replicas-in-sync', redisPods: s.redisReplicas },
  };
  const sentinelsAgree: LaunchAction = {
    kind: 'wait',
    until: `at least ${s.sentinelReplicas} sentinels run, know each other, agree on the master and pass SENTINEL CKQUORUM`,
    timeoutSeconds: POD_START_SECONDS,
    hint: `kubectl get pods -l ${context.sentinelSelector}; ${sentinelLogs}`,
    condition: { check: 'sentinels-agree', sentinels: s.sentinelReplicas },
  };
  const steps: Array<Omit<LaunchStep, 'number'>> = [
    {
      title: 'Apply the manifests in order',
      firstLaunchOnly: false,
      actions: stages.map((st) => ({ kind: 'apply', file: st.file, bootstrap: st.bootstrap })),
    },
    {
      title: 'Wait for the bootstrap master and its sentinel',
      firstLaunchOnly: true,
      actions: [{
        kind: 'wait',
        until: `pod/${n.masterPod} runs a master and its sentinel monitors it`,
        timeoutSeconds: POD_START_SECONDS,
        hint: `kubectl describe pod ${n.masterPod}; kubectl logs ${n.masterPod} -c master; kubectl logs ${n.masterPod} -c sentinel`,
        condition: { check: 'bootstrap-master' },
      }],
    },
    {
      title: `Scale both controllers to ${s.redisReplicas} redis and ${s.sentinelReplicas} sentinels`,
      firstLaunchOnly: true,
      actions: [
        { kind: 'scale', controller: n.redisController, replicas: s.redisReplicas },
        { kind: 'scale', controller: n.sentinelController, replicas: s.sentinelReplicas },
      ],
    },
    {
      title: 'Wait until the replicas are in sync and the sentinels have quorum',
      firstLaunchOnly: false,
      actions: [inSync, sentinelsAgree],
    },
    {
      title: 'Delete the bootstrap pod',
      firstLaunchOnly: false,
      actions: [{ kind: 'delete-pod', pod: n.masterPod, timeoutSeconds: 120 }],
    },
    {
      title: 'Wait until a new master is elected and both controllers are back at full count',
      firstLaunchOnly: false,
      actions: [
        {
          kind: 'wait',
          until: `the sentinels agree on a new master among the pods of rc/${n.redisController}`,
          timeoutSeconds: failoverSeconds,
          hint: `${sentinelLogs}; ${redisLogs}`,
          condition: { check: 'new-master' },
        },
        { ...inSync, timeoutSeconds: failoverSeconds },
        { ...sentinelsAgree, timeoutSeconds: failoverSeconds },
        {
          kind: 'wait',
          until: `rc/${n.redisController} and rc/${n.sentinelController} have all their pods ready`,
          timeoutSeconds: failoverSeconds,
          hint: `kubectl get rc ${n.redisController} ${n.sentinelController}; kubectl get pods`,
          condition: { check: 'controllers-ready' },
        },
      ],
    },
    { title: 'Print where the master is', firstLaunchOnly: false, actions: [{ kind: 'report' }] },
  ];
  return {
    context,
    files: stages.map((st) => st.file),
    steps: steps.map((st, i) => ({ number: i + 1, ...st })),
  };
}
