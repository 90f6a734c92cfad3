/**
 * example: the smallest useful wasmesh filter, and the template the others follow.
 * Adds configured headers to requests and responses and counts the streams it saw.
 */
export * from "@solo-io/proxy-runtime/assembly/proxy";
import {
  Context, Counter, FilterHeadersStatusValues, HeaderMapTypeValues, LogLevelValues, RootContext,
  add_header_map_value, get_buffer_bytes, BufferTypeValues, log, registerRootContext,
} from "@solo-io/proxy-runtime/assembly";
import { ExampleConfig, HeaderToAdd, configError, parseExampleConfig } from "./config";

/** Adds headers from the bytes encoded at configuration time (config.ts HeaderToAdd). */
function addHeaders(map: HeaderMapTypeValues, headers: Array<HeaderToAdd>): void {
  for (let i = 0; i < headers.length; i++) add_header_map_value(map, unchecked(headers[i]).nameUtf8, unchecked(headers[i]).valueUtf8);
}

class ExampleRoot extends RootContext {
  config: ExampleConfig = ExampleConfig.defaults();
  requests: Counter | null = null;

  onConfigure(configuration_size: u32): bool {
    const bytes = get_buffer_bytes(BufferTypeValues.PluginConfiguration, 0, configuration_size);
    const parsed = parseExampleConfig(String.UTF8.decode(bytes));
    if (parsed === null) {
      // Returning false makes the host refuse this configuration and keep the last good one.
      log(LogLevelValues.error, "example: configuration refused: " + configError);
      return false;
    }
    this.config = parsed;
    if (this.requests === null) this.requests = new Counter("wasmesh_example_requests_total");
    return true;
  }

  createContext(context_id: u32): Context {
    return new ExampleStream(context_id, this);
  }
}

class ExampleStream extends Context {
  onRequestHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    const root = this.root_context as ExampleRoot;
    addHeaders(HeaderMapTypeValues.RequestHeaders, root.config.requestHeaders);
    const counter = root.requests;
    if (counter !== null) counter.increment(1);
    return FilterHeadersStatusValues.Continue;
  }

  onResponseHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    addHeaders(HeaderMapTypeValues.ResponseHeaders, (this.root_context as ExampleRoot).config.responseHeaders);
    return FilterHeadersStatusValues.Continue;
  }
}

registerRootContext((context_id: u32) => new ExampleRoot(context_id), "example");
