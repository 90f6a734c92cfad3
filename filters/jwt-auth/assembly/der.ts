/**
 * Minimal DER writer for the host crypto path: Envoy's `verify_signature` foreign function
 * imports the public key with BoringSSL's EVP_parse_public_key, i.e. a SubjectPublicKeyInfo
 * (RFC 5280 §4.1.2.7), and verifies ECDSA signatures in DER (RFC 3279 §2.2.3 Ecdsa-Sig-Value),
 * not the JWS r‖s form. Keys: RSA RFC 8017 A.1.1 / RFC 3279 §2.3.1, EC RFC 5480 §2, Ed25519 RFC 8410 §4.
 */

class DerWriter {
  bytes: Array<u8> = new Array<u8>();
}

function pushLength(out: Array<u8>, n: i32): void {
  if (n < 0x80) { out.push(<u8>n); return; }
  if (n < 0x100) { out.push(0x81); out.push(<u8>n); return; }
  if (n < 0x10000) { out.push(0x82); out.push(<u8>(n >> 8)); out.push(<u8>n); return; }
  out.push(0x83); out.push(<u8>(n >> 16)); out.push(<u8>(n >> 8)); out.push(<u8>n);
}

function tlv(tag: u8, content: Array<u8>): Array<u8> {
  const out = new Array<u8>();
  out.push(tag);
  pushLength(out, content.length);
  for (let i = 0; i < content.length; i++) out.push(content[i]);
  return out;
}

function concat(a: Array<u8>, b: Array<u8>): Array<u8> {
  const out = a.slice(0);
  for (let i = 0; i < b.length; i++) out.push(b[i]);
  return out;
}

function fromBytes(b: Uint8Array): Array<u8> {
  const out = new Array<u8>(b.length);
  for (let i = 0; i < b.length; i++) unchecked(out[i] = b[i]);
  return out;
}

function toBytes(a: Array<u8>): Uint8Array {
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) unchecked(out[i] = a[i]);
  return out;
}

/** DER INTEGER of an unsigned big-endian magnitude: minimal, with a 0x00 when the top bit is set (X.690 §8.3). */
function unsignedInteger(magnitude: Uint8Array, start: i32, end: i32): Array<u8> {
  let s = start;
  while (s < end - 1 && magnitude[s] == 0) s++;
  const content = new Array<u8>();
  if (s == end) { content.push(0); return tlv(0x02, content); }
  if (magnitude[s] >= 0x80) content.push(0);
  for (let i = s; i < end; i++) content.push(magnitude[i]);
  return tlv(0x02, content);
}

function oid(encoded: Array<u8>): Array<u8> { return tlv(0x06, encoded); }

function bitString(content: Array<u8>): Array<u8> {
  const withUnused = new Array<u8>();
  withUnused.push(0); // no unused bits
  for (let i = 0; i < content.length; i++) withUnused.push(content[i]);
  return tlv(0x03, withUnused);
}

function spki(algorithmIdentifier: Array<u8>, publicKey: Array<u8>): Uint8Array {
  return toBytes(tlv(0x30, concat(tlv(0x30, algorithmIdentifier), bitString(publicKey))));
}

// 1.2.840.113549.1.1.1 rsaEncryption
const OID_RSA: u8[] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
// 1.2.840.10045.2.1 id-ecPublicKey
const OID_EC: u8[] = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
// 1.2.840.10045.3.1.7 prime256v1
const OID_P256: u8[] = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
// 1.3.132.0.34 secp384r1
const OID_P384: u8[] = [0x2b, 0x81, 0x04, 0x00, 0x22];
// 1.3.101.112 id-Ed25519
const OID_ED25519: u8[] = [0x2b, 0x65, 0x70];

export function rsaSpki(n: Uint8Array, e: Uint8Array): Uint8Array {
  const algorithm = concat(oid(OID_RSA), tlv(0x05, new Array<u8>()));
  const key = tlv(0x30, concat(unsignedInteger(n, 0, n.length), unsignedInteger(e, 0, e.length)));
  return spki(algorithm, key);
}

export function ecSpki(p384: bool, x: Uint8Array, y: Uint8Array): Uint8Array {
  const algorithm = concat(oid(OID_EC), oid(p384 ? OID_P384 : OID_P256));
  const point = new Array<u8>();
  point.push(0x04); // uncompressed (SEC 1 §2.3.3)
  for (let i = 0; i < x.length; i++) point.push(x[i]);
  for (let i = 0; i < y.length; i++) point.push(y[i]);
  return spki(algorithm, point);
}

export function ed25519Spki(a: Uint8Array): Uint8Array {
  return spki(oid(OID_ED25519), fromBytes(a));
}

/** JWS ECDSA r‖s (RFC 7518 §3.4) → DER Ecdsa-Sig-Value. Null when the length is not 2 × field size. */
export function ecdsaSignatureToDer(rs: Uint8Array, fieldBytes: i32): Uint8Array | null {
  if (rs.length != 2 * fieldBytes) return null;
  const body = concat(unsignedInteger(rs, 0, fieldBytes), unsignedInteger(rs, fieldBytes, 2 * fieldBytes));
  return toBytes(tlv(0x30, body));
}
