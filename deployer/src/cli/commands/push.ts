import type { Command } from 'commander';
import { manifestsToJson, manifestsToYaml } from '../../render/index.js';
import { addKubeOptions, addWiringOptions, loadWiringTargets, parseDryRunFlag, parseWiring, requestedNamespace, type WiringFlags } from '../../push/cli-options.js';
import { routerRoutesFromIstio } from '../../render/route-patches.js';
import { filterNameFromPath, readWasmFile, runPush, type PushProgress } from '../../push/push.js';
import { checkDirectionNotPassedAsContext, kubeContext } from '../options.js';
import { dryRunMarker, palette } from '../output.js';
import { addControlPlaneClientOptions, pushToControlPlaneCommand, type ControlPlaneClientFlags } from './control-plane-clients.js';

interface PushFlags extends WiringFlags, ControlPlaneClientFlags {
  readonly dryRun?: string | boolean;
  readonly force: boolean;
  readonly dockerConfig?: string;
  readonly chunkSize?: string;
}

export function register(program: Command): void {
  const command = program
    .command('push')
    .description('Inspect a filter module, push it as an OCI image, render its Istio wiring pinned by digest, validate and apply it')
    .argument('<wasm>', 'the filter module, e.g. build/filters/jwt-auth.wasm');
  addWiringOptions(command);
  addControlPlaneClientOptions(command, true);
  addKubeOptions(command)
    .option('--docker-config <file>', 'Docker config.json with registry credentials (env DEPLOYER_DOCKER_CONFIG)', process.env.DEPLOYER_DOCKER_CONFIG)
    .option('--chunk-size <bytes>', 'chunked upload size (env DEPLOYER_CHUNK_SIZE)', process.env.DEPLOYER_CHUNK_SIZE)
    .addHelpText('after', `
Examples:
  $ deployer push build/filters/jwt-auth.wasm --image oci://registry.local:5000/wasmesh/jwt-auth:v1 \\
      --config jwt.json --namespace shop --selector app=reviews
  $ deployer push build/filters/rbac.wasm --image oci://registry.local:5000/wasmesh/rbac:v1 --istio authz.yaml --via wasmplugin
  $ deployer push build/filters/rbac.wasm --image oci://registry.local:5000/wasmesh/rbac:v1 --istio authz.yaml -n bookinfo -l app=productpage
  $ deployer push build/filters/metrics.wasm --image oci://registry.local:5000/wasmesh/metrics:v1 --dry-run=client -o json
  $ deployer push build/filters/rbac.wasm --control-plane http://127.0.0.1:15081 --token-file token -n shop --selector app=cart --istio authz.yaml`)
    .action(async (wasmPath: string, flags: PushFlags) => {
      if (flags.controlPlane) return pushToControlPlaneCommand(wasmPath, flags);
      if (!flags.image) throw new Error('no image given: expected --image oci://host/repo[:tag] (or DEPLOYER_IMAGE)');
      checkDirectionNotPassedAsContext(flags);
      const wiring = parseWiring(flags);
      const filter = flags.filter ?? filterNameFromPath(wasmPath);
      const chunkSize = flags.chunkSize !== undefined ? Number(flags.chunkSize) : undefined;
      if (chunkSize !== undefined && (!Number.isInteger(chunkSize) || chunkSize <= 0)) throw new Error(`--chunk-size "${flags.chunkSize}": expected a positive number of bytes`);
      const dryRun = parseDryRunFlag(flags.dryRun);
      const { targets, note, rootNamespace } = await loadWiringTargets(flags, filter, { namespace: requestedNamespace(flags, wiring), selector: wiring.selector, context: wiring.context });
      if (note) process.stderr.write(`deployer push: ${note}\n`);
      const result = await runPush({
        wasm: await readWasmFile(wasmPath), filter, image: flags.image, format: wiring.format,
        targets, ...(rootNamespace ? { rootNamespace } : {}), namespace: wiring.namespace, selector: wiring.selector, context: wiring.context,
        via: wiring.via, failStrategy: wiring.failStrategy, imagePullPolicy: wiring.imagePullPolicy, imagePullSecret: wiring.imagePullSecret, priority: wiring.priority,
        dryRun, force: flags.force, kube: { kubeconfig: flags.kubeconfig, context: kubeContext(flags) },
        dockerConfigPath: flags.dockerConfig, chunkSize, onProgress: (event) => printProgress(event, dryRunMarker(dryRun)),
        ...(flags.istio && filter === 'header-router' ? await routerRoutesFromIstio(flags.istio) : {}),
      });
      process.stderr.write(`${result.pushed ? 'pushed' : `image not pushed${dryRunMarker(dryRun)}`} ${result.image.url}\n`);
      for (const other of result.untouched) process.stderr.write(`note: ${other} is another scope of ${filter}, left as it is (deployer undeploy ${filter} -n <ns> -l <labels> removes it)\n`);
      process.stdout.write(wiring.output === 'json' ? manifestsToJson(result.manifests) : manifestsToYaml(result.manifests));
    });
}

/** Progress on stderr so stdout stays the manifests (pipe-able). */
function printProgress(event: PushProgress, marker: string): void {
  // Steps that would change something elsewhere (push, apply) carry the dry-run mark.
  const mark = event.step === 'push' || event.step === 'apply' ? marker : '';
  if (event.state === 'done') process.stderr.write(`  ${palette(process.stderr).green('✓')} ${event.step}${mark} (${event.ms.toFixed(0)} ms)${event.detail ? `: ${event.detail}` : ''}\n`);
  else if (event.state === 'progress' && event.oci.step === 'blob' && event.oci.state === 'done') process.stderr.write(`    blob ${event.oci.digest.slice(0, 19)}… ${event.oci.bytesTotal} bytes\n`);
}
