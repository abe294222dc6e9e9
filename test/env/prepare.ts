// `npm run env:prepare`: builds or checks every cached dependency of the integration and e2e tests,
// so that the long cold build happens here and not inside a test hook.
import { synthesizedAssembly } from "../../cli/cloud-assembly-cache.ts";
import { ensureBusybox } from "./busybox.ts";
import { ensureCsiDriverBinary, ensureCsiSanityBinary } from "./csi-driver-binary.ts";
import { ensureKubernetesBinaries } from "./k8s-binaries.ts";
import { ensureMinioBinary } from "./minio.ts";
import { ensureMotoEnv } from "./moto.ts";
import { ensureStorageBinaries } from "./storage-binaries.ts";

const binaries = await ensureKubernetesBinaries();
console.error(`[env:prepare] Kubernetes binaries: ${binaries.dir}`);
const busybox = await ensureBusybox();
console.error(`[env:prepare] busybox applets: ${busybox.appletsDir}`);
const storage = await ensureStorageBinaries();
console.error(`[env:prepare] storage sidecars and local-path-provisioner: ${storage.dir}`);
const minio = await ensureMinioBinary();
console.error(`[env:prepare] MinIO: ${minio}`);
const motoEnv = await ensureMotoEnv();
console.error(`[env:prepare] moto virtual environment: ${motoEnv}`);
console.error(`[env:prepare] test CSI driver: ${await ensureCsiDriverBinary()}`);
console.error(`[env:prepare] csi-sanity: ${await ensureCsiSanityBinary()}`);
const assembly = await synthesizedAssembly();
console.error(`[env:prepare] synthesized workflow and function bundles: ${assembly.dir}`);
