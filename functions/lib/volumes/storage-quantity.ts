// Powers of the suffixes Kubernetes accepts for storage (resource.Quantity), as exact integers.
const factors: Record<string, bigint> = {
  "": 1n,
  k: 10n ** 3n,
  M: 10n ** 6n,
  G: 10n ** 9n,
  T: 10n ** 12n,
  P: 10n ** 15n,
  E: 10n ** 18n,
  Ki: 2n ** 10n,
  Mi: 2n ** 20n,
  Gi: 2n ** 30n,
  Ti: 2n ** 40n,
  Pi: 2n ** 50n,
  Ei: 2n ** 60n,
};

/**
 * Bytes of a Kubernetes storage quantity ("256Mi", "1.07G", "1073741824", "5e9"); fractions of a
 * byte round up, as the API server rounds storage. Parsed in integers: in floating point "1.07G"
 * would be 1,070,000,001 bytes and a size check against the driver's exact figure would fail.
 */
export function quantityToBytes(quantity: string): number {
  const match = /^(\d+)(?:\.(\d+))?(?:(k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)|[eE](\d+))?$/.exec(quantity.trim());
  if (!match) throw new RangeError(`"${quantity}" is not a storage quantity kubeferry reads`);
  const [, whole = "", fraction = "", suffix = "", exponent] = match;
  const factor = exponent === undefined ? (factors[suffix] ?? 1n) : 10n ** BigInt(exponent);
  const scale = 10n ** BigInt(fraction.length);
  const numerator = BigInt(whole + fraction) * factor;
  const bytes = (numerator + scale - 1n) / scale;
  if (bytes > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new RangeError(`storage quantity "${quantity}" is too large`);
  }
  return Number(bytes);
}
