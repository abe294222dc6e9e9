// `npm run env:prepare`: builds or checks every cached dependency of the integration and e2e tests,
// so that the long cold build happens here and not inside a test hook.
import { ensureKubernetesBinaries } from "./k8s-binaries.ts";
import { ensureMinioBinary } from "./minio.ts";
import { ensureMotoEnv } from "./moto.ts";

const binaries = await ensureKubernetesBinaries();
console.error(`[env:prepare] Kubernetes binaries: ${binaries.dir}`);
const minio = await ensureMinioBinary();
console.error(`[env:prepare] MinIO: ${minio}`);
const motoEnv = await ensureMotoEnv();
console.error(`[env:prepare] moto virtual environment: ${motoEnv}`);
