/**
 * JSON schema of sidecar.yaml. Structure only (types, required and unknown fields); the checks
 * that need context (files exist, routes name known clusters, regexes compile, one path
 * specifier per route) are in validate.ts so each gets a message written for a human.
 * Filter fields are named as in envoy.extensions.filters.http.wasm.v3.Wasm → PluginConfig
 * (https://www.envoyproxy.io/docs/envoy/latest/api-v3/extensions/wasm/v3/wasm.proto), route
 * fields as in envoy.config.route.v3.RouteMatch / HeaderMatcher.
 */
const hostPort = { type: 'string', minLength: 1 } as const;

const duration = {
  type: 'string',
  // google.protobuf.Duration in proto3 JSON: seconds with up to 9 fractional digits and an "s".
  pattern: '^[0-9]+(\\.[0-9]{1,9})?s$',
} as const;

const stringMatcherProperties = {
  exact: { type: 'string' },
  prefix: { type: 'string', minLength: 1 },
  suffix: { type: 'string', minLength: 1 },
  contains: { type: 'string', minLength: 1 },
  safe_regex: {
    type: 'object',
    required: ['regex'],
    additionalProperties: false,
    properties: { regex: { type: 'string', minLength: 1 }, google_re2: { type: 'object' } },
  },
  ignore_case: { type: 'boolean' },
} as const;

/** Envoy's HttpConnectionManager fields the sidecar implements (deployer/src/sidecar/hcm/). */
const httpConnectionManager = {
  type: 'object',
  additionalProperties: false,
  properties: {
    normalize_path: { type: 'boolean' },
    merge_slashes: { type: 'boolean' },
    path_with_escaped_slashes_action: { enum: ['IMPLEMENTATION_SPECIFIC_DEFAULT', 'KEEP_UNCHANGED', 'REJECT_REQUEST', 'UNESCAPE_AND_REDIRECT', 'UNESCAPE_AND_FORWARD'] },
    // HttpConnectionManager.max_request_headers_kb: 1..8192 (the proto's constraint).
    max_request_headers_kb: { type: 'integer', minimum: 1, maximum: 8192 },
    common_http_protocol_options: {
      type: 'object',
      additionalProperties: false,
      properties: {
        idle_timeout: duration,
        max_headers_count: { type: 'integer', minimum: 1 },
        max_stream_duration: duration,
      },
    },
    http_protocol_options: {
      type: 'object',
      additionalProperties: false,
      properties: { accept_http_10: { type: 'boolean' } },
    },
    // Http2ProtocolOptions.initial_stream_window_size and initial_connection_window_size:
    // 65535..2147483647 (the proto's constraints).
    http2_protocol_options: {
      type: 'object',
      additionalProperties: false,
      properties: {
        initial_stream_window_size: { type: 'integer', minimum: 65535, maximum: 2147483647 },
        initial_connection_window_size: { type: 'integer', minimum: 65535, maximum: 2147483647 },
      },
    },
    stream_idle_timeout: duration,
    request_headers_timeout: duration,
    request_timeout: duration,
    drain_timeout: duration,
    delayed_close_timeout: duration,
    strip_trailing_host_dot: { type: 'boolean' },
  },
} as const;

export const sidecarConfigSchema = {
  $id: 'https://wasmesh.dev/schemas/sidecar.json',
  type: 'object',
  required: ['listen', 'clusters', 'routes'],
  additionalProperties: false,
  properties: {
    listen: hostPort,
    admin: hostPort,
    workers: { type: 'integer', minimum: 1, maximum: 64 },
    http_connection_manager: httpConnectionManager,
    access_log_format: { enum: ['envoy', 'istio'] },
    overload: {
      type: 'object',
      additionalProperties: false,
      properties: { max_active_downstream_connections: { type: 'integer', minimum: 1 } },
    },
    // Listener.per_connection_buffer_limit_bytes (uint32).
    per_connection_buffer_limit_bytes: { type: 'integer', minimum: 1, maximum: 4294967295 },
    tls: {
      type: 'object',
      required: ['cert', 'key', 'client_ca'],
      additionalProperties: false,
      properties: {
        cert: { type: 'string', minLength: 1 },
        key: { type: 'string', minLength: 1 },
        client_ca: { type: 'string', minLength: 1 },
      },
    },
    filters: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'vm_config'],
        additionalProperties: false,
        properties: {
          name: { type: 'string', minLength: 1 },
          root_id: { type: 'string' },
          vm_config: {
            type: 'object',
            required: ['code'],
            additionalProperties: false,
            properties: {
              vm_id: { type: 'string' },
              runtime: { type: 'string' },
              configuration: {},
              code: {
                type: 'object',
                required: ['local'],
                additionalProperties: false,
                properties: {
                  local: {
                    type: 'object',
                    required: ['filename'],
                    additionalProperties: false,
                    properties: { filename: { type: 'string', minLength: 1 } },
                  },
                },
              },
            },
          },
          configuration: {},
          fail_open: { type: 'boolean' },
        },
      },
    },
    clusters: {
      type: 'object',
      minProperties: 1,
      additionalProperties: {
        anyOf: [
          { type: 'string', minLength: 1 },
          {
            type: 'object',
            required: ['url'],
            additionalProperties: false,
            properties: {
              url: { type: 'string', minLength: 1 },
              connect_timeout: duration,
              // Envoy's UpstreamTlsContext, for https:// clusters (validate.ts resolves the files).
              tls: {
                type: 'object',
                additionalProperties: false,
                properties: {
                  ca: { type: 'string', minLength: 1 },
                  cert: { type: 'string', minLength: 1 },
                  key: { type: 'string', minLength: 1 },
                  sni: { type: 'string', minLength: 1 },
                  subject_alt_names: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 },
                },
              },
            },
          },
        ],
      },
    },
    routes: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['match', 'cluster'],
        additionalProperties: false,
        properties: {
          name: { type: 'string', minLength: 1 },
          match: {
            type: 'object',
            additionalProperties: false,
            properties: {
              prefix: { type: 'string', minLength: 1 },
              path: { type: 'string', minLength: 1 },
              safe_regex: stringMatcherProperties.safe_regex,
              headers: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['name'],
                  additionalProperties: false,
                  properties: {
                    name: { type: 'string', minLength: 1 },
                    string_match: {
                      type: 'object',
                      additionalProperties: false,
                      properties: stringMatcherProperties,
                    },
                    present_match: { type: 'boolean' },
                    invert_match: { type: 'boolean' },
                  },
                },
              },
            },
          },
          cluster: { type: 'string', minLength: 1 },
          timeout: duration,
        },
      },
    },
  },
} as const;

import type { RawHcmFields } from '../hcm/config.js';

/** The shape ajv guarantees after validation (before the semantic checks of validate.ts). */
export interface RawStringMatcher {
  readonly exact?: string;
  readonly prefix?: string;
  readonly suffix?: string;
  readonly contains?: string;
  readonly safe_regex?: { readonly regex: string };
  readonly ignore_case?: boolean;
}

export interface RawUpstreamTls {
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly sni?: string;
  readonly subject_alt_names?: readonly string[];
}

export interface RawSidecarConfig {
  readonly listen: string;
  readonly per_connection_buffer_limit_bytes?: number;
  readonly http_connection_manager?: RawHcmFields;
  readonly access_log_format?: 'envoy' | 'istio';
  readonly overload?: { readonly max_active_downstream_connections?: number };
  readonly admin?: string;
  readonly workers?: number;
  readonly tls?: { readonly cert: string; readonly key: string; readonly client_ca: string };
  readonly filters?: ReadonlyArray<{
    readonly name: string;
    readonly root_id?: string;
    readonly vm_config: {
      readonly vm_id?: string;
      readonly runtime?: string;
      readonly configuration?: unknown;
      readonly code: { readonly local: { readonly filename: string } };
    };
    readonly configuration?: unknown;
    readonly fail_open?: boolean;
  }>;
  readonly clusters: Readonly<Record<string, string | { readonly url: string; readonly connect_timeout?: string; readonly tls?: RawUpstreamTls }>>;
  readonly routes: ReadonlyArray<{
    readonly name?: string;
    readonly match: {
      readonly prefix?: string;
      readonly path?: string;
      readonly safe_regex?: { readonly regex: string };
      readonly headers?: ReadonlyArray<{
        readonly name: string;
        readonly string_match?: RawStringMatcher;
        readonly present_match?: boolean;
        readonly invert_match?: boolean;
      }>;
    };
    readonly cluster: string;
    readonly timeout?: string;
  }>;
}

