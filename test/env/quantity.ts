const suffixes: Record<string, number> = {
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
};

/** Bytes of a Kubernetes storage quantity such as "16Mi", "1G" or "1048576". */
export function quantityToBytes(quantity: string): number {
  const match = quantity.trim().match(/^(\d+(?:\.\d+)?)([kMGT]i?|)$/);
  const factor = match?.[2] !== undefined ? suffixes[match[2]] : undefined;
  if (!match?.[1] || factor === undefined) {
    throw new Error(
      `cannot read storage quantity "${quantity}"; use a whole number with Ki/Mi/Gi/Ti or k/M/G/T`,
    );
  }
  return Math.ceil(Number(match[1]) * factor);
}

/** The quantity the snapshot controller would write for a byte count: binary suffix when exact. */
export function bytesToQuantity(bytes: number): string {
  for (const suffix of ["Ti", "Gi", "Mi", "Ki"]) {
    const factor = suffixes[suffix] as number;
    if (bytes >= factor && bytes % factor === 0) return `${bytes / factor}${suffix}`;
  }
  return String(bytes);
}
