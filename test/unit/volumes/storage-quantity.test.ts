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
  ])("reads %s", (quantity, bytes) => {
    expect(quantityToBytes(quantity)).toBe(bytes);
  });

  it.each(["", "1Xi", "-1Gi", "1e3", "Gi"])("rejects %j", (quantity) => {
    expect(() => quantityToBytes(quantity)).toThrow(/storage quantity/);
  });
});
