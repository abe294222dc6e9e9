/** The bottom layer: opaque objects under string keys. Nothing above it knows where they live. */

export interface BlobInfo {
  key: string;
  size: number;
  lastModified: Date;
}

export interface BlobStore {
  /** Human-readable location, for error messages (e.g. s3://bucket/prefix/). */
  readonly location: string;
  /** Creates or replaces the object. */
  put(key: string, data: Uint8Array): Promise<void>;
  /** Creates the object only if no object has the key; returns whether this call created it. */
  putIfAbsent(key: string, data: Uint8Array): Promise<boolean>;
  /** The whole object, or undefined if there is none. */
  get(key: string): Promise<Buffer | undefined>;
  head(key: string): Promise<BlobInfo | undefined>;
  /** Every object whose key starts with prefix, in ascending key order. */
  list(prefix: string): AsyncIterable<BlobInfo>;
  /** Removes the object; removing an absent object is not an error. */
  delete(key: string): Promise<void>;
}

const keyPattern = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

/** Keys are relative slash-separated names, so the same key means the same thing on every backend. */
export function assertValidKey(key: string): void {
  if (!keyPattern.test(key) || key.split("/").some((part) => part === "." || part === "..")) {
    throw new Error(`invalid blob key ${JSON.stringify(key)}: use slash-separated [A-Za-z0-9._-] names`);
  }
}
