import { describe, expect, it } from "vitest";
import { ValidationError } from "../../../functions/lib/errors.ts";
import { planSnapshotGroups } from "../../../functions/lib/volumes/group-snapshots.ts";
import { paths } from "../../../functions/lib/volumes/kube-calls.ts";
import { fakeCluster } from "./fake-cluster.ts";

const BLOCK = "sim.csi.kubeferry.dev";
const FILES = "files.csi.kubeferry.dev";

/** A cluster whose block driver has a group snapshot class and whose files driver has none. */
function cluster(groupClasses: unknown[] = [{ metadata: { name: "groups" }, driver: BLOCK }]) {
  return fakeCluster(
    new Map<string, unknown>([
      [paths.snapshotClass("block-snaps"), { driver: BLOCK }],
      [paths.snapshotClass("files-snaps"), { driver: FILES }],
    ]),
    () => {},
    new Map([[paths.groupSnapshotClasses(), groupClasses]]),
  ).client;
}

const data = { namespace: "db", snapshotClass: "block-snaps", pvcs: ["data", "wal"] };
const files = { namespace: "db", snapshotClass: "files-snaps", pvcs: ["uploads", "cache"] };
const single = { namespace: "web", snapshotClass: "block-snaps", pvcs: ["cache"] };

describe("planSnapshotGroups", () => {
  it("auto groups two or more PVCs of a driver with a group class, and leaves the rest to single snapshots", async () => {
    const planned = await planSnapshotGroups(cluster(), [data, files, single], "auto", []);
    expect(planned).toEqual([{ ...data, groupSnapshotClass: "groups" }, files, single]);
  });

  it("auto prefers the driver's default group class", async () => {
    const classes = [
      { metadata: { name: "other" }, driver: BLOCK },
      {
        metadata: {
          name: "default",
          annotations: { "groupsnapshot.storage.kubernetes.io/is-default-class": "true" },
        },
        driver: BLOCK,
      },
    ];
    const [planned] = await planSnapshotGroups(cluster(classes), [data], "auto", []);
    expect(planned?.groupSnapshotClass).toBe("default");
  });

  it("auto on a cluster that does not serve group snapshots cuts single snapshots", async () => {
    const client = fakeCluster(new Map([[paths.snapshotClass("block-snaps"), { driver: BLOCK }]])).client;
    expect(await planSnapshotGroups(client, [data], "auto", [])).toEqual([data]);
  });

  it("off never groups", async () => {
    expect(await planSnapshotGroups(cluster(), [data], "off", [])).toEqual([data]);
  });

  it("required groups even a single PVC", async () => {
    expect(await planSnapshotGroups(cluster(), [single], "required", [])).toEqual([
      { ...single, groupSnapshotClass: "groups" },
    ]);
  });

  it("required refuses a driver without a group class, naming its PVCs", async () => {
    const refused = planSnapshotGroups(cluster(), [files], "required", []);
    await expect(refused).rejects.toThrow(ValidationError);
    await expect(refused).rejects.toThrow(/driver files\.csi\.kubeferry\.dev of PVCs db\/uploads, db\/cache/);
  });

  it("required refuses a namespace on two drivers, and a volume read live", async () => {
    const refused = planSnapshotGroups(cluster(), [data, files], "required", [
      { namespace: "db", pvc: "logs" },
    ]);
    await expect(refused).rejects.toThrow(/PVC db\/logs has no snapshot support/);
    await expect(refused).rejects.toThrow(/namespace db's volumes use 2 snapshot classes/);
  });
});
