/** One pacing constant of the entry scripts: its value and why it is that value. */
export interface PacingConstant {
  readonly value: number;
  /** One line, rendered as a comment above the variable in cluster.env. */
  readonly why: string;
}

/**
 * Every pause, bound and count of the entry scripts, named. cluster.env renders them under these
 * names, grouped by the module that reads them; no script holds a pacing number of its own.
 * `DISCOVERY_TIMEOUT_SECONDS` and `DOWN_AFTER_MS` are not here: they come from props (settings).
 */
export const PACING = {
  // common.sh and discovery.sh
  CLI_TIMEOUT_SECONDS: {
    value: 3,
    why: 'bound on every redis-cli call, so that a dead or cut-off peer cannot hang a script',
  },
  RETRY_SECONDS: {
    value: 2,
    why: 'pause between two discovery attempts: short, so that a pod starts soon after the sentinels answer (DISCOVERY_TIMEOUT_SECONDS bounds the search)',
  },
  BOOTSTRAP_QUERIES: {
    value: 3,
    why: 'attempts in which no sentinel answers before the bootstrap Redis founds a new cluster: one unanswered query must not found a second master',
  },
  // auth.sh
  AUTH_WATCH_SECONDS: {
    value: 2,
    why: 'how often a container checks the mounted Secret for changed passwords (the kubelet updates it within about a minute) and applies them to its running server',
  },
  // follow.sh
  FOLLOW_INTERVAL_SECONDS: {
    value: 1,
    why: 'how often a Redis checks that it follows the master the sentinels name',
  },
  FOLLOW_STRIKES: {
    value: 30,
    why: 'checks in a row naming the same other live master before a master steps down: a sentinel still answering from before a failover cannot demote the new master',
  },
  // janitor.sh
  JANITOR_INTERVAL_SECONDS: {
    value: 10,
    why: 'how often the janitor looks for dead sentinels and a dead master',
  },
  JANITOR_STUCK_ROUNDS: {
    value: 2,
    why: 'janitor rounds in a row with its master down while the Service names another live master before a sentinel restarts afresh: one round may be a failover in progress',
  },
  JANITOR_JITTER_SECONDS: {
    value: 3,
    why: 'the janitor sleeps a random 0 to N-1 s before its last checks, so that sentinels that passed the checks in the same round do not reset together',
  },
  INFO_DUE_MS: {
    value: 9000,
    why: 'Sentinel asks a master for INFO every 10 s; the janitor resets once the last INFO is this old, so the replicas are relearned within a second',
  },
  INFO_DUE_POLL_SECONDS: {
    value: 0.2,
    why: 'how often the janitor reads the age of the last INFO while it waits for the next to be due',
  },
  INFO_DUE_MAX_POLLS: {
    value: 60,
    why: 'polls before the janitor stops waiting for a due INFO (12 s, longer than the 10 s INFO period)',
  },
  RELEARN_POLL_SECONDS: {
    value: 1,
    why: 'how often the janitor checks, after a reset, whether its sentinel knows a replica again',
  },
  RELEARN_MAX_POLLS: {
    value: 30,
    why: 'polls before the janitor stops waiting for a reset sentinel to relearn the replicas and looks again',
  },
} as const satisfies Record<string, PacingConstant>;

/** The pacing constants' names, as the scripts read them from cluster.env. */
export type PacingName = keyof typeof PACING;
