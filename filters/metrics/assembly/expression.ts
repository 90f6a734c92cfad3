/**
 * The attribute expressions of Istio's `tagOverrides.value` (a CEL subset) that people use:
 *
 *   request.headers['x-user'] · request.host · request.url_path · request.method · response.code
 *   filter_state['wasm.key'] · istio_operationId (a bare name: filter state wasm.<name>) · 'literal' · 42 · has(attr) · cond ? a : b · a || b · a && b · !a
 *   a == b · a != b · string(x) · ( … )
 *
 * `a || b` is CEL's logical or when `a` is a boolean; on a string it is the "first present" form
 * (`request.headers['x'] || 'none'`). An attribute that is absent makes the expression fail, and
 * a failed expression reads "unknown" — what Istio's stats plugin writes
 * (istio/proxy extensions/stats/plugin.cc report: evaluateExpression failure → "unknown").
 * Anything else is refused at configuration time with the expression named.
 */
import { fetchProperty, propertyBytes, propertyLength, releaseProperty } from "../../lib/properties";

enum Kind { Literal, Attribute, Has, Not, And, Or, Equal, NotEqual, Conditional, ToString }

/** How a property's bytes read as text (Envoy's encodings, source/extensions/common/wasm/context.cc). */
enum Encoding { Text, Int64, Bool }

export class Expr {
  a: Expr | null = null;
  b: Expr | null = null;
  c: Expr | null = null;
  literal: string = "";
  path: ArrayBuffer = new ArrayBuffer(0);
  encoding: Encoding = Encoding.Text;
  constructor(readonly kind: Kind) {}
}

const TRUE = "true";
const FALSE = "false";

/** Attribute paths accepted (dotted name → encoding). Maps (headers, filter_state) take `['key']`. */
const SCALARS: Array<string> = [
  "request.host", "request.url_path", "request.path", "request.method", "request.scheme", "request.protocol",
  "request.useragent", "request.referer", "request.id", "request.query", "response.code_details",
  "source.address", "destination.address", "connection.requested_server_name", "connection.uri_san_peer_certificate",
  "xds.cluster_name", "xds.route_name", "cluster_name", "route_name",
];
const INTEGERS: Array<string> = ["response.code", "response.grpc_status", "source.port", "destination.port", "request.size", "response.size"];
const BOOLEANS: Array<string> = ["connection.mtls"];
/** Envoy's attribute roots: a bare name equal to one is not a filter-state value. */
const ROOTS: Array<string> = ["request", "response", "source", "destination", "connection", "upstream", "xds", "node", "metadata", "filter_state", "plugin_name", "plugin_root_id", "plugin_vm_id", "listener_direction", "cluster_name", "route_name", "connection_id", "size"];
const MAPS: Array<string> = ["request.headers", "response.headers", "response.trailers", "filter_state"];

export let expressionError: string = "";

class Parser {
  pos: i32 = 0;
  constructor(readonly text: string) {}

  fail(message: string): Expr | null {
    if (expressionError.length == 0) expressionError = message + " at offset " + this.pos.toString();
    return null;
  }

  spaces(): void {
    while (this.pos < this.text.length && this.text.charCodeAt(this.pos) <= 32) this.pos++;
  }

  eat(token: string): bool {
    this.spaces();
    if (this.text.startsWith(token, this.pos)) { this.pos += token.length; return true; }
    return false;
  }

  peek(token: string): bool {
    this.spaces();
    return this.text.startsWith(token, this.pos);
  }

  conditional(): Expr | null {
    const test = this.or();
    if (test === null) return null;
    if (!this.eat("?")) return test;
    const yes = this.conditional();
    if (yes === null) return null;
    if (!this.eat(":")) return this.fail("expected ':'");
    const no = this.conditional();
    if (no === null) return null;
    const e = new Expr(Kind.Conditional);
    e.a = test; e.b = yes; e.c = no;
    return e;
  }

  or(): Expr | null {
    let left = this.and();
    while (left !== null && this.eat("||")) left = binary(Kind.Or, left, this.and());
    return left;
  }

  and(): Expr | null {
    let left = this.comparison();
    while (left !== null && this.eat("&&")) left = binary(Kind.And, left, this.comparison());
    return left;
  }

  comparison(): Expr | null {
    const left = this.unary();
    if (left === null) return null;
    if (this.eat("==")) return binary(Kind.Equal, left, this.unary());
    if (this.eat("!=")) return binary(Kind.NotEqual, left, this.unary());
    return left;
  }

  unary(): Expr | null {
    if (this.peek("!") && !this.peek("!=")) {
      this.pos++;
      const e = new Expr(Kind.Not);
      e.a = this.unary();
      return e.a === null ? null : e;
    }
    return this.primary();
  }

  primary(): Expr | null {
    this.spaces();
    if (this.pos >= this.text.length) return this.fail("unexpected end");
    const c = this.text.charCodeAt(this.pos);
    if (c == 0x27 || c == 0x22) {
      const s = this.quoted();
      if (s === null) return null;
      const e = new Expr(Kind.Literal);
      e.literal = s;
      return e;
    }
    if (c >= 0x30 && c <= 0x39) {
      const start = this.pos;
      while (this.pos < this.text.length && isDigit(this.text.charCodeAt(this.pos))) this.pos++;
      const e = new Expr(Kind.Literal);
      e.literal = this.text.substring(start, this.pos);
      return e;
    }
    if (this.eat("(")) {
      const inner = this.conditional();
      if (inner === null) return null;
      return this.eat(")") ? inner : this.fail("expected ')'");
    }
    const name = this.dotted();
    if (name == "true" || name == "false") {
      const e = new Expr(Kind.Literal);
      e.literal = name;
      return e;
    }
    if (name == "has" || name == "string") {
      if (!this.eat("(")) return this.fail("expected '(' after " + name);
      const arg = name == "has" ? this.attribute(this.dotted()) : this.conditional();
      if (arg === null) return null;
      if (!this.eat(")")) return this.fail("expected ')'");
      const e = new Expr(name == "has" ? Kind.Has : Kind.ToString);
      e.a = arg;
      return e;
    }
    return this.attribute(name);
  }

  attribute(name: string): Expr | null {
    if (name.length == 0) return this.fail("expected an attribute, a literal, has(…) or string(…)");
    const e = new Expr(Kind.Attribute);
    if (MAPS.includes(name)) {
      if (!this.eat("[")) return this.fail("expected ['key'] after " + name);
      this.spaces();
      const key = this.quoted();
      if (key === null) return null;
      if (!this.eat("]")) return this.fail("expected ']'");
      const lower = name == "filter_state" ? key : key.toLowerCase();
      e.path = propertyPath(name + "." + "\0" + lower);
      return e;
    }
    if (INTEGERS.includes(name)) e.encoding = Encoding.Int64;
    else if (BOOLEANS.includes(name)) e.encoding = Encoding.Bool;
    // A bare name is a filter-state value another plugin set (`istio_operationId` → wasm.istio_operationId,
    // Envoy's property fallback: source/extensions/common/wasm/context.cc findValue).
    else if (!SCALARS.includes(name) && (name.includes(".") || ROOTS.includes(name))) return this.fail("unsupported attribute \"" + name + "\"");
    e.path = propertyPath(name);
    return e;
  }

  dotted(): string {
    this.spaces();
    const start = this.pos;
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos);
      if (!(isDigit(c) || (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c == 0x5f || c == 0x2e)) break;
      this.pos++;
    }
    return this.text.substring(start, this.pos);
  }

  quoted(): string | null {
    const quote = this.text.charCodeAt(this.pos);
    if (quote != 0x27 && quote != 0x22) { this.fail("expected a quoted string"); return null; }
    const end = this.text.indexOf(String.fromCharCode(quote), this.pos + 1);
    if (end < 0) { this.fail("unterminated string"); return null; }
    const s = this.text.substring(this.pos + 1, end);
    this.pos = end + 1;
    return s;
  }
}

function isDigit(c: i32): bool { return c >= 0x30 && c <= 0x39; }

function binary(kind: Kind, left: Expr, right: Expr | null): Expr | null {
  if (right === null) return null;
  const e = new Expr(kind);
  e.a = left; e.b = right;
  return e;
}

/** `a.b.c` → NUL-separated property path bytes (a `.\0` joins a map name to its key). */
function propertyPath(dotted: string): ArrayBuffer {
  let path = dotted.replaceAll(".\0", "\0");
  const keyAt = path.indexOf("\0");
  const head = keyAt < 0 ? path : path.substring(0, keyAt);
  const tail = keyAt < 0 ? "" : path.substring(keyAt);
  return String.UTF8.encode(head.replaceAll(".", "\0") + tail);
}

/** The parsed expression, or null with expressionError set. */
export function parseExpression(text: string): Expr | null {
  expressionError = "";
  const parser = new Parser(text);
  const e = parser.conditional();
  if (e === null) return null;
  parser.spaces();
  if (parser.pos != text.length) return parser.fail("unexpected \"" + text.substring(parser.pos) + "\"");
  return e;
}

function attributeValue(e: Expr): string | null {
  if (!fetchProperty(e.path)) return null;
  const ptr = propertyBytes();
  const n = propertyLength();
  let value: string | null = null;
  if (e.encoding == Encoding.Int64) value = n == 8 ? load<i64>(ptr).toString() : null;
  else if (e.encoding == Encoding.Bool) value = n == 1 ? (load<u8>(ptr) != 0 ? TRUE : FALSE) : null;
  else value = String.UTF8.decodeUnsafe(ptr, <usize>n);
  releaseProperty();
  return value;
}

/** The expression's value as label text; null when it fails (absent attribute, type error). */
export function evaluate(e: Expr): string | null {
  switch (e.kind) {
    case Kind.Literal: return e.literal;
    case Kind.Attribute: return attributeValue(e);
    case Kind.Has: return fetchProperty((e.a as Expr).path) ? (releaseProperty(), TRUE) : FALSE;
    case Kind.ToString: return evaluate(e.a as Expr);
    case Kind.Not: {
      const v = evaluate(e.a as Expr);
      return v == TRUE ? FALSE : v == FALSE ? TRUE : null;
    }
    case Kind.And: {
      const left = evaluate(e.a as Expr);
      if (left == FALSE) return FALSE;
      if (left != TRUE) return null;
      const right = evaluate(e.b as Expr);
      return right == TRUE || right == FALSE ? right : null;
    }
    case Kind.Or: {
      const left = evaluate(e.a as Expr);
      if (left == TRUE) return TRUE;
      if (left !== null && left != FALSE && left.length > 0) return left;
      return evaluate(e.b as Expr);
    }
    case Kind.Equal:
    case Kind.NotEqual: {
      const left = evaluate(e.a as Expr);
      const right = evaluate(e.b as Expr);
      if (left === null || right === null) return null;
      return (left == right) == (e.kind == Kind.Equal) ? TRUE : FALSE;
    }
    default: {
      const test = evaluate(e.a as Expr);
      if (test == TRUE) return evaluate(e.b as Expr);
      if (test == FALSE) return evaluate(e.c as Expr);
      return null;
    }
  }
}
