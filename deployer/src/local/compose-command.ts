/**
 * The compose invocations behind `deployer local`, as pure data: the same stack through
 * `docker compose` (v2) or `docker-compose` (v1.28+, which has --profile), so what runs is
 * testable without an engine. The xDS variant is the `xds` profile plus WASMESH_ENVOY_CONFIG
 * naming the bootstrap Envoy boots from (envoy-configs/docker-compose.yml).
 */
import type { ComposeCli } from '../envoy/compose.js';

export type LocalAction = 'up' | 'down' | 'logs' | 'ps' | 'ready' | 'metrics';

export interface ComposeTarget {
  readonly file: string;
  readonly projectName: string;
  readonly xds: boolean;
}

export interface Invocation {
  readonly command: string;
  readonly args: readonly string[];
  /** Added to the environment compose runs with (interpolated into the file). */
  readonly env: Readonly<Record<string, string>>;
}

export const XDS_PROFILE = 'xds';

const ACTION_ARGS: Readonly<Record<LocalAction, readonly string[]>> = {
  // --wait is v2 only; `deployer local up` polls Envoy's /ready itself, which works with both.
  up: ['up', '-d', '--remove-orphans'],
  down: ['down', '--remove-orphans', '--volumes'],
  logs: ['logs', '--follow', '--tail', '200', 'envoy'],
  ps: ['ps', '-q', 'envoy'],
  // Envoy's admin stays on its loopback (as in a pod); read it from inside the namespace.
  ready: ['exec', '-T', 'envoy', 'curl', '-sf', 'http://127.0.0.1:15000/ready'],
  metrics: ['exec', '-T', 'envoy', 'curl', '-s', 'http://127.0.0.1:15000/stats/prometheus'],
};

export function composeInvocation(cli: ComposeCli, action: LocalAction, target: ComposeTarget): Invocation {
  // `down` takes the profile too, or the control plane would be left running after an --xds up.
  const profile = target.xds || action === 'down' ? ['--profile', XDS_PROFILE] : [];
  return {
    command: cli.command,
    args: [...cli.prefix, '-f', target.file, '--project-name', target.projectName, ...profile, ...ACTION_ARGS[action]],
    env: { WASMESH_ENVOY_CONFIG: target.xds ? 'envoy-xds.yaml' : 'envoy.yaml' },
  };
}
