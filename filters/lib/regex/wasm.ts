/**
 * Standalone module of the regex engine, for the deployer (build/lib/regex.wasm): the local
 * sidecar's `safe_regex` route and header matchers and the deployer's config validation run the
 * very engine the filters embed (deployer/src/regex/engine.ts wraps it).
 *
 * ABI: the caller writes a string as UTF-16 code units at `regex_input(units)` and calls
 * `regex_compile(units)` (→ handle ≥ 0, or -1 with the message at regex_error_ptr/len) or
 * `regex_full_match(handle, units)` / `regex_partial_match(handle, units)` (→ 1/0).
 * The heap is collected when due at the end of each call (nothing managed is held on the stack
 * then: every live object hangs off the globals below).
 */
import { Regex, regexError, regexSteps, resetRegexSteps } from "./index";

/**
 * asconfig.json routes `abort` to a global abort_proc_exit (proxy-runtime's, in the filters).
 * Here it traps, which the wrapper reports as an engine failure.
 */
// @ts-ignore: decorator
@global
function abort_proc_exit(message: string | null, fileName: string | null, lineNumber: u32, columnNumber: u32): void {
  unreachable();
}

const compiled = new Array<Regex | null>();
let input = new StaticArray<u16>(256);
let error = "";
let replaced = "";
let lastSlots = new StaticArray<i32>(0);

function inputString(units: i32): string {
  return String.UTF16.decodeUnsafe(changetype<usize>(input), <usize>units << 1);
}

/** A buffer for `units` UTF-16 code units; valid until the next call. */
export function regex_input(units: i32): usize {
  if (units > input.length) input = new StaticArray<u16>(units + (units >> 1));
  return changetype<usize>(input);
}

export function regex_compile(units: i32): i32 {
  const re = Regex.compile(inputString(units));
  let handle = -1;
  if (re === null) {
    error = regexError;
  } else {
    handle = compiled.length;
    compiled.push(re);
  }
  __collect_when_due();
  return handle;
}

export function regex_error_ptr(): usize { return changetype<usize>(error); }
export function regex_error_units(): i32 { return error.length; }

function get(handle: i32): Regex | null {
  return handle >= 0 && handle < compiled.length ? compiled[handle] : null;
}

/** Forgets a compiled regex (its handle is not reused). */
export function regex_release(handle: i32): void {
  if (get(handle) !== null) compiled[handle] = null;
  __collect_when_due();
}

export function regex_full_match(handle: i32, units: i32): i32 {
  const re = get(handle);
  return re !== null && re.fullMatchUnits(changetype<usize>(input), units) ? 1 : 0;
}

export function regex_partial_match(handle: i32, units: i32): i32 {
  const re = get(handle);
  if (re === null) return 0;
  const matched = re.partialMatch(inputString(units));
  __collect_when_due();
  return matched ? 1 : 0;
}

/** Leftmost-first match in the input: its slot count (2 per group), or 0; slots via regex_slot. */
export function regex_find(handle: i32, units: i32): i32 {
  const re = get(handle);
  if (re === null) return 0;
  const found = re.find(inputString(units));
  lastSlots = found === null ? new StaticArray<i32>(0) : StaticArray.slice(found);
  __collect_when_due();
  return lastSlots.length;
}

export function regex_slot(index: i32): i32 {
  return index >= 0 && index < lastSlots.length ? lastSlots[index] : -1;
}

/** RE2::GlobalReplace of the input: its first `textUnits` units are the text, the rest the rewrite. */
export function regex_replace_all(handle: i32, textUnits: i32, totalUnits: i32): i32 {
  const re = get(handle);
  if (re === null) return -1;
  const all = inputString(totalUnits);
  replaced = re.replaceAll(all.substring(0, textUnits), all.substring(textUnits));
  __collect_when_due();
  return replaced.length;
}

export function regex_replaced_ptr(): usize { return changetype<usize>(replaced); }

/** Thread steps run since the last reset: linear-time evidence for tests. */
export function regex_steps(): f64 { return <f64>regexSteps; }
export function regex_reset_steps(): void { resetRegexSteps(); }
