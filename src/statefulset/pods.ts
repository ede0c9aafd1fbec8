// The StatefulSet topology's pod template: the shared containers (pod-spec.ts) placed on stable
// names and volumes, with its probes and scheduling. One place for both StatefulSets.
import * as k8s from '../../imports/k8s';
import { podSpec, VOLUMES } from '../pod-spec';
import { PodAntiAffinity } from '../props';
import { RedisSentinelSettings, ResolvedStatefulSet } from '../settings';

/** The settings of the StatefulSet topology; throws if they are the classic topology's. */
export function statefulSetSettings(s: RedisSentinelSettings): ResolvedStatefulSet {
  if (!s.statefulSet) throw new Error('the StatefulSet parts take settings from resolveStatefulSetSettings');
  return s.statefulSet;
}

/**
 * A Redis container may be busy loading a large append-only file: the startup probe gives it time
 * (this many periods), and liveness only restarts a server that does not answer at all.
 */
const STARTUP_PERIOD_SECONDS = 5;
const STARTUP_FAILURES = 120;

function aliveProbe(s: RedisSentinelSettings, check: string, periodSeconds: number, failureThreshold: number): k8s.Probe {
  return { exec: { command: ['sh', `${s.paths.configDir}/probe.sh`, check] }, periodSeconds, timeoutSeconds: 5, failureThreshold };
}

/** Adds the probes a StatefulSet's Redis needs: started (loaded), and alive (answers, even LOADING). */
export function withRedisLifeProbes(s: RedisSentinelSettings, c: k8s.Container): k8s.Container {
  return {
    ...c,
    startupProbe: aliveProbe(s, 'redis-started', STARTUP_PERIOD_SECONDS, STARTUP_FAILURES),
    livenessProbe: aliveProbe(s, 'redis-alive', 10, 6),
  };
}

/** The pod spec of a StatefulSet: the containers, no `data` volume (the claim template gives it), placement. */
export function statefulPodSpec(s: RedisSentinelSettings, containers: k8s.Container[], selector: Readonly<Record<string, string>>): k8s.PodSpec {
  const st = statefulSetSettings(s);
  const spec = podSpec(s, containers);
  const term: k8s.PodAffinityTerm = { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { ...selector } } };
  return {
    ...spec,
    volumes: (spec.volumes ?? []).filter((v) => v.name !== VOLUMES.data),
    affinity: {
      podAntiAffinity: st.podAntiAffinity === PodAntiAffinity.REQUIRED
        ? { requiredDuringSchedulingIgnoredDuringExecution: [term] }
        : { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: term }] },
    },
    ...(st.spreadOverZones ? {
      topologySpreadConstraints: [{
        maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { ...selector } },
      }],
    } : {}),
    ...(st.nodeSelector ? { nodeSelector: { ...st.nodeSelector } } : {}),
    ...(st.tolerations.length ? { tolerations: st.tolerations.map((t) => ({ ...t })) } : {}),
    ...(st.priorityClassName ? { priorityClassName: st.priorityClassName } : {}),
  };
}

/** The claim template of each Redis pod's volume (the seed's `data`, now persistent). */
export function dataClaimTemplate(s: RedisSentinelSettings): k8s.KubePersistentVolumeClaimProps {
  const st = statefulSetSettings(s);
  return {
    metadata: { name: VOLUMES.data, labels: { ...s.labels.recommended.redis } },
    spec: {
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: k8s.Quantity.fromString(st.storageSize) } },
      ...(st.storageClassName ? { storageClassName: st.storageClassName } : {}),
    },
  };
}
