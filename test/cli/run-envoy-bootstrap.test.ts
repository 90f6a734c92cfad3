import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { isEnvoyBootstrap, loadRunConfigFile, sidecarConfigFromEnvoyBootstrap } from '../../deployer/src/sidecar/config/from-envoy-bootstrap.js';
import { loadSidecarConfigFile } from '../../deployer/src/sidecar/config/validate.js';
import { toEnvoyBootstrap } from '../../deployer/src/sidecar/envoy-bootstrap.js';
import { repoRoot } from '../setup/paths.js';

/** `deployer run -c envoy.yaml`: the subset of an Envoy bootstrap the sidecar implements. */
const configs = path.join(repoRoot, 'envoy-configs');
const sidecar = loadSidecarConfigFile(path.join(configs, 'sidecar.yaml'), repoRoot);
const bootstrap = () => structuredClone(toEnvoyBootstrap(sidecar, { wasmDir: path.join(repoRoot, 'build', 'filters') })) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const dir = mkdtempSync(path.join(tmpdir(), 'wasmesh-envoy-run-'));
const writeYaml = (name: string, value: unknown) => { const file = path.join(dir, name); writeFileSync(file, stringify(value)); return file; };
const hcmOf = (b: Record<string, any>) => b.static_resources.listeners[0].filter_chains[0].filters[0].typed_config; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('run: -c envoy.yaml (Envoy bootstrap)', () => {
  it('run: an Envoy bootstrap loads as the same sidecar config it was rendered from', () => {
    // Envoy's worker count is its --concurrency flag, not part of the bootstrap: the sidecar's default.
    expect(loadRunConfigFile(writeYaml('envoy.yaml', bootstrap()), repoRoot)).toEqual({ ...sidecar, workers: 1 });
    // …and a sidecar.yaml still loads as one.
    expect(loadRunConfigFile(path.join(configs, 'sidecar.yaml'), repoRoot)).toEqual(sidecar);
  });

  it('run: the shipped envoy-configs/envoy.yaml reads as envoy-configs/sidecar.yaml with its container paths', () => {
    const envoy = parse(readFileSync(path.join(configs, 'envoy.yaml'), 'utf8')) as unknown;
    expect(isEnvoyBootstrap(envoy)).toBe(true);
    const raw = sidecarConfigFromEnvoyBootstrap(envoy, 'envoy.yaml');
    const expected = parse(readFileSync(path.join(configs, 'sidecar.yaml'), 'utf8')) as { filters: { name: string }[] };
    expect(raw.filters!.map((f) => [f.name, f.vm_config.code.local.filename])).toEqual(expected.filters.map((f) => [f.name, `/etc/wasmesh/filters/${f.name}.wasm`]));
    expect(raw.listen).toBe('0.0.0.0:15006');
  });

  it.each([
    ['a second listener', (b: Record<string, any>) => { b.static_resources.listeners.push(structuredClone(b.static_resources.listeners[0])); }, ['static_resources.listeners: not implemented by deployer run (2 listeners; the sidecar takes exactly one)']], // eslint-disable-line @typescript-eslint/no-explicit-any
    ['a listener field', (b: Record<string, any>) => { b.static_resources.listeners[0].listener_filters_timeout = '5s'; }, ['static_resources.listeners[0].listener_filters_timeout']], // eslint-disable-line @typescript-eslint/no-explicit-any
    ['codec HTTP2 and a domain, together', (b: Record<string, any>) => { hcmOf(b).codec_type = 'HTTP2'; hcmOf(b).route_config.virtual_hosts[0].domains = ['shop.example']; }, [ // eslint-disable-line @typescript-eslint/no-explicit-any
      'static_resources.listeners[0].filter_chains[0].filters[0].typed_config.codec_type: not implemented by deployer run (HTTP2; the sidecar speaks AUTO: HTTP/1.1 and h2c)',
      'static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].domains: not implemented by deployer run (["shop.example"]; the sidecar serves every authority: ["*"])',
    ]],
    ['a load-balancing policy', (b: Record<string, any>) => { b.static_resources.clusters[0].lb_policy = 'RANDOM'; }, ['static_resources.clusters[0].lb_policy']], // eslint-disable-line @typescript-eslint/no-explicit-any
    ['another wasm runtime', (b: Record<string, any>) => { hcmOf(b).http_filters[0].typed_config.config.vm_config.runtime = 'envoy.wasm.runtime.wamr'; }, ['static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0].typed_config.config.vm_config.runtime: not implemented by deployer run (envoy.wasm.runtime.wamr; the sidecar\'s host stands for envoy.wasm.runtime.v8)']], // eslint-disable-line @typescript-eslint/no-explicit-any
  ])('run: an Envoy bootstrap with %s is refused naming every unsupported field', (_name, mutate, paths) => {
    const b = bootstrap();
    mutate(b);
    let message = '';
    try { loadRunConfigFile(writeYaml('unsupported.yaml', b), repoRoot); } catch (e) { message = (e as Error).message; }
    expect(message).toContain('not implemented by deployer run');
    for (const p of paths) expect(message).toContain(p);
  });

  it('run: the listener\'s per_connection_buffer_limit_bytes and the HCM\'s HTTP/2 stream window set the buffer limits', () => {
    const b = bootstrap();
    b.static_resources.listeners[0].per_connection_buffer_limit_bytes = 4096;
    hcmOf(b).http2_protocol_options = { initial_stream_window_size: 65535, initial_connection_window_size: 1048576 };
    const config = loadRunConfigFile(writeYaml('limits.yaml', b), repoRoot);
    expect([config.perConnectionBufferLimitBytes, config.hcm.http2InitialStreamWindowSize, config.hcm.http2InitialConnectionWindowSize]).toEqual([4096, 65535, 1048576]);
  });

  it('run: a field Envoy does not know is refused by its path, as Envoy would refuse it', () => {
    const b = bootstrap();
    b.static_resources.listeners[0].adress = b.static_resources.listeners[0].address;
    expect(() => loadRunConfigFile(writeYaml('typo.yaml', b), repoRoot)).toThrow(/typo\.yaml: static_resources\.listeners\[0\]\.adress: not a valid Envoy bootstrap \(envoy\.config\.bootstrap\.v3\.Bootstrap\)/);
  });
});
