import { describe, expect, it } from "vitest";
import { quantityToBytes } from "../../../functions/lib/volumes/storage-quantity.ts";

describe("quantityToBytes", () => {
  it.each([
    ["268435456", 268435456],
    ["256Mi", 268435456],
    ["1Gi", 1073741824],
    ["1G", 1e9],
    ["1.5Ki", 1536],
    ["2Ti", 2 * 2 ** 40],
    // Exact where floating point is not: 1.07 × 1e9 is 1,070,000,000.0000001 in doubles.
    ["1.07G", 1_070_000_000],
    ["0.1Ki", 103],
    ["5e9", 5_000_000_000],
    ["1.5e3", 1500],
    ["16Ti", 17_592_186_044_416],
    ["7.5Pi", 7.5 * 2 ** 50],
  ])("reads %s", (quantity, bytes) => {
    expect(quantityToBytes(quantity)).toBe(bytes);
  });

  it.each(["", "1Xi", "-1Gi", "Gi", "1.Gi", "10Ei", "1e-3"])("rejects %j", (quantity) => {
    expect(() => quantityToBytes(quantity)).toThrow(/storage quantity/);
  });
});
