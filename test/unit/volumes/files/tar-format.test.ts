import { describe, expect, it } from "vitest";
import {
  readArchive,
  TarInvalid,
  tarEnd,
  tarHeaderBlocks,
  tarPadding,
} from "../../../../functions/lib/volumes/files/tar-format.ts";

const header = { mode: 0o640, uid: 999, gid: 998, mtime: 1_600_000_000 };

describe("the tar the file transport speaks with busybox", () => {
  it("round-trips files, directories, links and names past 100 bytes", () => {
    const longPath = `${"a".repeat(90)}/${"b".repeat(90)}`;
    const data = Buffer.from("contents");
    const archive = Buffer.concat([
      tarHeaderBlocks({ ...header, path: "dir", type: "directory", size: 0 }),
      tarHeaderBlocks({ ...header, path: longPath, type: "file", size: data.length }),
      data,
      tarPadding(data.length),
      tarHeaderBlocks({ ...header, path: "dir/link", type: "symlink", size: 0, linkName: longPath }),
      tarHeaderBlocks({ ...header, path: "dir/hard", type: "hardlink", size: 0, linkName: longPath }),
      tarEnd(),
    ]);
    const { entries, trailer } = readArchive(Buffer.concat([archive, Buffer.from("./gone\n")]));
    expect(trailer.toString()).toBe("./gone\n");
    expect(entries.map(({ path, type, linkName }) => ({ path, type, linkName }))).toEqual([
      { path: "dir", type: "directory", linkName: undefined },
      { path: longPath, type: "file", linkName: undefined },
      { path: "dir/link", type: "symlink", linkName: longPath },
      { path: "dir/hard", type: "hardlink", linkName: longPath },
    ]);
    expect(entries[1]).toMatchObject({ ...header, size: data.length });
    expect(entries[1]?.content.toString()).toBe("contents");
  });

  it("writes sizes past 8 GiB in base-256 and reads them back", () => {
    const size = 9 * 1024 ** 3 + 5;
    const blocks = tarHeaderBlocks({ ...header, path: "big", type: "file", size });
    expect(blocks[124]).toBe(0x80);
    // Read back as 9 GiB: more than the archive holds after the header.
    expect(() => readArchive(Buffer.concat([blocks, tarEnd()]))).toThrow(/ends inside an entry/);
    const octal = tarHeaderBlocks({ ...header, path: "small", type: "file", size: 1 });
    expect(() => readArchive(Buffer.concat([octal, tarEnd()]))).not.toThrow();
  });

  it("refuses a damaged header and an archive cut short", () => {
    const blocks = tarHeaderBlocks({ ...header, path: "f", type: "file", size: 0 });
    const damaged = Buffer.from(blocks);
    damaged[0] = "g".charCodeAt(0);
    expect(() => readArchive(Buffer.concat([damaged, tarEnd()]))).toThrow(TarInvalid);
    expect(() => readArchive(blocks)).toThrow(/without its end blocks/);
  });
});
