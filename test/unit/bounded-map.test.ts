import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { mapBounded } from "../../functions/lib/bounded-map.ts";

describe("mapBounded", () => {
  it("keeps order and never exceeds the limit", async () => {
    let running = 0;
    let peak = 0;
    const out = await mapBounded([5, 1, 4, 2, 3, 0], 2, async (n) => {
      running++;
      peak = Math.max(peak, running);
      await sleep(n);
      running--;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30, 0]);
    expect(peak).toBe(2);
  });

  it("stops starting work after a failure and waits for running calls", async () => {
    const started: number[] = [];
    let settled = 0;
    await expect(
      mapBounded([0, 1, 2, 3, 4], 2, async (n) => {
        started.push(n);
        await sleep(n === 0 ? 1 : 20);
        settled++;
        if (n === 0) throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(started).toEqual([0, 1]);
    expect(settled).toBe(2);
  });
});
