/**
 * Shared helpers for the metrics filter tests: load the BUILT module in the host emulator with a
 * workload's node metadata, drive one stream described by a fixture row
 * (test/fixtures/metrics/*.json), and read the recorded series the way Envoy exports them
 * (Istio's stats_tags applied, deployer/src/sidecar/stats-tags.ts).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { HeaderList, ListenerDirection, MetricSample, NodeInfo } from '../../../deployer/src/host/api.js';
import { StructType, encode, toStruct } from '../../../deployer/src/host/abi/proto.js';
import { type CompletionOverrides, HostEmulator } from '../../../deployer/src/host/testing/emulator.js';
import { ISTIO_STATS_TAGS, TagExtractor, istioDimensionTag } from '../../../deployer/src/sidecar/stats-tags.js';
import { builtFilter, repoRoot } from '../../setup/paths.js';

export const fixtureDir = path.join(repoRoot, 'test', 'fixtures', 'metrics');

export function readFixture<T>(name: string): T {
  return JSON.parse(readFileSync(path.join(fixtureDir, name), 'utf8')) as T;
}

export const nodes = readFixture<Record<string, NodeInfo>>('nodes.json');

export function node(name: string): NodeInfo {
  const found = nodes[name];
  if (found === undefined) throw new Error(`test/fixtures/metrics/nodes.json has no node "${name}"`);
  return found;
}

export interface LoadOptions {
  readonly local?: string;
  readonly direction?: ListenerDirection;
  readonly config?: unknown;
}

export async function loadMetrics(options: LoadOptions = {}): Promise<HostEmulator> {
  const emu = await HostEmulator.load({
    wasm: builtFilter('metrics'),
    rootId: 'metrics',
    name: 'metrics',
    configuration: options.config === undefined ? '' : typeof options.config === 'string' ? options.config : JSON.stringify(options.config),
    ...(options.local !== undefined ? { node: node(options.local) } : {}),
    ...(options.direction !== undefined ? { listenerDirection: options.direction } : {}),
    logLevel: 'info',
  });
  const custom = customTagNames(options.config).filter((name) => !ISTIO_STATS_TAGS.some((t) => t.tagName === name));
  extractors.set(emu, new TagExtractor([...ISTIO_STATS_TAGS, ...custom.map(istioDimensionTag)]));
  return emu;
}

/** Istio's x-envoy-peer-metadata for a node, encoded with protobufjs (an independent encoder). */
export function peerHeaders(name: string): HeaderList {
  const { id, metadata } = node(name);
  const bytes = encode(StructType, toStruct(metadata));
  return [['x-envoy-peer-metadata-id', id], ['x-envoy-peer-metadata', Buffer.from(bytes).toString('base64')]];
}

export interface StreamSpec {
  readonly request?: {
    readonly method?: string;
    readonly path?: string;
    readonly authority?: string;
    readonly headers?: Readonly<Record<string, string>>;
    readonly body?: number;
  };
  readonly response?: {
    readonly status: number;
    readonly headers?: Readonly<Record<string, string>>;
    readonly body?: number;
    readonly trailers?: Readonly<Record<string, string>>;
  };
  /** A local reply sent by an earlier filter (the metrics filter's request callbacks never run). */
  readonly localReply?: { readonly status: number; readonly details: string };
  readonly skipRequestHeaders?: boolean;
  /** Node name whose exchange headers the downstream sends (inbound). */
  readonly peer?: string;
  /** Node name whose exchange headers the upstream answers with (outbound). */
  readonly upstreamPeer?: string;
  readonly principal?: string;
  readonly durationMs?: number;
  readonly completion?: CompletionOverrides & { readonly responseCode?: number };
}

export function requestHeaders(spec: StreamSpec): HeaderList {
  const r = spec.request ?? {};
  const headers: Array<readonly [string, string]> = [
    [':method', r.method ?? 'GET'], [':path', r.path ?? '/'], [':authority', r.authority ?? 'app'], [':scheme', 'http'],
    ...Object.entries(r.headers ?? {}),
  ];
  if (spec.peer !== undefined) headers.push(...peerHeaders(spec.peer));
  if (r.body !== undefined) headers.push(['content-length', String(r.body)]);
  return headers;
}

/** Drives one stream through the emulator and completes it; returns its context id. */
export function runStream(emu: HostEmulator, spec: StreamSpec): number {
  if (spec.principal !== undefined) emu.setProperty('connection.uri_san_peer_certificate', spec.principal);
  const id = emu.initializeHttpContext();
  const headers = requestHeaders(spec);
  if (spec.skipRequestHeaders === true) {
    // The stream was answered before this filter: the host still logs the request headers.
    (emu as unknown as { state(id: number): { core: { requestHeaders?: HeaderList } } }).state(id).core.requestHeaders = headers;
  } else {
    const bodyBytes = spec.request?.body ?? 0;
    emu.callOnRequestHeaders(id, headers, bodyBytes === 0);
    if (bodyBytes > 0) emu.callOnRequestBody(id, new Uint8Array(bodyBytes), true);
  }
  emu.advanceTimeMs(spec.durationMs ?? 7);
  const response = spec.response;
  if (response !== undefined) {
    const responseHeaders: Array<readonly [string, string]> = [[':status', String(response.status)], ...Object.entries(response.headers ?? {})];
    if (spec.upstreamPeer !== undefined) responseHeaders.push(...peerHeaders(spec.upstreamPeer));
    const trailers = Object.entries(response.trailers ?? {});
    const body = response.body ?? 0;
    emu.callOnResponseHeaders(id, responseHeaders, body === 0 && trailers.length === 0);
    if (body > 0) emu.callOnResponseBody(id, new Uint8Array(body), trailers.length === 0);
    if (trailers.length > 0) emu.callOnResponseTrailers(id, trailers);
  }
  const code = spec.completion?.responseCode ?? spec.localReply?.status ?? response?.status ?? 0;
  emu.completeHttpContext(id, code, {
    ...spec.completion,
    ...(spec.localReply !== undefined ? { responseCodeDetails: spec.localReply.details } : {}),
  });
  return id;
}

export interface Series {
  readonly name: string;
  readonly type: MetricSample['type'];
  readonly labels: Readonly<Record<string, string>>;
  readonly sample: MetricSample;
}

/**
 * Extractors per emulator: Istio's bootstrap tags plus one per custom label of the filter's
 * configuration (what Istio adds to the bootstrap for Telemetry tagOverrides / extraStatTags).
 */
const extractors = new WeakMap<HostEmulator, TagExtractor>();

export function customTagNames(config: unknown): string[] {
  const metrics = (config as { metrics?: Array<{ tagOverrides?: Record<string, unknown> }> } | undefined)?.metrics ?? [];
  return [...new Set(metrics.flatMap((m) => Object.keys(m.tagOverrides ?? {})))];
}

function extractorFor(emu: HostEmulator): TagExtractor {
  return extractors.get(emu) ?? new TagExtractor(ISTIO_STATS_TAGS);
}

/** Every recorded metric, tags extracted as Envoy's Istio bootstrap would. */
export function allSeries(emu: HostEmulator): Series[] {
  const extractor = extractorFor(emu);
  return emu.host.metrics().map((sample) => {
    const { name, tags } = extractor.extractWasm(sample.name);
    return { name, type: sample.type, labels: Object.fromEntries(tags), sample };
  });
}

export function seriesNamed(emu: HostEmulator, name: string): Series[] {
  return allSeries(emu).filter((s) => s.name === name);
}
