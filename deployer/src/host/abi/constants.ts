/**
 * proxy-wasm ABI enumerations (the same numbers in 0.1.0 and 0.2.x), numbered as the spec and proxy-wasm-cpp-host
 * (include/proxy-wasm/wasm_api_impl.h, src/common/types.h).
 */
export const WasmResult = {
  Ok: 0,
  NotFound: 1,
  BadArgument: 2,
  SerializationFailure: 3,
  ParseFailure: 4,
  BadExpression: 5,
  InvalidMemoryAccess: 6,
  Empty: 7,
  CasMismatch: 8,
  ResultMismatch: 9,
  InternalFailure: 10,
  BrokenConnection: 11,
  Unimplemented: 12,
} as const;
export type WasmResultCode = (typeof WasmResult)[keyof typeof WasmResult];

export const HeaderMapType = {
  RequestHeaders: 0,
  RequestTrailers: 1,
  ResponseHeaders: 2,
  ResponseTrailers: 3,
  GrpcReceiveInitialMetadata: 4,
  GrpcReceiveTrailingMetadata: 5,
  HttpCallResponseHeaders: 6,
  HttpCallResponseTrailers: 7,
  Max: 7,
} as const;

export const BufferType = {
  HttpRequestBody: 0,
  HttpResponseBody: 1,
  NetworkDownstreamData: 2,
  NetworkUpstreamData: 3,
  HttpCallResponseBody: 4,
  GrpcReceiveBuffer: 5,
  VmConfiguration: 6,
  PluginConfiguration: 7,
  CallData: 8,
  Max: 8,
} as const;

export const StreamType = { Request: 0, Response: 1, Downstream: 2, Upstream: 3, Max: 3 } as const;

export const MetricType = { Counter: 0, Gauge: 1, Histogram: 2, Max: 2 } as const;

export const FilterHeadersStatus = {
  Continue: 0,
  StopIteration: 1,
  ContinueAndEndStream: 2,
  StopAllIterationAndBuffer: 3,
  StopAllIterationAndWatermark: 4,
} as const;

export const FilterDataStatus = {
  Continue: 0,
  StopIterationAndBuffer: 1,
  StopIterationAndWatermark: 2,
  StopIterationNoBuffer: 3,
} as const;

export const FilterTrailersStatus = { Continue: 0, StopIteration: 1 } as const;

/** spdlog levels as Envoy maps proxy_log levels (envoy:context.cc Context::log). */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'critical'] as const;

/** ABI versions a module can declare with its `proxy_abi_version_*` export marker (the table: envoy-abi.ts). */
export type { AbiVersion } from './envoy-abi.js';
