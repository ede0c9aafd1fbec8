/** One pacing constant of the entry scripts: its value and why it is that value. */
export interface PacingConstant {
  readonly value: number;
  /** One line, rendered as a comment above the variable in cluster.env. */
  readonly why: string;
}

/**
 * Every pause, bound and count of the entry scripts, named. cluster.env renders them under these
 * names, grouped by the module that reads them; no script holds a pacing number of its own.
 * The values that follow from props (`DISCOVERY_TIMEOUT_SECONDS`, `DOWN_AFTER_MS`,
 * `FENCE_AFTER_MS`, `HANDOVER_SECONDS`, ...) are not here: `clusterEnv` derives them from settings.
 */
export const PACING = {
  // common.sh and discovery.sh
  CLI_TIMEOUT_SECONDS: {
    value: 3,
    why: 'bound on every redis-cli call, so that a dead or cut-off peer cannot hang a script',
  },
  ASK_TIMEOUT_SECONDS: {
    value: 0.5,
    why: 'bound on each question of a survey (every sentinel, every Redis pod, asked at once): a frozen or gone one delays a check by this much, and a fence by no more',
  },
  RETRY_SECONDS: {
    value: 2,
    why: 'pause between two discovery attempts: short, so that a pod starts soon after the sentinels answer (DISCOVERY_TIMEOUT_SECONDS bounds the search)',
  },
  // founding.sh and follow.sh
  BOOTSTRAP_QUERIES: {
    value: 3,
    why: 'checks in which no sentinel names a master before the bootstrap Redis founds a new cluster: one unanswered query must not found a second master',
  },
  FOUND_CHECKS: {
    value: 3,
    why: 'checks in a row, RETRY_SECONDS apart, that find no master anywhere before the best Redis pod founds a cluster: a master that is just restarting gets its chance',
  },
  STARTUP_POLLS: {
    value: 50,
    why: 'polls for the local redis-server to answer before the state machine starts checking anyway (10 s at STARTUP_POLL_SECONDS)',
  },
  STARTUP_POLL_SECONDS: {
    value: 0.2,
    why: 'how often the state machine looks whether redis-server answers yet, so that a pod follows its master as soon as it can',
  },
  FAILOVER_ASK_SECONDS: {
    value: 2,
    why: 'how often a restarted master that the sentinels still name asks them again to fail over from it while none is in progress: one that they accepted can abort at once (no good replica while their links to the replicas reconnect), and their own failover would wait down-after',
  },
  FOLLOW_INTERVAL_SECONDS: {
    value: 1,
    why: 'how often a Redis checks that it follows the authoritative master: a replica leaves a deposed master and a cut-off master fences itself within a second of seeing it',
  },
  HOME_AFTER_SECONDS: {
    value: 30,
    why: 'how long the home pod (masterOnFirstPod) must have been an online, acknowledging replica, with every sentinel naming the master, before the master hands back to it: a pod that fails sooner after it rejoins (a crash loop, a flapping node) is never handed the master',
  },
  // auth.sh
  AUTH_WATCH_SECONDS: {
    value: 2,
    why: 'how often a container checks the mounted Secret for changed passwords (the kubelet updates it within about a minute) and applies them to its running server',
  },
  // sentinel.sh
  SENTINEL_INFO_PERIOD_MS: {
    value: 1000,
    why: 'how often each sentinel asks every Redis for INFO (Sentinel\'s default is 10 s): a failover promotes only a replica whose INFO is under 5 s old, so with 10 s it aborts about half the time (no good replica) and retries only after twice failover-timeout',
  },
  SENTINEL_LINK_RECONNECT_MS: {
    value: 1000,
    why: 'how old a sentinel\'s link to an instance must be before it drops it for unanswered pings (Sentinel\'s default is 15 s; unanswered pings are needed too, for down-after/2): Sentinel resolves a name again only when it reconnects, and a first try at a replaced pod\'s old IP hung 15 s',
  },
  // janitor.sh
  JANITOR_INTERVAL_SECONDS: {
    value: 10,
    why: 'how often the janitor looks for instances to prune and for a dead master',
  },
  JANITOR_STUCK_ROUNDS: {
    value: 2,
    why: 'janitor rounds in a row with its master down while a live master exists elsewhere before a sentinel restarts with a fresh discovery: one round may be a failover in progress',
  },
  PRUNE_AFTER_SECONDS: {
    value: 30,
    why: 'how long a replica or sentinel has not answered before the janitor prunes it: longer than a container restart (the first kubelet back-off is 10 s) and a failover (15 s by default), so that nothing coming back is forgotten; short enough that a deleted pod is gone before most next failures',
  },
  RESTART_POLLS: {
    value: 30,
    why: 'polls before the janitor stops waiting for a pruned sentinel to answer again and looks again',
  },
  RESTART_POLL_SECONDS: {
    value: 0.5,
    why: 'how often the janitor checks whether a pruned sentinel answers again',
  },
  // handover.sh
  HANDOVER_POLL_SECONDS: {
    value: 0.05,
    why: 'how often a leaving master checks its replica\'s offset and the sentinels\' answer: writes are paused meanwhile, so every step is taken as soon as it can be',
  },
  HANDOVER_INFO_LEAD_MS: {
    value: 300,
    why: 'how long before the failover leader\'s next INFO of the successor a leaving master pauses writes: the pause, the offset check, SENTINEL FAILOVER and the leader\'s steps to SLAVEOF NO ONE take 100 to 250 ms, and a promotion that misses that INFO is seen a whole SENTINEL_INFO_PERIOD_MS later, with writes paused',
  },
} as const satisfies Record<string, PacingConstant>;

/** The pacing constants' names, as the scripts read them from cluster.env. */
export type PacingName = keyof typeof PACING;
