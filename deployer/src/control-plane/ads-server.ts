import * as grpc from '@grpc/grpc-js';
import { DeltaStream } from './ads-delta.js';
import { SotwStream } from './ads-sotw.js';
import type { StreamContext, StreamSink } from './ads-stream.js';
import { decodeDeltaDiscoveryRequest, decodeDiscoveryRequest, type DeltaDiscoveryRequest, type DiscoveryRequest } from './xds-wire.js';
import { xdsProtoRoot } from './xds-protos.js';

const SERVICE = '/envoy.service.discovery.v3.AggregatedDiscoveryService';

/** envoy.service.discovery.v3.AggregatedDiscoveryService (envoy/service/discovery/v3/ads.proto), both RPCs. */
function adsServiceDefinition(): grpc.ServiceDefinition {
  const passthrough = (bytes: Buffer): Buffer => bytes;
  return {
    StreamAggregatedResources: {
      path: `${SERVICE}/StreamAggregatedResources`, requestStream: true, responseStream: true,
      requestSerialize: passthrough, requestDeserialize: (b: Buffer) => decodeDiscoveryRequest(b),
      responseSerialize: passthrough, responseDeserialize: passthrough,
    },
    DeltaAggregatedResources: {
      path: `${SERVICE}/DeltaAggregatedResources`, requestStream: true, responseStream: true,
      requestSerialize: passthrough, requestDeserialize: (b: Buffer) => decodeDeltaDiscoveryRequest(b),
      responseSerialize: passthrough, responseDeserialize: passthrough,
    },
  } as unknown as grpc.ServiceDefinition;
}

function sinkFor(call: grpc.ServerDuplexStream<unknown, Buffer>): StreamSink {
  return {
    write: (response) => { if (!call.writableEnded && !call.destroyed) call.write(response); },
    fail: (code, message) => call.emit('error', { code: grpc.status[code], details: message }),
  };
}

export interface AdsServerOptions {
  /** `host:port`; port 0 picks a free port. */
  readonly address: string;
  readonly credentials?: grpc.ServerCredentials;
}

export interface RunningAdsServer {
  /** `host:port` actually bound. */
  readonly address: string;
  /** Streams open now. */
  streamCount(): number;
  /** Cut every stream (tests: connection loss) without stopping the server. */
  cutStreams(): void;
  close(): Promise<void>;
}

/** Serve ADS on @grpc/grpc-js; each stream reads snapshots from the context's cache. */
export async function startAdsServer(context: StreamContext, options: AdsServerOptions): Promise<RunningAdsServer> {
  xdsProtoRoot(); // load the protos before the first stream, not during it
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 16 * 1024 * 1024 });
  const calls = new Set<grpc.ServerDuplexStream<unknown, Buffer>>();
  const serve = <R>(stream: { onRequest(r: R): void; close(): void }, call: grpc.ServerDuplexStream<R, Buffer>): void => {
    calls.add(call as grpc.ServerDuplexStream<unknown, Buffer>);
    const done = () => { calls.delete(call as grpc.ServerDuplexStream<unknown, Buffer>); stream.close(); };
    call.on('data', (request: R) => {
      try {
        stream.onRequest(request);
      } catch (error) {
        context.log(`control-plane: ADS stream error: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
        call.emit('error', { code: grpc.status.INTERNAL, details: error instanceof Error ? error.message : String(error) });
      }
    });
    call.on('end', () => { done(); call.end(); });
    call.on('error', done);
    call.on('cancelled', done);
    call.on('close', done);
  };
  server.addService(adsServiceDefinition(), {
    StreamAggregatedResources: (call: grpc.ServerDuplexStream<DiscoveryRequest, Buffer>) => serve(new SotwStream(context, sinkFor(call as grpc.ServerDuplexStream<unknown, Buffer>)), call),
    DeltaAggregatedResources: (call: grpc.ServerDuplexStream<DeltaDiscoveryRequest, Buffer>) => serve(new DeltaStream(context, sinkFor(call as grpc.ServerDuplexStream<unknown, Buffer>)), call),
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(options.address, options.credentials ?? grpc.ServerCredentials.createInsecure(), (error, bound) => {
      if (error) reject(new Error(`could not listen for xDS on ${options.address}: ${error.message}`));
      else resolve(bound);
    });
  });
  const host = options.address.slice(0, options.address.lastIndexOf(':'));
  return {
    address: `${host}:${port}`,
    streamCount: () => calls.size,
    cutStreams: () => {
      for (const call of [...calls]) call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'connection cut' });
    },
    close: () => new Promise<void>((resolve) => {
      for (const call of [...calls]) call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'control plane shutting down' });
      server.tryShutdown(() => resolve());
      setTimeout(() => { server.forceShutdown(); resolve(); }, 2000).unref();
    }),
  };
}
