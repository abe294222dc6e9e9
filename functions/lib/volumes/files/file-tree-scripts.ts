/**
 * Scripts of the file transport, run in a helper pod that mounts the volume at
 * "$KUBEFERRY_MOUNT" (stock busybox: sh, find, stat, readlink, sha256sum, tar, dd, rm, chown,
 * chmod, touch). Lists of paths come on stdin, exactly `bytes` long (stdin is never closed: see
 * pod-exec.ts), one "./"-prefixed path per line: no path can read as an option, and the transport
 * refuses paths with newlines before any script sees them.
 */

const PRELUDE =
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion, not a template.
  'set -eu\n(set -o pipefail) 2>/dev/null && set -o pipefail\ncd "${KUBEFERRY_MOUNT:?is not set in the helper pod}"\n';

/**
 * Reads exactly `bytes` of stdin: one read of that size, repeated until full. Not `head -c`, which
 * reads ahead in its own buffer and so swallows what a command after it should read.
 */
function stdinBytes(bytes: number): string {
  if (!Number.isSafeInteger(bytes) || bytes <= 0)
    throw new RangeError(`stdin bytes must be positive, got ${bytes}`);
  return `dd bs=${bytes} count=1 iflag=fullblock status=none`;
}

/** Splits "$list" on newlines only, with globbing off, so each line is one argument. */
const LIST_ARGUMENTS = "set -f\nIFS='\n'\n";

/** Fails unless the volume is mounted where the pod says (a pod can run a moment before). */
export function mountCheckScript(): string {
  return `${PRELUDE}[ -d . ] && echo ok\n`;
}

/** The line between the stat listing and the symlink targets. */
export const SYMLINKS_MARKER = "--kubeferry-symlinks--";

/**
 * One stat line per path on the volume's filesystem ("%f %u %g %Y %y %s %d:%i %h %n": raw mode in
 * hex, owner, mtime in seconds and as a date with nanoseconds, size, device:inode, links, path),
 * then the marker, then each symlink's path and target on two lines.
 */
export function listTreeScript(): string {
  return (
    PRELUDE +
    "find . -xdev -exec stat -c '%f %u %g %Y %y %s %d:%i %h %n' {} +\n" +
    `echo ${SYMLINKS_MARKER}\n` +
    `find . -xdev -type l -exec sh -c 'for p; do printf "%s\\n%s\\n" "$p" "$(readlink "$p")"; done' sh {} +\n`
  );
}

/**
 * A tar (busybox `tar -c`) of those of the files listed on stdin that exist, then, after the
 * archive's end blocks, the paths of those that did not (a live volume changes while it is read).
 */
export function tarFilesScript(bytes: number): string {
  return (
    `${PRELUDE}list=$(${stdinBytes(bytes)})\n${LIST_ARGUMENTS}set --\n` +
    'for p in $list; do if [ -e "$p" ] || [ -L "$p" ]; then set -- "$@" "$p"; fi; done\n' +
    'if [ $# -gt 0 ]; then tar -c -f - "$@"; else dd if=/dev/zero bs=1024 count=1 status=none; fi\n' +
    'for p in $list; do [ -e "$p" ] || [ -L "$p" ] || echo "$p"; done\n'
  );
}

/** `length` bytes at `offset` of the file named on stdin. */
export function readFileRangeScript(bytes: number, offset: number, length: number): string {
  return (
    `${PRELUDE}p=$(${stdinBytes(bytes)})\n` +
    `dd if="$p" iflag=skip_bytes,count_bytes bs=1048576 skip=${offset} count=${length} status=none\n`
  );
}

/**
 * Extracts the tar on stdin (`bytes` long, ending with its end blocks, after which tar stops
 * reading) with numeric owners, modes and mtimes as the archive says.
 */
export function untarScript(bytes: number): string {
  return `${PRELUDE}${stdinBytes(bytes)} | tar -x -f - --numeric-owner\n`;
}

/**
 * Writes exactly `length` bytes from stdin at `offset` of a file whose path comes first on stdin
 * (`pathBytes` long, newline included); offset 0 starts the file anew.
 */
export function writeFileRangeScript(pathBytes: number, offset: number, length: number): string {
  const truncate = offset === 0 ? ': > "$p"\n' : "";
  return (
    `${PRELUDE}p=$(${stdinBytes(pathBytes)})\n${truncate}` +
    `dd of="$p" iflag=fullblock,count_bytes oflag=seek_bytes bs=1048576 seek=${offset} count=${length} ` +
    "conv=notrunc status=none\n"
  );
}

/** Removes the paths listed on stdin, directories with what they hold. */
export function removePathsScript(bytes: number): string {
  return `${PRELUDE}list=$(${stdinBytes(bytes)})\n${LIST_ARGUMENTS}rm -rf $list\n`;
}

/**
 * Sets owner, mode and mtime from lines "<uid> <gid> <octal mode> <mtime> <path>" on stdin; a
 * symlink gets only its owner (its mode does not exist, its mtime is not set by busybox touch).
 */
export function setMetadataScript(bytes: number): string {
  return (
    `${PRELUDE}${stdinBytes(bytes)} | while read -r u g m t p; do\n` +
    '  chown -h "$u:$g" "$p"\n' +
    '  [ -L "$p" ] && continue\n' +
    '  chmod "$m" "$p"\n' +
    '  touch -c -d "@$t" "$p"\n' +
    "done\n"
  );
}

/** "<sha256>  <path>" for every regular file; with `sync` first, so what is read reached the disk. */
export function hashFilesScript(): string {
  return `${PRELUDE}sync\nfind . -xdev -type f -exec sha256sum {} +\n`;
}
