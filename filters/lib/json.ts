/**
 * Strict RFC 8259 JSON parser and serializer for AssemblyScript filters.
 *
 * Hand-written on purpose: AssemblyScript has no exceptions and no JSON in its standard
 * library, and the available AS JSON packages either abort on bad input (which would kill the
 * proxy VM), accept non-standard syntax, or keep the last of duplicate keys. Security code
 * (JWS headers/claims, RFC 7515 section 5.2 step 4 / RFC 7519 section 4) needs:
 *   - duplicate member names rejected (RFC 7515 §5.2: "MUST reject ... duplicate Header Parameter names"),
 *   - the exact RFC 8259 grammar (no comments, no trailing commas, no leading zeros, no NaN),
 *   - a depth bound, so a hostile document cannot exhaust the wasm stack,
 *   - errors returned, never thrown: parseJson returns null and sets `jsonError`.
 * Strings follow I-JSON (RFC 7493 §2.1): an escaped lone surrogate (`"\ud800"`) is rejected
 * because it cannot be represented in UTF-8 and would make two different documents compare equal.
 */

export enum JsonType { Null = 0, Bool = 1, Number = 2, String = 3, Array = 4, Object = 5 }

/** 2^53: the largest magnitude at which every integer is exactly representable as f64. */
const MAX_SAFE_MAGNITUDE: f64 = 9007199254740992.0;

// Shared empty arrays of scalar values (see the JsonValue constructor); never mutated.
const NO_ITEMS = new Array<JsonValue>(0);
const NO_KEYS = new Array<string>(0);
const NO_VALUES = new Array<JsonValue>(0);

export class JsonValue {
  type: JsonType = JsonType.Null;
  boolValue: bool = false;
  numberValue: f64 = 0;
  stringValue: string = "";
  /** Elements of an Array. */
  items: Array<JsonValue>;
  /** Member names of an Object, in document order (parallel to `values`). */
  keys: Array<string>;
  values: Array<JsonValue>;

  /**
   * Only containers get their own arrays: scalars share the empty NO_ITEMS / NO_KEYS / NO_VALUES
   * (never pushed to: `set` gives a value its own arrays first). Parsing a JWT made 7 allocations
   * per scalar before; allocation was a fifth of the uncached-token path.
   */
  constructor(type: JsonType = JsonType.Null) {
    this.type = type;
    this.items = type == JsonType.Array ? new Array<JsonValue>() : NO_ITEMS;
    if (type == JsonType.Object) {
      this.keys = new Array<string>();
      this.values = new Array<JsonValue>();
    } else {
      this.keys = NO_KEYS;
      this.values = NO_VALUES;
    }
  }

  static makeNull(): JsonValue { return new JsonValue(JsonType.Null); }
  static makeBool(b: bool): JsonValue { const v = new JsonValue(JsonType.Bool); v.boolValue = b; return v; }
  static makeNumber(n: f64): JsonValue { const v = new JsonValue(JsonType.Number); v.numberValue = n; return v; }
  static makeString(s: string): JsonValue { const v = new JsonValue(JsonType.String); v.stringValue = s; return v; }
  static makeArray(): JsonValue { return new JsonValue(JsonType.Array); }
  static makeObject(): JsonValue { return new JsonValue(JsonType.Object); }

  /** Member `key` of an Object (the first one if duplicates were allowed), or null. */
  get(key: string): JsonValue | null {
    if (this.type != JsonType.Object) return null;
    const keys = this.keys;
    for (let i = 0, n = keys.length; i < n; i++) {
      if (keys[i] == key) return this.values[i];
    }
    return null;
  }

  /** True when `key` is a member of this Object. */
  has(key: string): bool { return this.get(key) !== null; }

  /** Nested member lookup by dot-separated path (`a.b.c`), as Envoy's claim_to_headers. */
  getPath(path: string): JsonValue | null {
    let current: JsonValue | null = this;
    let start = 0;
    while (current !== null) {
      const dot = path.indexOf(".", start);
      const segment = dot < 0 ? path.substring(start) : path.substring(start, dot);
      current = current.get(segment);
      if (dot < 0) return current;
      start = dot + 1;
    }
    return null;
  }

  isNull(): bool { return this.type == JsonType.Null; }
  isBool(): bool { return this.type == JsonType.Bool; }
  isNumber(): bool { return this.type == JsonType.Number; }
  isString(): bool { return this.type == JsonType.String; }
  isArray(): bool { return this.type == JsonType.Array; }
  isObject(): bool { return this.type == JsonType.Object; }

  /** A Number with no fractional part and |n| <= 2^53 (exactly representable integer). */
  isInteger(): bool {
    if (this.type != JsonType.Number) return false;
    const n = this.numberValue;
    return Math.floor(n) == n && Math.abs(n) <= MAX_SAFE_MAGNITUDE;
  }

  /** Object member append (builder use). */
  set(key: string, value: JsonValue): void {
    if (this.keys === NO_KEYS) {
      this.keys = new Array<string>();
      this.values = new Array<JsonValue>();
    }
    for (let i = 0, n = this.keys.length; i < n; i++) {
      if (this.keys[i] == key) { this.values[i] = value; return; }
    }
    this.keys.push(key);
    this.values.push(value);
  }

  /**
   * Canonical re-serialization: no insignificant whitespace, members in document order,
   * integers without fraction/exponent, strings with the minimal escapes of RFC 8259 §7
   * (plus \u escapes for other control characters). Non-ASCII characters are kept literal.
   */
  toJson(): string {
    const out = new Array<string>();
    writeValue(this, out);
    return out.join("");
  }
}

function writeValue(v: JsonValue, out: Array<string>): void {
  switch (v.type) {
    case JsonType.Null: out.push("null"); break;
    case JsonType.Bool: out.push(v.boolValue ? "true" : "false"); break;
    case JsonType.Number: out.push(formatNumber(v.numberValue)); break;
    case JsonType.String: out.push(quoteJsonString(v.stringValue)); break;
    case JsonType.Array: {
      out.push("[");
      for (let i = 0, n = v.items.length; i < n; i++) {
        if (i > 0) out.push(",");
        writeValue(v.items[i], out);
      }
      out.push("]");
      break;
    }
    case JsonType.Object: {
      out.push("{");
      for (let i = 0, n = v.keys.length; i < n; i++) {
        if (i > 0) out.push(",");
        out.push(quoteJsonString(v.keys[i]));
        out.push(":");
        writeValue(v.values[i], out);
      }
      out.push("}");
      break;
    }
  }
}

/**
 * A short rendering of a bad value for configuration error messages (strings quoted, other types
 * named): enough to find it, without pulling a number formatter into the module.
 */
export function describeJson(value: JsonValue): string {
  switch (value.type) {
    case JsonType.String: return "\"" + value.stringValue + "\"";
    case JsonType.Number: return "a number";
    case JsonType.Bool: return value.boolValue ? "true" : "false";
    case JsonType.Null: return "null";
    case JsonType.Array: return "a list";
    default: return "an object";
  }
}

/**
 * The first member of `object` not in `allowed` as an error message
 * (`<where>.<key>: unknown field, expected one of …`), or "" when every member is allowed.
 */
export function unknownFieldError(object: JsonValue, allowed: Array<string>, where: string): string {
  for (let i = 0; i < object.keys.length; i++) {
    if (!allowed.includes(object.keys[i])) {
      return (where.length > 0 ? where + "." : "") + object.keys[i] + ": unknown field, expected one of " + allowed.join(", ");
    }
  }
  return "";
}

/** Integers print as integers (AS prints `1.0` for f64); others use the shortest round-trip form. */
export function formatNumber(n: f64): string {
  if (!isFinite(n)) return "null"; // not reachable from parsed input; JSON has no NaN/Infinity
  if (Math.floor(n) == n && Math.abs(n) < 1e21) {
    if (n == 0) return "0"; // also -0
    return (<i64>n).toString();
  }
  return n.toString();
}

const HEX = "0123456789abcdef";

/** `s` as a JSON string literal (with quotes). */
/**
 * "U+XXXX" (lower-case hex, 4 digits) for a UTF-16 code unit in error messages. Hand-written
 * rather than `c.toString(16).padStart(4, "0")`: radix formatting pulls ~lib/util/number's
 * 1 KB hex-pair table and its code into every module.
 */
export function codeUnitLabel(c: i32): string {
  return "U+" + HEX.charAt((c >> 12) & 15) + HEX.charAt((c >> 8) & 15) + HEX.charAt((c >> 4) & 15) + HEX.charAt(c & 15);
}

export function quoteJsonString(s: string): string {
  let needs = false;
  for (let i = 0, n = s.length; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c == 0x22 || c == 0x5c) { needs = true; break; }
  }
  if (!needs) return "\"" + s + "\"";
  const parts = new Array<string>();
  parts.push("\"");
  let run = 0;
  for (let i = 0, n = s.length; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c != 0x22 && c != 0x5c) continue;
    if (i > run) parts.push(s.substring(run, i));
    run = i + 1;
    if (c == 0x22) parts.push("\\\"");
    else if (c == 0x5c) parts.push("\\\\");
    else if (c == 0x08) parts.push("\\b");
    else if (c == 0x0c) parts.push("\\f");
    else if (c == 0x0a) parts.push("\\n");
    else if (c == 0x0d) parts.push("\\r");
    else if (c == 0x09) parts.push("\\t");
    else parts.push("\\u00" + HEX.charAt(c >> 4) + HEX.charAt(c & 15));
  }
  if (run < s.length) parts.push(s.substring(run));
  parts.push("\"");
  return parts.join("");
}

/** Message of the last parse failure (empty after a success), e.g. `duplicate key "exp" at offset 42`. */
export let jsonError: string = "";

/** Parses `text` as one JSON value (RFC 8259 §2 allows any value at top level). Null on error (see jsonError). */
export function parseJson(text: string, rejectDuplicateKeys: bool = true, maxDepth: i32 = 64): JsonValue | null {
  const parser = new Parser(text, rejectDuplicateKeys, maxDepth);
  const value = parser.parseDocument();
  jsonError = value === null ? parser.error : "";
  return value;
}

/** Parses UTF-8 bytes; malformed UTF-8 (overlongs, surrogates, > U+10FFFF, truncation) is an error (RFC 8259 §8.1). */
export function parseJsonBytes(bytes: Uint8Array, rejectDuplicateKeys: bool = true, maxDepth: i32 = 64): JsonValue | null {
  const bad = firstInvalidUtf8(bytes);
  if (bad >= 0) {
    jsonError = "invalid UTF-8 at byte offset " + bad.toString();
    return null;
  }
  // RFC 8259 §8.1: implementations MAY ignore a byte order mark; we reject it like any other stray byte.
  return parseJson(String.UTF8.decodeUnsafe(bytes.dataStart, <usize>bytes.byteLength), rejectDuplicateKeys, maxDepth);
}

/** `bytes` as text when they are well-formed UTF-8 (else null, with jsonError set as parseJsonBytes does). */
export function utf8TextOrNull(bytes: Uint8Array): string | null {
  const bad = firstInvalidUtf8(bytes);
  if (bad >= 0) {
    jsonError = "invalid UTF-8 at byte offset " + bad.toString();
    return null;
  }
  return String.UTF8.decodeUnsafe(bytes.dataStart, <usize>bytes.byteLength);
}

/** Offset of the first byte that breaks well-formed UTF-8 (Unicode 15 table 3-7), or -1. */
export function firstInvalidUtf8(bytes: Uint8Array): i32 {
  const n = bytes.length;
  const base = bytes.dataStart;
  let i = 0;
  while (i < n) {
    // ASCII runs (all of a typical JWT's JSON) are checked 8 bytes per step: no high bit set.
    while (i + 8 <= n && (load<u64>(base + <usize>i) & 0x8080808080808080) == 0) i += 8;
    if (i >= n) break;
    const b0 = <u32>unchecked(bytes[i]);
    if (b0 < 0x80) { i++; continue; }
    let need = 0;
    let lo: u32 = 0x80, hi: u32 = 0xbf;
    if (b0 >= 0xc2 && b0 <= 0xdf) need = 1;
    else if (b0 == 0xe0) { need = 2; lo = 0xa0; }
    else if (b0 >= 0xe1 && b0 <= 0xec) need = 2;
    else if (b0 == 0xed) { need = 2; hi = 0x9f; }
    else if (b0 >= 0xee && b0 <= 0xef) need = 2;
    else if (b0 == 0xf0) { need = 3; lo = 0x90; }
    else if (b0 >= 0xf1 && b0 <= 0xf3) need = 3;
    else if (b0 == 0xf4) { need = 3; hi = 0x8f; }
    else return i;
    if (i + need >= n) return i; // truncated sequence
    const b1 = <u32>unchecked(bytes[i + 1]);
    if (b1 < lo || b1 > hi) return i;
    for (let k = 2; k <= need; k++) {
      const bk = <u32>unchecked(bytes[i + k]);
      if (bk < 0x80 || bk > 0xbf) return i;
    }
    i += need + 1;
  }
  return -1;
}

class Parser {
  pos: i32 = 0;
  error: string = "";
  depth: i32 = 0;

  constructor(public text: string, public rejectDuplicates: bool, public maxDepth: i32) {}

  fail(message: string): JsonValue | null {
    if (this.error.length == 0) this.error = message + " at offset " + this.pos.toString();
    return null;
  }

  parseDocument(): JsonValue | null {
    this.skipWhitespace();
    if (this.pos >= this.text.length) return this.fail("empty document");
    const value = this.parseValue();
    if (value === null) return null;
    this.skipWhitespace();
    if (this.pos < this.text.length) return this.fail("unexpected " + this.describeChar() + " after the value");
    return value;
  }

  describeChar(): string {
    if (this.pos >= this.text.length) return "end of input";
    const c = this.text.charCodeAt(this.pos);
    if (c < 0x20 || c > 0x7e) return "character " + codeUnitLabel(c);
    return "'" + String.fromCharCode(c) + "'";
  }

  skipWhitespace(): void {
    const text = this.text;
    const n = text.length;
    let p = this.pos;
    while (p < n) {
      const c = codeAt(text, p);
      // RFC 8259 §2: ws = space / tab / LF / CR, nothing else.
      if (c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d) p++;
      else break;
    }
    this.pos = p;
  }

  parseValue(): JsonValue | null {
    if (this.pos >= this.text.length) return this.fail("unexpected end of input, expected a value");
    const c = this.text.charCodeAt(this.pos);
    if (c == 0x7b) return this.parseObject();
    if (c == 0x5b) return this.parseArray();
    if (c == 0x22) {
      const s = this.parseString();
      if (s === null) return null;
      return JsonValue.makeString(s);
    }
    if (c == 0x2d || (c >= 0x30 && c <= 0x39)) return this.parseNumber();
    if (this.matchLiteral("true")) return JsonValue.makeBool(true);
    if (this.matchLiteral("false")) return JsonValue.makeBool(false);
    if (this.matchLiteral("null")) return JsonValue.makeNull();
    return this.fail("unexpected " + this.describeChar() + ", expected a value");
  }

  matchLiteral(word: string): bool {
    const n = word.length;
    if (this.pos + n > this.text.length) return false;
    for (let i = 0; i < n; i++) {
      if (this.text.charCodeAt(this.pos + i) != word.charCodeAt(i)) return false;
    }
    this.pos += n;
    return true;
  }

  enter(): bool {
    this.depth++;
    if (this.depth > this.maxDepth) {
      this.fail("nesting deeper than " + this.maxDepth.toString() + " levels");
      return false;
    }
    return true;
  }

  parseObject(): JsonValue | null {
    if (!this.enter()) return null;
    this.pos++; // '{'
    const obj = JsonValue.makeObject();
    this.skipWhitespace();
    if (this.pos < this.text.length && this.text.charCodeAt(this.pos) == 0x7d) {
      this.pos++;
      this.depth--;
      return obj;
    }
    // Small objects (JWT headers/claims) use a linear scan; large ones a set.
    let seen: Set<string> | null = null;
    while (true) {
      this.skipWhitespace();
      if (this.pos >= this.text.length || this.text.charCodeAt(this.pos) != 0x22) {
        return this.fail("unexpected " + this.describeChar() + ", expected a member name string");
      }
      const keyOffset = this.pos;
      const key = this.parseString();
      if (key === null) return null;
      if (this.rejectDuplicates) {
        let duplicate = false;
        if (seen !== null) {
          duplicate = seen.has(key);
          seen.add(key);
        } else {
          for (let i = 0, n = obj.keys.length; i < n; i++) {
            if (obj.keys[i] == key) { duplicate = true; break; }
          }
          if (obj.keys.length >= 16) {
            const set = new Set<string>();
            for (let i = 0, n = obj.keys.length; i < n; i++) set.add(obj.keys[i]);
            set.add(key);
            seen = set;
          }
        }
        if (duplicate) {
          this.pos = keyOffset;
          return this.fail("duplicate key " + quoteJsonString(key));
        }
      }
      this.skipWhitespace();
      if (this.pos >= this.text.length || this.text.charCodeAt(this.pos) != 0x3a) {
        return this.fail("unexpected " + this.describeChar() + ", expected ':'");
      }
      this.pos++;
      this.skipWhitespace();
      const value = this.parseValue();
      if (value === null) return null;
      obj.keys.push(key);
      obj.values.push(value);
      this.skipWhitespace();
      if (this.pos >= this.text.length) return this.fail("unexpected end of input, expected ',' or '}'");
      const c = this.text.charCodeAt(this.pos);
      if (c == 0x2c) { this.pos++; continue; }
      if (c == 0x7d) { this.pos++; break; }
      return this.fail("unexpected " + this.describeChar() + ", expected ',' or '}'");
    }
    this.depth--;
    return obj;
  }

  parseArray(): JsonValue | null {
    if (!this.enter()) return null;
    this.pos++; // '['
    const arr = JsonValue.makeArray();
    this.skipWhitespace();
    if (this.pos < this.text.length && this.text.charCodeAt(this.pos) == 0x5d) {
      this.pos++;
      this.depth--;
      return arr;
    }
    while (true) {
      this.skipWhitespace();
      const value = this.parseValue();
      if (value === null) return null;
      arr.items.push(value);
      this.skipWhitespace();
      if (this.pos >= this.text.length) return this.fail("unexpected end of input, expected ',' or ']'");
      const c = this.text.charCodeAt(this.pos);
      if (c == 0x2c) { this.pos++; continue; }
      if (c == 0x5d) { this.pos++; break; }
      return this.fail("unexpected " + this.describeChar() + ", expected ',' or ']'");
    }
    this.depth--;
    return arr;
  }

  /** RFC 8259 §6 number grammar, checked before conversion: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)? */
  parseNumber(): JsonValue | null {
    const text = this.text;
    const n = text.length;
    const start = this.pos;
    let p = start;
    if (text.charCodeAt(p) == 0x2d) p++;
    if (p >= n) { this.pos = p; return this.fail("unexpected end of input in a number"); }
    let c = text.charCodeAt(p);
    if (c == 0x30) {
      p++;
      if (p < n && isDigit(text.charCodeAt(p))) { this.pos = p; return this.fail("leading zero in a number"); }
    } else if (c >= 0x31 && c <= 0x39) {
      while (p < n && isDigit(text.charCodeAt(p))) p++;
    } else {
      this.pos = p;
      return this.fail("unexpected " + this.describeChar() + ", expected a digit");
    }
    const intEnd = p;
    if (p < n && text.charCodeAt(p) == 0x2e) {
      p++;
      if (p >= n || !isDigit(text.charCodeAt(p))) { this.pos = p; return this.fail("expected a digit after '.'"); }
      while (p < n && isDigit(text.charCodeAt(p))) p++;
    }
    if (p < n && (text.charCodeAt(p) == 0x65 || text.charCodeAt(p) == 0x45)) {
      p++;
      if (p < n && (text.charCodeAt(p) == 0x2b || text.charCodeAt(p) == 0x2d)) p++;
      if (p >= n || !isDigit(text.charCodeAt(p))) { this.pos = p; return this.fail("expected a digit in the exponent"); }
      while (p < n && isDigit(text.charCodeAt(p))) p++;
    }
    // Integers of at most 15 digits (JWT NumericDates, most claims) are summed exactly in f64
    // (every partial sum < 10^15 < 2^53), skipping the substring and strtod of the general case.
    const digitsStart = text.charCodeAt(start) == 0x2d ? start + 1 : start;
    let value: f64;
    if (p == intEnd && p - digitsStart <= 15) {
      let v: f64 = 0;
      for (let i = digitsStart; i < p; i++) v = v * 10 + <f64>(text.charCodeAt(i) - 0x30);
      value = digitsStart == start ? v : -v;
    } else {
      value = parseFloat(text.substring(start, p));
    }
    if (!isFinite(value)) { this.pos = start; return this.fail("number out of range"); }
    this.pos = p;
    return JsonValue.makeNumber(value);
  }

  /** RFC 8259 §7 string at `pos` (which holds the opening quote). Null on error. */
  parseString(): string | null {
    const text = this.text;
    const n = text.length;
    let p = this.pos + 1;
    let runStart = p;
    let parts: Array<string> | null = null;
    while (true) {
      if (p >= n) { this.pos = p; this.fail("unterminated string"); return null; }
      const c = codeAt(text, p);
      if (c == 0x22) break;
      if (c < 0x20) { this.pos = p; this.fail("unescaped control character " + codeUnitLabel(c) + " in a string"); return null; }
      if (c >= 0xd800 && c <= 0xdfff) {
        // Only reachable from parseJson(string) callers: a lone UTF-16 surrogate in the input itself.
        if (c <= 0xdbff && p + 1 < n) {
          const d = text.charCodeAt(p + 1);
          if (d >= 0xdc00 && d <= 0xdfff) { p += 2; continue; }
        }
        this.pos = p; this.fail("unpaired surrogate in a string"); return null;
      }
      if (c != 0x5c) { p++; continue; }
      if (parts === null) parts = new Array<string>();
      if (p > runStart) parts.push(text.substring(runStart, p));
      p++;
      if (p >= n) { this.pos = p; this.fail("unterminated escape"); return null; }
      const e = text.charCodeAt(p);
      p++;
      if (e == 0x22) parts.push("\"");
      else if (e == 0x5c) parts.push("\\");
      else if (e == 0x2f) parts.push("/");
      else if (e == 0x62) parts.push("\b");
      else if (e == 0x66) parts.push("\f");
      else if (e == 0x6e) parts.push("\n");
      else if (e == 0x72) parts.push("\r");
      else if (e == 0x74) parts.push("\t");
      else if (e == 0x75) {
        const unit = readHex4(text, p);
        if (unit < 0) { this.pos = p; this.fail("invalid \\u escape, expected 4 hex digits"); return null; }
        p += 4;
        if (unit >= 0xdc00 && unit <= 0xdfff) { this.pos = p - 6; this.fail("unpaired low surrogate escape"); return null; }
        if (unit >= 0xd800 && unit <= 0xdbff) {
          // RFC 8259 §7 / RFC 7493 §2.1: a high surrogate must be followed by an escaped low surrogate.
          const low = (p + 6 <= n && text.charCodeAt(p) == 0x5c && text.charCodeAt(p + 1) == 0x75) ? readHex4(text, p + 2) : -1;
          if (low < 0xdc00 || low > 0xdfff) { this.pos = p - 6; this.fail("unpaired high surrogate escape"); return null; }
          parts.push(String.fromCharCode(unit, low));
          p += 6;
        } else {
          parts.push(String.fromCharCode(unit));
        }
      } else {
        this.pos = p - 2;
        this.fail("invalid escape '\\" + String.fromCharCode(e) + "'");
        return null;
      }
      runStart = p;
    }
    this.pos = p + 1;
    if (parts === null) return text.substring(runStart, p);
    if (p > runStart) parts.push(text.substring(runStart, p));
    return parts.join("");
  }
}

@inline function isDigit(c: i32): bool { return c >= 0x30 && c <= 0x39; }

/** text.charCodeAt(i) for an index the caller has already checked against text.length (hot loops). */
@inline function codeAt(text: string, i: i32): i32 { return <i32>load<u16>(changetype<usize>(text) + (<usize>i << 1)); }

function readHex4(text: string, at: i32): i32 {
  if (at + 4 > text.length) return -1;
  let v = 0;
  for (let i = 0; i < 4; i++) {
    const c = text.charCodeAt(at + i);
    let d: i32;
    if (c >= 0x30 && c <= 0x39) d = c - 0x30;
    else if (c >= 0x61 && c <= 0x66) d = c - 0x61 + 10;
    else if (c >= 0x41 && c <= 0x46) d = c - 0x41 + 10;
    else return -1;
    v = (v << 4) | d;
  }
  return v;
}
