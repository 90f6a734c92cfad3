import { JsonValue, parseJson, jsonError } from "../../lib/json";

/**
 * One header the filter adds, with its name and value encoded to UTF-8 once, when the
 * configuration is parsed: the SDK's `headers.add(name, value)` encodes both strings on every
 * call, and fresh buffers at new addresses are also what the host has to decode again each time.
 */
export class HeaderToAdd {
  readonly nameUtf8: ArrayBuffer;
  readonly valueUtf8: ArrayBuffer;
  constructor(readonly name: string, readonly value: string) {
    this.nameUtf8 = String.UTF8.encode(name);
    this.valueUtf8 = String.UTF8.encode(value);
  }
}

/**
 * The example filter's configuration, parsed and validated once in onConfigure; stream
 * contexts only read it. Schema: filters/example/README.md.
 */
export class ExampleConfig {
  constructor(
    readonly requestHeaders: Array<HeaderToAdd>,
    readonly responseHeaders: Array<HeaderToAdd>,
  ) {}

  /** Used when the plugin configuration is empty. */
  static defaults(): ExampleConfig {
    const response = new Array<HeaderToAdd>();
    response.push(new HeaderToAdd("x-wasmesh-example", "hello"));
    return new ExampleConfig(new Array<HeaderToAdd>(), response);
  }
}

/** Why the last parseExampleConfig returned null: names the field and what was expected. */
export let configError: string = "";

export function parseExampleConfig(text: string): ExampleConfig | null {
  if (text.trim().length == 0) return ExampleConfig.defaults();
  const root = parseJson(text);
  if (root === null) return fail("configuration is not valid JSON: " + jsonError);
  if (!root.isObject()) return fail("configuration: expected a JSON object");
  for (let i = 0; i < root.keys.length; i++) {
    const key = root.keys[i];
    if (key != "request_headers" && key != "response_headers") {
      return fail("unknown field \"" + key + "\": expected request_headers or response_headers");
    }
  }
  const request = parseHeaders(root.get("request_headers"), "request_headers");
  if (request === null) return null;
  const response = parseHeaders(root.get("response_headers"), "response_headers");
  if (response === null) return null;
  return new ExampleConfig(request, response);
}

function parseHeaders(value: JsonValue | null, field: string): Array<HeaderToAdd> | null {
  const headers = new Array<HeaderToAdd>();
  if (value === null) return headers;
  if (!value.isObject()) return failHeaders(field + ": expected an object of header name to value");
  for (let i = 0; i < value.keys.length; i++) {
    const name = value.keys[i];
    const headerValue = value.values[i];
    if (!isHeaderName(name)) {
      return failHeaders(field + "." + name + ": expected a lower-case HTTP header name (RFC 9110 token, no pseudo-headers)");
    }
    if (!headerValue.isString() || !isHeaderValue(headerValue.stringValue)) {
      return failHeaders(field + "." + name + ": expected a string without CR, LF or NUL");
    }
    headers.push(new HeaderToAdd(name, headerValue.stringValue));
  }
  return headers;
}

/** RFC 9110 §5.6.2 token, lower-case (Envoy and HTTP/2 carry header names in lower case). */
function isHeaderName(name: string): bool {
  if (name.length == 0) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const ok = (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) ||
      c == 0x21 || c == 0x23 || c == 0x24 || c == 0x25 || c == 0x26 || c == 0x27 || c == 0x2a ||
      c == 0x2b || c == 0x2d || c == 0x2e || c == 0x5e || c == 0x5f || c == 0x60 || c == 0x7c || c == 0x7e;
    if (!ok) return false;
  }
  return true;
}

/** Envoy refuses header values containing CR, LF or NUL (header injection). */
function isHeaderValue(value: string): bool {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c == 0x0d || c == 0x0a || c == 0) return false;
  }
  return true;
}

function fail(message: string): ExampleConfig | null {
  configError = message;
  return null;
}

function failHeaders(message: string): Array<HeaderToAdd> | null {
  configError = message;
  return null;
}
