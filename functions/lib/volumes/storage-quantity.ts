const factors: Record<string, number> = {
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
};

/** Bytes of a Kubernetes storage quantity ("256Mi", "1G", "1073741824"); fractions round up. */
export function quantityToBytes(quantity: string): number {
  const match = /^(\d+(?:\.\d+)?)(k|M|G|T|P|Ki|Mi|Gi|Ti|Pi)?$/.exec(quantity.trim());
  const factor = factors[match?.[2] ?? ""];
  if (!match || factor === undefined)
    throw new RangeError(`"${quantity}" is not a storage quantity kubeferry reads`);
  const bytes = Math.ceil(Number(match[1]) * factor);
  if (!Number.isSafeInteger(bytes)) throw new RangeError(`storage quantity "${quantity}" is too large`);
  return bytes;
}
