/**
 * The metrics filter's configuration (schema: filters/metrics/README.md): reporter, cardinality
 * guard, peer cache, and Istio Telemetry-style overrides per metric (`disabled`, `tagsToRemove`,
 * `tagOverrides` with UPSERT/REMOVE and an attribute expression). Read and checked once in
 * onConfigure; unknown fields are refused, errors name the field and what was expected.
 */
import { JsonValue, describeJson, jsonError, parseJson, unknownFieldError } from "../../lib/json";
import { Expr, expressionError, parseExpression } from "./expression";
import { LABEL_COUNT, LABEL_NAMES } from "./labels";

/** Istio's standard metrics, in the order of MetricDef ids (istio/proxy extensions/stats/plugin.cc defaultMetrics). */
export enum MetricKind { Counter = 0, Histogram = 2 }

export class MetricDef {
  constructor(
    readonly id: i32,
    /** Istio's name without the `istio_` prefix. */
    readonly name: string,
    /** Telemetry API enum (telemetry.istio.io MetricSelector.IstioMetric). */
    readonly telemetryName: string,
    readonly kind: MetricKind,
    readonly grpcOnly: bool,
  ) {}
}

export const METRICS: Array<MetricDef> = [
  new MetricDef(0, "requests_total", "REQUEST_COUNT", MetricKind.Counter, false),
  new MetricDef(1, "request_duration_milliseconds", "REQUEST_DURATION", MetricKind.Histogram, false),
  new MetricDef(2, "request_bytes", "REQUEST_SIZE", MetricKind.Histogram, false),
  new MetricDef(3, "response_bytes", "RESPONSE_SIZE", MetricKind.Histogram, false),
  new MetricDef(4, "request_messages_total", "GRPC_REQUEST_MESSAGES", MetricKind.Counter, true),
  new MetricDef(5, "response_messages_total", "GRPC_RESPONSE_MESSAGES", MetricKind.Counter, true),
];

/** A label of a metric: a standard label (index < LABEL_COUNT) or custom expression LABEL_COUNT + i. */
export class TagSpec {
  constructor(readonly name: string, public index: i32) {}
}

export class MetricSpec {
  disabled: bool = false;
  tags: Array<TagSpec> = new Array();
  constructor(readonly def: MetricDef) {
    for (let i = 0; i < LABEL_COUNT; i++) this.tags.push(new TagSpec(LABEL_NAMES[i], i));
  }

  find(name: string): i32 {
    for (let i = 0; i < this.tags.length; i++) if (this.tags[i].name == name) return i;
    return -1;
  }
}

export enum Reporter { FromDirection = 0, Destination = 1, Source = 2 }

export class MetricsConfig {
  reporter: Reporter = Reporter.FromDirection;
  maxSeriesPerMetric: i32 = 10000;
  maxPeerCacheSize: i32 = 500;
  hostHeaderFallback: bool = true;
  metrics: Array<MetricSpec> = new Array();
  /** Custom label expressions, deduplicated by text (value of label LABEL_COUNT + i). */
  expressions: Array<Expr> = new Array();
  expressionTexts: Array<string> = new Array();
}

export let configError: string = "";

const TOP_FIELDS: Array<string> = ["reporter", "maxSeriesPerMetric", "maxPeerCacheSize", "disableHostHeaderFallback", "metrics"];
const OVERRIDE_FIELDS: Array<string> = ["name", "mode", "disabled", "tagsToRemove", "tagOverrides"];
const TAG_FIELDS: Array<string> = ["operation", "value"];

/**
 * `listenerOutbound`: the listener direction the host reports (used when `reporter` is not
 * configured); it decides which `mode` (CLIENT / SERVER) overrides apply.
 */
export function parseMetricsConfig(text: string, listenerOutbound: bool): MetricsConfig | null {
  configError = "";
  const config = new MetricsConfig();
  for (let i = 0; i < METRICS.length; i++) config.metrics.push(new MetricSpec(METRICS[i]));
  if (text.trim().length == 0) return config;
  const root = parseJson(text);
  if (root === null) return fail("configuration is not valid JSON: " + jsonError);
  if (!root.isObject()) return fail("configuration: expected a JSON object, got " + describeJson(root));
  if (!onlyKeys(root, TOP_FIELDS, "")) return null;
  const reporter = root.get("reporter");
  if (reporter !== null) {
    if (reporter.isString() && reporter.stringValue == "destination") config.reporter = Reporter.Destination;
    else if (reporter.isString() && reporter.stringValue == "source") config.reporter = Reporter.Source;
    else return fail("reporter: expected \"destination\" or \"source\", got " + describeJson(reporter));
  }
  const client = config.reporter == Reporter.FromDirection ? listenerOutbound : config.reporter == Reporter.Source;
  const max = boundedInt(root.get("maxSeriesPerMetric"), "maxSeriesPerMetric", config.maxSeriesPerMetric, 1);
  if (max < 0) return null;
  config.maxSeriesPerMetric = max;
  const peers = boundedInt(root.get("maxPeerCacheSize"), "maxPeerCacheSize", config.maxPeerCacheSize, 0);
  if (peers < 0) return null;
  config.maxPeerCacheSize = peers;
  const noFallback = root.get("disableHostHeaderFallback");
  if (noFallback !== null) {
    if (!noFallback.isBool()) return fail("disableHostHeaderFallback: expected true or false, got " + describeJson(noFallback));
    config.hostHeaderFallback = !noFallback.boolValue;
  }
  const overrides = root.get("metrics");
  if (overrides !== null) {
    if (!overrides.isArray()) return fail("metrics: expected a list of overrides, got " + describeJson(overrides));
    for (let i = 0; i < overrides.items.length; i++) {
      if (!applyOverride(config, overrides.items[i], "metrics[" + i.toString() + "]", client)) return null;
    }
  }
  return config;
}

function boundedInt(value: JsonValue | null, where: string, fallback: i32, min: i32): i32 {
  if (value === null) return fallback;
  if (!value.isInteger() || value.numberValue < <f64>min || value.numberValue > 100000000) {
    fail(where + ": expected an integer from " + min.toString() + " to 100000000, got " + describeJson(value));
    return -1;
  }
  return <i32>value.numberValue;
}

/** Overrides apply in order, a later one winning (Istio merges Telemetry overrides the same way). */
function applyOverride(config: MetricsConfig, item: JsonValue, where: string, client: bool): bool {
  if (!item.isObject()) { fail(where + ": expected an object, got " + describeJson(item)); return false; }
  if (!onlyKeys(item, OVERRIDE_FIELDS, where)) return false;
  // Telemetry's match.mode: CLIENT overrides apply when reporting as source, SERVER as destination.
  const mode = item.get("mode");
  if (mode !== null) {
    const m = mode.isString() ? mode.stringValue : "";
    if (m != "CLIENT_AND_SERVER" && m != "CLIENT" && m != "SERVER") {
      fail(where + ".mode: expected CLIENT_AND_SERVER, CLIENT or SERVER, got " + describeJson(mode));
      return false;
    }
    if ((m == "CLIENT" && !client) || (m == "SERVER" && client)) return true;
  }
  const selected = selectMetrics(config, item.get("name"), where + ".name");
  if (selected === null) return false;
  const disabled = item.get("disabled");
  if (disabled !== null && !disabled.isBool()) { fail(where + ".disabled: expected true or false, got " + describeJson(disabled)); return false; }
  const remove = item.get("tagsToRemove");
  if (remove !== null && !remove.isArray()) { fail(where + ".tagsToRemove: expected a list of label names, got " + describeJson(remove)); return false; }
  const overrides = item.get("tagOverrides");
  if (overrides !== null && !overrides.isObject()) { fail(where + ".tagOverrides: expected an object of label → {operation, value}, got " + describeJson(overrides)); return false; }
  for (let m = 0; m < selected.length; m++) {
    const spec = selected[m];
    if (disabled !== null) spec.disabled = disabled.boolValue;
    if (remove !== null) {
      for (let i = 0; i < remove.items.length; i++) {
        const tag = remove.items[i];
        if (!tag.isString() || tag.stringValue.length == 0) { fail(where + ".tagsToRemove[" + i.toString() + "]: expected a label name, got " + describeJson(tag)); return false; }
        removeTag(spec, tag.stringValue);
      }
    }
    if (overrides !== null && !applyTagOverrides(config, spec, overrides, where + ".tagOverrides")) return false;
  }
  return true;
}

function selectMetrics(config: MetricsConfig, name: JsonValue | null, where: string): Array<MetricSpec> | null {
  if (name === null || (name.isString() && name.stringValue == "ALL_METRICS")) return config.metrics;
  if (name.isString()) {
    for (let i = 0; i < config.metrics.length; i++) {
      const def = config.metrics[i].def;
      if (def.telemetryName == name.stringValue || def.name == name.stringValue || "istio_" + def.name == name.stringValue) {
        return [config.metrics[i]];
      }
    }
  }
  const names = new Array<string>();
  for (let i = 0; i < METRICS.length; i++) names.push(METRICS[i].telemetryName);
  fail(where + ": expected ALL_METRICS, " + names.join(", ") + " (or Istio's metric name), got " + describeJson(name));
  return null;
}

function removeTag(spec: MetricSpec, name: string): void {
  const at = spec.find(name);
  if (at >= 0) spec.tags.splice(at, 1);
}

function applyTagOverrides(config: MetricsConfig, spec: MetricSpec, overrides: JsonValue, where: string): bool {
  // Custom labels are appended in sorted order, as Istio does (plugin.cc sorts dimension names).
  const names = overrides.keys.slice(0);
  names.sort();
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    const at = where + "." + name;
    if (!validLabelName(name)) { fail(at + ": \"" + name + "\" is not a valid Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)"); return false; }
    const body = overrides.get(name) as JsonValue;
    if (!body.isObject()) { fail(at + ": expected {operation, value}, got " + describeJson(body)); return false; }
    if (!onlyKeys(body, TAG_FIELDS, at)) return false;
    const operation = body.get("operation");
    const op = operation === null ? "UPSERT" : operation.isString() ? operation.stringValue : "";
    if (op == "REMOVE") { removeTag(spec, name); continue; }
    if (op != "UPSERT") { fail(at + ".operation: expected UPSERT or REMOVE, got " + describeJson(operation as JsonValue)); return false; }
    const value = body.get("value");
    if (value === null || !value.isString() || value.stringValue.length == 0) {
      fail(at + ".value: expected an attribute expression (UPSERT needs a value)" + (value === null ? "" : ", got " + describeJson(value)));
      return false;
    }
    const index = expressionIndex(config, value.stringValue, at + ".value");
    if (index < 0) return false;
    const existing = spec.find(name);
    if (existing >= 0) spec.tags[existing].index = index;
    else spec.tags.push(new TagSpec(name, index));
  }
  return true;
}

function expressionIndex(config: MetricsConfig, text: string, where: string): i32 {
  const known = config.expressionTexts.indexOf(text);
  if (known >= 0) return LABEL_COUNT + known;
  const expr = parseExpression(text);
  if (expr === null) {
    fail(where + ": unsupported expression \"" + text + "\": " + expressionError);
    return -1;
  }
  config.expressions.push(expr);
  config.expressionTexts.push(text);
  return LABEL_COUNT + config.expressions.length - 1;
}

function validLabelName(name: string): bool {
  if (name.length == 0) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const letter = (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c == 0x5f;
    if (!letter && !(i > 0 && c >= 0x30 && c <= 0x39)) return false;
  }
  return true;
}

function onlyKeys(object: JsonValue, allowed: Array<string>, where: string): bool {
  const error = unknownFieldError(object, allowed, where);
  if (error.length > 0) fail(error);
  return error.length == 0;
}

function fail(message: string): MetricsConfig | null {
  if (configError.length == 0) configError = message;
  return null;
}

