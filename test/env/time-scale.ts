/**
 * `KUBEFERRY_TIME_SCALE` (default 1) shrinks every timeout the local reality imposes, so a test can
 * exercise a 60 s idle cut or a 900 s limit in seconds. 0.05 turns 60 s into 3 s.
 */
export function timeScale(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.KUBEFERRY_TIME_SCALE;
  if (raw === undefined || raw === "") return 1;
  const scale = Number(raw);
  if (!Number.isFinite(scale) || scale <= 0) {
    throw new Error(`KUBEFERRY_TIME_SCALE=${JSON.stringify(raw)} must be a positive number such as 0.05`);
  }
  return scale;
}

/** `seconds` of modelled time as milliseconds of real time under the current time scale. */
export function scaledMs(seconds: number, env: NodeJS.ProcessEnv = process.env): number {
  return seconds * 1000 * timeScale(env);
}
