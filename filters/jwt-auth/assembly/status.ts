/**
 * Verification outcomes and the reply texts Envoy's jwt_authn sends for them
 * (google/jwt_verify_lib src/status.cc `getStatusString`; HTTP code and WWW-Authenticate from
 * Envoy source/extensions/filters/http/jwt_authn/filter.cc `Filter::onComplete`).
 */
export enum JwtStatus {
  Ok,
  JwtMissed,
  JwtNotYetValid,
  JwtExpired,
  JwtBadFormat,
  JwtHeaderParseErrorBadBase64,
  JwtHeaderParseErrorBadJson,
  JwtHeaderBadAlg,
  JwtHeaderNotImplementedAlg,
  JwtHeaderBadKid,
  /** Not in Envoy: RFC 7515 §4.1.11 requires rejecting unknown `crit` extensions; we support none. */
  JwtHeaderCritNotSupported,
  JwtPayloadParseErrorBadBase64,
  JwtPayloadParseErrorBadJson,
  JwtPayloadParseErrorIssNotString,
  JwtPayloadParseErrorSubNotString,
  JwtPayloadParseErrorIatNotInteger,
  JwtPayloadParseErrorNbfNotInteger,
  JwtPayloadParseErrorExpNotInteger,
  JwtPayloadParseErrorAudNotString,
  JwtSignatureParseErrorBadBase64,
  JwtEd25519SignatureWrongLength,
  JwtUnknownIssuer,
  JwtAudienceNotAllowed,
  JwtVerificationFail,
  /** Not in Envoy (it has no size limit of its own): token longer than max_token_bytes. */
  JwtTooLarge,
  JwksKidAlgMismatch,
  JwksFetchFail,
  JwksNoValidKeys,
}

export function statusMessage(status: JwtStatus): string {
  switch (status) {
    case JwtStatus.Ok: return "OK";
    case JwtStatus.JwtMissed: return "Jwt is missing";
    case JwtStatus.JwtNotYetValid: return "Jwt not yet valid";
    case JwtStatus.JwtExpired: return "Jwt is expired";
    case JwtStatus.JwtBadFormat: return "Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections";
    case JwtStatus.JwtHeaderParseErrorBadBase64: return "Jwt header is an invalid Base64url encoded";
    case JwtStatus.JwtHeaderParseErrorBadJson: return "Jwt header is an invalid JSON";
    case JwtStatus.JwtHeaderBadAlg: return "Jwt header [alg] field is required and must be a string";
    case JwtStatus.JwtHeaderNotImplementedAlg: return "Jwt header [alg] is not supported";
    case JwtStatus.JwtHeaderBadKid: return "Jwt header [kid] field is not a string";
    case JwtStatus.JwtHeaderCritNotSupported: return "Jwt header [crit] field names an unsupported extension";
    case JwtStatus.JwtPayloadParseErrorBadBase64: return "Jwt payload is an invalid Base64url encoded";
    case JwtStatus.JwtPayloadParseErrorBadJson: return "Jwt payload is an invalid JSON";
    case JwtStatus.JwtPayloadParseErrorIssNotString: return "Jwt payload [iss] field is not a string";
    case JwtStatus.JwtPayloadParseErrorSubNotString: return "Jwt payload [sub] field is not a string";
    case JwtStatus.JwtPayloadParseErrorIatNotInteger: return "Jwt payload [iat] field is not an integer";
    case JwtStatus.JwtPayloadParseErrorNbfNotInteger: return "Jwt payload [nbf] field is not an integer";
    case JwtStatus.JwtPayloadParseErrorExpNotInteger: return "Jwt payload [exp] field is not an integer";
    case JwtStatus.JwtPayloadParseErrorAudNotString: return "Jwt payload [aud] field is not a string or string list";
    case JwtStatus.JwtSignatureParseErrorBadBase64: return "Jwt signature is an invalid Base64url encoded";
    case JwtStatus.JwtEd25519SignatureWrongLength: return "Jwt ED25519 signature is wrong length";
    case JwtStatus.JwtUnknownIssuer: return "Jwt issuer is not configured";
    case JwtStatus.JwtAudienceNotAllowed: return "Audiences in Jwt are not allowed";
    case JwtStatus.JwtVerificationFail: return "Jwt verification fails";
    case JwtStatus.JwtTooLarge: return "Jwt is larger than the configured maximum size";
    case JwtStatus.JwksKidAlgMismatch: return "Jwks doesn't have key to match kid or alg from Jwt";
    case JwtStatus.JwksFetchFail: return "Jwks remote fetch is failed";
    case JwtStatus.JwksNoValidKeys: return "Jwks doesn't have any valid public key";
  }
  return "Jwt verification fails";
}

/** Envoy answers 403 for a disallowed audience and 401 for everything else (filter.cc). */
export function statusHttpCode(status: JwtStatus): u32 {
  return status == JwtStatus.JwtAudienceNotAllowed ? 403 : 401;
}
