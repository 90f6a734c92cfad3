import type { Command } from 'commander';
import { manifestsToJson, manifestsToYaml, renderFilterTargets, writeManifests } from '../../render/index.js';
import { addWiringOptions, loadWiringTargets, parseWiring, requestedNamespace, type WiringFlags } from '../../push/cli-options.js';
import { filterNameFromPath, localPinnedImage, readWasmFile } from '../../push/push.js';
import { validateRendered } from '../../push/validate-rendered.js';
import { routerRoutesFromIstio } from '../../render/route-patches.js';
import { checkDirectionNotPassedAsContext } from '../options.js';

interface RenderFlags extends WiringFlags {
  readonly out?: string;
  readonly digest?: string;
}

export function register(program: Command): void {
  const command = program
    .command('render')
    .description('Render the EnvoyFilter/WasmPlugin for a filter (pinned by the image digest) to stdout or a folder, for GitOps')
    .argument('<wasm>', 'the filter module; its image digest is computed locally (same bytes as deployer push)');
  addWiringOptions(command)
    .option('--out <dir>', 'write one file per object into this folder instead of stdout (env DEPLOYER_RENDER_OUT)', process.env.DEPLOYER_RENDER_OUT)
    .addHelpText('after', `
Examples:
  $ deployer render build/filters/jwt-auth.wasm --image oci://registry.local:5000/wasmesh/jwt-auth:v1 --config jwt.json
  $ deployer render build/filters/rbac.wasm --image oci://registry.local:5000/wasmesh/rbac:v1 --istio authz.yaml -n bookinfo -l app=productpage
  $ deployer render build/filters/rbac.wasm --image oci://registry.local:5000/wasmesh/rbac:v1 --via wasmplugin --out gitops/shop

With --istio, policies are selected as istiod does (root namespace, namespace, selector,
targetRefs): one object per scope, each holding exactly the policies that apply there (scopes that
overlap: one workload-scoped object covering them, each proxy keeping its own policies); what was
left out, and why, is printed on stderr. The output is deterministic: apply-time facts
(applied-at, history) are added by push/rollback when they apply.`)
    .action(async (wasmPath: string, flags: RenderFlags) => {
      if (!flags.image) throw new Error('no image given: expected --image oci://host/repo[:tag] (or DEPLOYER_IMAGE)');
      checkDirectionNotPassedAsContext(flags);
      const wiring = parseWiring(flags);
      const filter = flags.filter ?? filterNameFromPath(wasmPath);
      const wasm = await readWasmFile(wasmPath);
      const image = await localPinnedImage(wasm, flags.image, wiring.format)
        .catch((error: unknown) => { throw new Error(`${wasmPath}: ${error instanceof Error ? error.message : String(error)}`); });
      const { targets, note } = await loadWiringTargets(flags, filter, { namespace: requestedNamespace(flags, wiring), selector: wiring.selector, context: wiring.context });
      if (note) process.stderr.write(`deployer render: ${note}\n`);
      const manifests = renderFilterTargets({
        filter, context: wiring.context, via: wiring.via, failStrategy: wiring.failStrategy, image,
        imagePullPolicy: wiring.imagePullPolicy, imagePullSecret: wiring.imagePullSecret, priority: wiring.priority,
        // header-router from VirtualServices: also the routes its routing header selects.
        ...(flags.istio && filter === 'header-router' ? await routerRoutesFromIstio(flags.istio) : {}),
      }, targets);
      await validateRendered(wasm, manifests, Object.keys(wiring.selector).length > 0);
      if (flags.out) {
        for (const file of await writeManifests(flags.out, manifests, wiring.output)) process.stderr.write(`wrote ${file}\n`);
        return;
      }
      process.stdout.write(wiring.output === 'json' ? manifestsToJson(manifests) : manifestsToYaml(manifests));
    });
}
