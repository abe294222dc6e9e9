// The CLI caches the synthesized workflow in the same directory; one definition serves both.
export { kubeferryCacheDir } from "../../cli/cache-dir.ts";
