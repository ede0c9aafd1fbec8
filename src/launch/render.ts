import { readFileSync } from 'fs';
import { join } from 'path';
import { actionKubectlArgs, kubectlText, RANDOM_BYTES } from './kubectl';
import { LaunchAction, LaunchCheck, LaunchPlan, LaunchWhen } from './plan';

// Renderers turn the plan into the launch script and the step list. They decide nothing: every
// name, number and condition comes from the plan.

/** bash quoting: a single-quoted word. */
export function shq(value: string | number): string {
  return `'${String(value).replace(/'/g, `'\\''`)}'`;
}

/** A bash word: left bare when it holds nothing the shell would read specially, else single-quoted. */
function word(value: string | number): string {
  return /^[A-Za-z0-9_./=:,@%+-]+$/.test(String(value)) ? String(value) : shq(value);
}

/** The launch library's function for each check, and its arguments. */
function checkCall(c: LaunchCheck): string[] {
  switch (c.type) {
    case 'bootstrap-master': return ['check_bootstrap_master'];
    case 'replicas-in-sync': return ['check_replicas_in_sync', String(c.redisPods)];
    case 'sentinels-agree': return ['check_sentinels_agree', String(c.sentinels)];
    case 'new-master': return ['check_new_master'];
    case 'one-master': return ['check_one_master'];
    case 'controllers-ready': return ['check_controllers_ready'];
  }
}

/**
 * The kubectl call of an action, as a line of the script: manifests are found in $MANIFEST_DIR,
 * random files in $RANDOM_FILES (made by make_random_files).
 */
function kubectlLine(a: LaunchAction): string {
  const args = actionKubectlArgs(a);
  if (!args) throw new Error(`action ${a.type} runs no kubectl`);
  return ['k', ...args.map((x) => {
    if (typeof x === 'string') return word(x);
    if ('manifest' in x) return `"$MANIFEST_DIR"/${shq(x.manifest)}`;
    return `${word(x.prefix)}"$RANDOM_FILES"/${shq(x.randomFile)}`;
  })].join(' ');
}

function scriptLines(a: LaunchAction): string[] {
  switch (a.type) {
    case 'create-secret': return [
      `if secret_missing ${shq(a.secret)}; then`,
      `  make_random_files ${a.keys.map(shq).join(' ')}`,
      `  ${kubectlLine(a)}`,
      '  remove_random_files',
      'fi',
    ];
    case 'apply': return [`${GUARD[a.when]} ${kubectlLine(a)}`];
    case 'scale': return [kubectlLine(a)];
    case 'wait': return [`wait_until ${a.timeoutSeconds} ${shq(a.until)} ${shq(a.hint)} ${checkCall(a.condition).join(' ')}`];
    case 'delete-pod': return [`note_deleted_pod_ip ${shq(a.pod)}`, kubectlLine(a)];
    case 'survey': return [`relaunch_survey ${a.foundSeconds}`];
    case 'start-afresh': return ['if starting_afresh; then', `  ${kubectlLine(a)}`, '  launch_afresh', 'fi'];
    case 'report': return ['report_master'];
  }
}

/** The launch library's function that runs a command only when (detect_launched sets LAUNCHED; launch_afresh clears it). */
const GUARD: Record<Exclude<LaunchWhen, 'always'>, string> = {
  'first-launch': 'on_first_launch',
  'relaunch': 'on_relaunch',
};

/** How the step list says when something runs. */
const WHEN_TEXT: Record<Exclude<LaunchWhen, 'always'>, string> = {
  'first-launch': 'first launch only',
  'relaunch': 'when launched before',
};

/** A person's reading of one action, with the kubectl command where there is one. */
export function describeAction(a: LaunchAction, namespace?: string): string {
  const text = () => kubectlText(actionKubectlArgs(a)!, namespace);
  switch (a.type) {
    case 'create-secret': return `${text()} (unless the Secret exists)`;
    case 'apply': return `${text()} (${a.when === 'relaunch' ? 'when launched before: all but the bootstrap pod' : WHEN_TEXT[a.when]})`;
    case 'scale':
    case 'delete-pod':
      return text();
    case 'wait': return `wait up to ${a.timeoutSeconds}s until ${a.until}`;
    case 'survey': return 'print what each Redis pod (role, master, keys or data files) and each sentinel (the master it names) says, and what to do; '
      + `when no pod is a master and none holds data, wait up to ${a.foundSeconds}s for the pods to found a cluster themselves`;
    case 'start-afresh': return `only if the cluster is still lost (no master, no data): ${text()}, then the first launch's steps`;
    case 'report': return 'print the master pod and address that the sentinels agree on';
  }
}

let launchLib: string | undefined;
function launchLibrary(): string {
  launchLib ??= readFileSync(join(__dirname, 'launch-lib.sh'), 'utf8');
  return launchLib;
}

/** dist/launch/launch.sh */
export function renderLaunchScript(plan: LaunchPlan): string {
  const c = plan.context;
  const vars: Array<[string, string | number]> = [
    ['INSTANCE', c.instance],
    ['MANIFEST_PATH', c.manifestDir],
    ['BOOTSTRAP_POD', c.bootstrapPod],
    ['REDIS_RC', c.redisController],
    ['SENTINEL_RC', c.sentinelController],
    ['SENTINEL_SERVICE', c.sentinelService],
    ['REDIS_SELECTOR', c.redisSelector],
    ['SENTINEL_SELECTOR', c.sentinelSelector],
    ['BOOTSTRAP_REDIS_CONTAINER', c.bootstrapRedisContainer],
    ['REDIS_CONTAINER', c.redisContainer],
    ['SENTINEL_CONTAINER', c.sentinelContainer],
    ['MASTER_NAME', c.masterName],
    ['REDIS_PORT', c.redisPort],
    ['SENTINEL_PORT', c.sentinelPort],
    ['REDIS_REPLICAS', c.redisReplicas],
    ['SENTINEL_REPLICAS', c.sentinelReplicas],
    ['CLI', c.cliScript],
    ['DATA_DIR', c.dataDir],
    ['STEP_COUNT', plan.steps.length],
    ['PASSWORD_BYTES', RANDOM_BYTES],
  ];
  const out: string[] = [
    '#!/usr/bin/env bash',
    `# Launch sequence for Redis + Sentinel '${c.instance}', generated by cdk8s-redis-sentinel from the`,
    '# same plan as steps.json. Run it from anywhere with kubectl on PATH (or KUBECTL=...) pointing at',
    `# the cluster; it applies the manifests in ${c.manifestDir} (relative to this file). Running it again after a`,
    '# completed launch changes nothing.',
    '# Environment: KUBECTL, NAMESPACE (overrides the namespace below), LAUNCH_POLL_SECONDS,',
    '# LAUNCH_MAX_WAIT_SECONDS (caps every wait), MANIFEST_DIR.',
    'set -euo pipefail',
    '',
    ...vars.map(([k, v]) => `${k}=${shq(v)}`),
    `NAMESPACE=\${NAMESPACE:-${shq(c.namespace ?? '')}}`,
    '',
    launchLibrary().trimEnd(),
    '',
    'detect_launched',
  ];
  for (const st of plan.steps) {
    out.push('', `step ${st.number} ${shq(st.title)}`);
    const body = st.actions.flatMap(scriptLines);
    if (st.when === 'first-launch') {
      out.push('if [[ "$LAUNCHED" == no ]]; then', ...body.map((l) => `  ${l}`), 'else', '  say \'skipped: the cluster is already launched\'', 'fi');
    } else if (st.when === 'relaunch') {
      out.push('if [[ "$LAUNCHED" == yes ]]; then', ...body.map((l) => `  ${l}`), 'else', '  say \'skipped: a first launch\'', 'fi');
    } else {
      out.push(...body);
    }
  }
  return out.join('\n') + '\n';
}

/** dist/launch/steps.json */
export function renderStepsJson(plan: LaunchPlan): string {
  return JSON.stringify({
    context: plan.context,
    files: plan.files,
    steps: plan.steps.map((st) => ({
      ...st,
      actions: st.actions.map((a) => ({ ...a, text: describeAction(a, plan.context.namespace) })),
    })),
  }, null, 2) + '\n';
}

/** dist/launch/steps.md */
export function renderStepsMarkdown(plan: LaunchPlan): string {
  const c = plan.context;
  const out = [
    `# Launch steps for '${c.instance}'`,
    '',
    'Generated by cdk8s-redis-sentinel from the same plan as `launch.sh` and `steps.json`.',
    '`launch.sh` runs these steps; you may also follow them by hand.',
    '',
  ];
  for (const st of plan.steps) {
    out.push(`${st.number}. **${st.title}**${st.when === 'always' ? '' : ` (${WHEN_TEXT[st.when]})`}`);
    for (const a of st.actions) out.push(`   - ${describeAction(a, c.namespace)}`);
  }
  return out.join('\n') + '\n';
}
