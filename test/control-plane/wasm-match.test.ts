/**
 * WasmPlugin.match (mode CLIENT / SERVER / CLIENT_AND_SERVER, ports) puts a plugin on the
 * listeners istiod would (pilot/pkg/model/wasm.go matchTrafficSelectors): outbound listeners by
 * service port, inbound chains by the application's (target) port. Table-driven from
 * test/fixtures/control-plane/wasm-match/.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { convertResources, ConfigInputError, type SourcedResource } from '../../deployer/src/control-plane/istio-input.js';
import type { FilterAttachment } from '../../deployer/src/control-plane/mesh-model.js';
import { outboundListener, virtualInboundListener } from '../../deployer/src/control-plane/resources/listeners.js';
import type { IstioResource } from '../../deployer/src/translate/index.js';
import { FIXTURES } from './harness.js';

const dir = path.join(FIXTURES, 'wasm-match');
const sourced = (text: string, file: string): SourcedResource[] => parseAllDocuments(text).map((d, i) => ({ file, document: i + 1, resource: d.toJS() as IstioResource }));
const plugins = convertResources(sourced(readFileSync(path.join(dir, 'plugins.yaml'), 'utf8'), 'plugins.yaml')).wasmPlugins;
const expected = (JSON.parse(readFileSync(path.join(dir, 'expected.json'), 'utf8')) as { runsOn: Record<string, Record<string, boolean>> }).runsOn;

const attachment = (p: (typeof plugins)[number]): FilterAttachment => ({
  name: `${p.namespace}.${p.name}`, namespace: p.namespace, selector: p.selector, phase: p.phase, priority: p.priority, rootId: p.rootId,
  sha256: '0'.repeat(64), configuration: p.configuration, failOpen: p.failOpen, origin: 'test', traffic: p.traffic,
});

type Chain = { filter_chain_match?: { destination_port?: { value: number } }; filters: { typed_config: { http_filters: { name: string }[] } }[] };
const names = (chain: Chain) => chain.filters[0]!.typed_config.http_filters.map((f) => f.name);

describe('control-plane: WasmPlugin.match selects listeners by mode and port', () => {
  it.each(Object.entries(expected))('%s runs on the listeners its match selects', (name, where) => {
    const plugin = plugins.find((p) => p.name === name);
    expect(plugin, name).toBeDefined();
    const filter = attachment(plugin!);
    const outbound = (port: number) => names((outboundListener(port, [filter]).message as { filter_chains: Chain[] }).filter_chains[0]!).includes(filter.name);
    const inbound = virtualInboundListener([{ number: 9080, name: 'http', protocol: 'HTTP', targetPort: 8080 }, { number: 9090, name: 'http-b', protocol: 'HTTP', targetPort: 9091 }], [filter]);
    const chains = (inbound.message as { filter_chains: Chain[] }).filter_chains;
    const inboundOn = (port: number) => names(chains.find((c) => c.filter_chain_match?.destination_port?.value === port)!).includes(filter.name);
    expect({ outbound9080: outbound(9080), outbound9090: outbound(9090), inbound8080: inboundOn(8080), inbound9091: inboundOn(9091) }).toEqual(where);
    // A listener refers to the extension configs it runs (the snapshot's consistency check needs them).
    const referenced = (outboundListener(9080, [filter]).references ?? []).some((r) => r.name === filter.name);
    expect(referenced).toBe(where['outbound9080']);
  });

  it.each([
    ['mode: SIDEWAYS', /spec\.match\[0\]\.mode: SIDEWAYS: expected one of UNDEFINED, CLIENT, SERVER, CLIENT_AND_SERVER/],
    ['ports: [{ number: 70000 }]', /spec\.match\[0\]\.ports\[0\]\.number: 70000: expected a port number 1-65535/],
  ])('a match with %s is refused naming the field', (entry, message) => {
    const text = `apiVersion: extensions.istio.io/v1alpha1\nkind: WasmPlugin\nmetadata: { name: bad, namespace: shop }\nspec:\n  url: file:///unused.wasm\n  match:\n  - ${entry}\n`;
    const problems: ConfigInputError[] = [];
    convertResources(sourced(text, 'bad.yaml'), 'default', (p) => problems.push(p));
    expect(problems.map((p) => p.message)).toEqual([expect.stringMatching(message)]);
  });
});
