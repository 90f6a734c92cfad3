/**
 * Registered claim checks (RFC 7519 §4.1): exp/nbf/iat are NumericDates (integers here, as
 * Envoy's jwt_verify_lib requires), compared with a clock skew; iss must equal the provider's
 * issuer; aud (string or array of strings) must intersect the provider's audiences when some are
 * configured. Order follows jwt_verify_lib: type errors first, then time, then audience.
 */
import { JsonValue } from "../../lib/json";
import { JwtStatus } from "./status";

export class TimeClaims {
  /** Seconds since the epoch; -1 when absent. */
  exp: i64 = -1;
  nbf: i64 = -1;
}

function numericDate(payload: JsonValue, name: string, out: StaticArray<i64>): bool {
  const v = payload.get(name);
  out[0] = -1;
  if (v === null) return true;
  // NumericDate must be a non-negative integer that fits (Envoy: "is not an integer").
  if (!v.isInteger() || v.numberValue < 0) return false;
  out[0] = <i64>v.numberValue;
  return true;
}

const scratch = new StaticArray<i64>(1);

/** Type checks of the standard claims. Fills `times` on success. */
export function checkClaimTypes(payload: JsonValue, times: TimeClaims): JwtStatus {
  const iss = payload.get("iss");
  if (iss !== null && !iss.isString()) return JwtStatus.JwtPayloadParseErrorIssNotString;
  const sub = payload.get("sub");
  if (sub !== null && !sub.isString()) return JwtStatus.JwtPayloadParseErrorSubNotString;
  if (!numericDate(payload, "iat", scratch)) return JwtStatus.JwtPayloadParseErrorIatNotInteger;
  if (!numericDate(payload, "nbf", scratch)) return JwtStatus.JwtPayloadParseErrorNbfNotInteger;
  times.nbf = scratch[0];
  if (!numericDate(payload, "exp", scratch)) return JwtStatus.JwtPayloadParseErrorExpNotInteger;
  times.exp = scratch[0];
  const aud = payload.get("aud");
  if (aud !== null && !aud.isString()) {
    if (!aud.isArray()) return JwtStatus.JwtPayloadParseErrorAudNotString;
    for (let i = 0; i < aud.items.length; i++) if (!aud.items[i].isString()) return JwtStatus.JwtPayloadParseErrorAudNotString;
  }
  return JwtStatus.Ok;
}

/** exp/nbf against `nowSeconds` with `skew` (RFC 7519 §4.1.4/§4.1.5 allow "some small leeway"). */
export function checkTimes(times: TimeClaims, nowSeconds: i64, skew: i64): JwtStatus {
  return checkTimeWindow(times.nbf, times.exp, nowSeconds, skew);
}

/** checkTimes on bare values (-1 = absent): the cached path checks an entry without a TimeClaims. */
export function checkTimeWindow(nbf: i64, exp: i64, nowSeconds: i64, skew: i64): JwtStatus {
  if (nbf >= 0 && nowSeconds + skew < nbf) return JwtStatus.JwtNotYetValid;
  // Envoy jwt_verify_lib verify.cc: expired when now > exp + skew (inclusive boundary kept for parity).
  if (exp >= 0 && nowSeconds > exp + skew) return JwtStatus.JwtExpired;
  return JwtStatus.Ok;
}

/** True when `aud` shares a value with `allowed` (or none are configured). */
export function audienceAllowed(payload: JsonValue, allowed: Array<string>): bool {
  if (allowed.length == 0) return true;
  const aud = payload.get("aud");
  if (aud === null) return false;
  if (aud.isString()) return allowed.includes(aud.stringValue);
  for (let i = 0; i < aud.items.length; i++) if (allowed.includes(aud.items[i].stringValue)) return true;
  return false;
}
