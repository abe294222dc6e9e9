import { describe, expect, it } from "vitest";
import { ExecFailed } from "../../../functions/lib/errors.ts";
import { parseHashLines } from "../../../functions/lib/volumes/hash-lines.ts";

const a = "a".repeat(64);
const b = "0123456789abcdef".repeat(4);

describe("parseHashLines", () => {
  it("returns digests in chunk order", () => {
    expect(parseHashLines(`7 ${a}\n8 ${b}\n`, 7, 2, "w")).toEqual([a, b]);
    expect(parseHashLines("", 7, 0, "w")).toEqual([]);
  });

  it.each([
    ["a missing line", `7 ${a}\n`, /expected 2 lines, got 1/],
    ["an extra line", `7 ${a}\n8 ${b}\n9 ${b}\n`, /expected 2 lines, got 3/],
    ["a cut last line", `7 ${a}\n8 ${b}`, /not terminated/],
    ["a wrong index", `7 ${a}\n9 ${b}\n`, /line 2 is for chunk 9, expected chunk 8/],
    ["a short digest", `7 ${a}\n8 ${b.slice(1)}\n`, /line 2 is/],
    ["sha256sum's own format", `7 ${a}\n${b}  -\n`, /line 2 is/],
    ["upper-case hex", `7 ${a}\n8 ${b.toUpperCase()}\n`, /line 2 is/],
    ["an empty line", `7 ${a}\n\n8 ${b}\n`, /expected 2 lines, got 3/],
    ["a leading zero", `07 ${a}\n8 ${b}\n`, /line 1 is/],
    ["carriage returns", `7 ${a}\r\n8 ${b}\r\n`, /line 1 is/],
  ])("rejects %s", (_what, output, message) => {
    const parse = () => parseHashLines(output, 7, 2, "pod ns/p, bytes 0-9");
    expect(parse).toThrow(ExecFailed);
    expect(parse).toThrow(message);
    expect(parse).toThrow(/pod ns\/p, bytes 0-9/);
  });
});
