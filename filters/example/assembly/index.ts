export * from "@solo-io/proxy-runtime/assembly/proxy";
import { RootContext, Context, registerRootContext, FilterHeadersStatusValues, stream_context } from "@solo-io/proxy-runtime/assembly";

class ExampleRoot extends RootContext {
  createContext(context_id: u32): Context {
    return new ExampleStream(context_id, this);
  }
}

class ExampleStream extends Context {
  onResponseHeaders(a: u32, end_of_stream: bool): FilterHeadersStatusValues {
    stream_context.headers.response.add("x-wasmesh-example", "hello");
    return FilterHeadersStatusValues.Continue;
  }
}

registerRootContext((context_id: u32) => new ExampleRoot(context_id), "example");
