/**
 * Keeps an exec stream from looking idle. A load balancer or proxy between kubeferry and an API
 * server resets a connection that carries nothing for its idle timeout (60 s is common on
 * premises), and a hash or write pass over a slow device can be silent longer than that. So
 * every helper script runs beside a loop that prints a progress line on stderr at a fixed
 * interval; the transport drops exactly those lines before applying its rule that anything
 * else on stderr is a failure. stderr, because stdout carries the scripts' results (digest lines
 * or raw bytes) and must stay exact.
 */

export const PROGRESS_LINE = "kubeferry: working";

/** Well under the shortest idle timeout worth supporting (30–60 s on premises). */
export const DEFAULT_PROGRESS_SECONDS = 10;

/**
 * `script` with a progress loop around it. The loop's sleep holds no pipe of the exec (only the
 * loop's own echo writes to stderr), so killing the loop when the script exits — normally, by
 * `exit` or by `set -e` — closes the stream at once instead of after a last sleep.
 */
export function withProgress(script: string, everySeconds: number): string {
  if (!Number.isFinite(everySeconds) || everySeconds <= 0) {
    throw new RangeError(`progress interval must be a positive number of seconds, got ${everySeconds}`);
  }
  const seconds = everySeconds.toFixed(3);
  return (
    `(while sleep ${seconds} </dev/null >/dev/null 2>&1; do echo '${PROGRESS_LINE}' >&2; done) </dev/null >/dev/null &\n` +
    "kf_progress=$!\n" +
    "trap 'kill \"$kf_progress\" 2>/dev/null' EXIT\n" +
    script
  );
}

/** stderr without the progress lines; what remains is the script's own complaints. */
export function withoutProgress(stderr: string): string {
  return stderr
    .split("\n")
    .filter((line) => line !== PROGRESS_LINE)
    .join("\n");
}
