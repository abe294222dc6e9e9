// `npm run env:prepare`: builds or checks every cached dependency of the integration and e2e tests,
// so that the long cold build happens here and not inside a test hook.
import { synthesizedAssembly } from "../../cli/cloud-assembly-cache.ts";
import { ensureKubernetesBinaries } from "./k8s-binaries.ts";
import { ensureMotoEnv } from "./moto.ts";

const binaries = await ensureKubernetesBinaries();
console.error(`[env:prepare] Kubernetes binaries: ${binaries.dir}`);
const motoEnv = await ensureMotoEnv();
console.error(`[env:prepare] moto virtual environment: ${motoEnv}`);
const assembly = await synthesizedAssembly();
console.error(`[env:prepare] synthesized workflow and function bundles: ${assembly.dir}`);
