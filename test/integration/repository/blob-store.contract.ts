import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { BlobStore } from "../../../functions/lib/repository/blob-store.ts";

/** What every BlobStore must do; each backend's test file runs it against a fresh store per test. */
export function describeBlobStoreContract(backend: string, freshStore: () => Promise<BlobStore>) {
  describe(`BlobStore contract: ${backend}`, () => {
    it("reports absent objects as undefined", async () => {
      const store = await freshStore();
      expect(await store.get("nothing/here")).toBeUndefined();
      expect(await store.head("nothing/here")).toBeUndefined();
    });

    it("returns what was put, and put replaces", async () => {
      const store = await freshStore();
      const first = randomBytes(1000);
      await store.put("a/b/object", first);
      expect(await store.get("a/b/object")).toEqual(first);
      const head = await store.head("a/b/object");
      expect(head?.size).toBe(1000);
      expect(head?.key).toBe("a/b/object");
      expect(head?.lastModified.getTime()).toBeGreaterThan(Date.now() - 3_600_000);

      await store.put("a/b/object", Buffer.from("second"));
      expect((await store.get("a/b/object"))?.toString()).toBe("second");
    });

    it("keeps empty and multi-megabyte objects intact", async () => {
      const store = await freshStore();
      const large = randomBytes(5 * 1024 * 1024 + 3);
      await store.put("empty", Buffer.alloc(0));
      await store.put("large", large);
      expect(await store.get("empty")).toEqual(Buffer.alloc(0));
      expect((await store.get("large"))?.equals(large)).toBe(true);
    });

    it("putIfAbsent creates once and never replaces", async () => {
      const store = await freshStore();
      expect(await store.putIfAbsent("once", Buffer.from("first"))).toBe(true);
      expect(await store.putIfAbsent("once", Buffer.from("second"))).toBe(false);
      expect((await store.get("once"))?.toString()).toBe("first");
    });

    it("lets exactly one of several concurrent putIfAbsent writers create the object", async () => {
      const store = await freshStore();
      const payloads = Array.from({ length: 8 }, (_, writer) =>
        Buffer.from(`writer ${writer} `.repeat(5000)),
      );
      const created = await Promise.all(payloads.map((payload) => store.putIfAbsent("contested", payload)));
      expect(created.filter(Boolean)).toHaveLength(1);
      const winner = payloads[created.indexOf(true)];
      expect((await store.get("contested"))?.equals(winner as Buffer)).toBe(true);
    });

    it("lists keys by string prefix in ascending order", async () => {
      const store = await freshStore();
      for (const key of ["p/b", "p/a/2", "p/a/1", "p/ab", "q/a", "pa"])
        await store.put(key, Buffer.from(key));
      const keys = async (prefix: string) => {
        const found: string[] = [];
        for await (const info of store.list(prefix)) found.push(info.key);
        return found;
      };
      expect(await keys("p/")).toEqual(["p/a/1", "p/a/2", "p/ab", "p/b"]);
      expect(await keys("p/a")).toEqual(["p/a/1", "p/a/2", "p/ab"]);
      expect(await keys("p")).toEqual(["p/a/1", "p/a/2", "p/ab", "p/b", "pa"]);
      expect(await keys("none/")).toEqual([]);
      for await (const info of store.list("q/")) expect(info.size).toBe(3);
    });

    it("deletes, and deleting an absent object is not an error", async () => {
      const store = await freshStore();
      await store.put("gone", Buffer.from("x"));
      await store.delete("gone");
      await store.delete("gone");
      expect(await store.get("gone")).toBeUndefined();
      expect(await store.putIfAbsent("gone", Buffer.from("again"))).toBe(true);
    });

    it("rejects keys that could escape the store or mean different things per backend", async () => {
      const store = await freshStore();
      for (const key of ["../escape", "/absolute", "a//b", "a/./b", "trailing/", "", "spa ce"]) {
        await expect(store.put(key, Buffer.from("x")), key).rejects.toThrow(/invalid blob key/);
      }
    });
  });
}
