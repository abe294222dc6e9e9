import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

/**
 * The sealed format of every encrypted object: version byte, 96-bit random nonce, AES-256-GCM
 * ciphertext, 128-bit tag. The version byte and the caller's associated data (a chunk id, a
 * manifest key) are authenticated, so an object cannot be passed off as another.
 *
 * Random nonces under one key stay safe up to about 2^32 objects (NIST SP 800-38D); content
 * addressing means the same plaintext is normally encrypted once.
 */

const formatVersion = 1;
const nonceLength = 12;
const tagLength = 16;
const sealOverhead = 1 + nonceLength + tagLength;

export function seal(key: Uint8Array, plaintext: Uint8Array, associatedData: Uint8Array): Buffer {
  const nonce = randomBytes(nonceLength);
  const header = Buffer.from([formatVersion]);
  const cipher = createCipheriv("aes-256-gcm", key, nonce);
  cipher.setAAD(Buffer.concat([header, associatedData]));
  const sealed = Buffer.allocUnsafe(sealOverhead + plaintext.length);
  header.copy(sealed, 0);
  nonce.copy(sealed, 1);
  let offset = 1 + nonceLength;
  offset += cipher.update(plaintext).copy(sealed, offset);
  offset += cipher.final().copy(sealed, offset);
  cipher.getAuthTag().copy(sealed, offset);
  return sealed;
}

/** Decrypts and authenticates; throws an Error whose message says what failed (no secrets in it). */
export function open(key: Uint8Array, sealed: Uint8Array, associatedData: Uint8Array): Buffer {
  const data = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  if (data.length < sealOverhead) {
    throw new Error(`truncated: ${data.length} bytes, shorter than the ${sealOverhead}-byte envelope`);
  }
  if (data[0] !== formatVersion) throw new Error(`unknown format version ${data[0]}`);
  const nonce = data.subarray(1, 1 + nonceLength);
  const ciphertext = data.subarray(1 + nonceLength, data.length - tagLength);
  const decipher = createDecipheriv("aes-256-gcm", key, nonce);
  decipher.setAAD(Buffer.concat([data.subarray(0, 1), associatedData]));
  decipher.setAuthTag(data.subarray(data.length - tagLength));
  const plaintext = decipher.update(ciphertext);
  try {
    decipher.final();
  } catch {
    throw new Error(
      "authentication tag mismatch: the object was altered, truncated or sealed under another key",
    );
  }
  return plaintext;
}
