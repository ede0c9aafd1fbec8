import { Construct } from 'constructs';
import * as k8s from '../imports/k8s';
import { objectMeta } from './metadata';
import { RedisSentinelProps } from './props';
import { RedisSentinelSettings, settingsIn } from './settings';

/**
 * `maxUnavailable: 1` over pods with these labels: a node drain evicts one of them at a time, so it
 * cannot take the master's replicas or the sentinels' quorum away at once.
 */
function budgetProps(s: RedisSentinelSettings, name: string, selector: Readonly<Record<string, string>>,
  labels: Readonly<Record<string, string>>): k8s.KubePodDisruptionBudgetProps {
  return {
    metadata: objectMeta(s, name, labels),
    spec: { maxUnavailable: k8s.IntOrString.fromNumber(1), selector: { matchLabels: { ...selector } } },
  };
}

/** The PodDisruptionBudget `<name>` of the Redis pods (bootstrap pod included). The construct is the object itself. */
export class RedisDisruptionBudget extends k8s.KubePodDisruptionBudget {
  constructor(scope: Construct, id: string, props: RedisSentinelProps = {}) {
    const s = settingsIn(scope, props, { construct: 'RedisDisruptionBudget' });
    super(scope, id, budgetProps(s, s.names.redisDisruptionBudget, s.labels.redisSelector, s.labels.recommended.redis));
  }
}

/** The PodDisruptionBudget `<name>-sentinel` of the sentinels. The construct is the object itself. */
export class SentinelDisruptionBudget extends k8s.KubePodDisruptionBudget {
  constructor(scope: Construct, id: string, props: RedisSentinelProps = {}) {
    const s = settingsIn(scope, props, { construct: 'SentinelDisruptionBudget' });
    super(scope, id, budgetProps(s, s.names.sentinelDisruptionBudget, s.labels.sentinelSelector, s.labels.recommended.sentinel));
  }
}
