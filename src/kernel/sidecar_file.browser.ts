// sidecar_file.ts for browsers (swapped in by scripts/build.mjs): no file system.

export function readFirstFile(dir: string, _names: readonly string[]): { file: string; text: string } | null {
  throw new Error(`vmasim: reading recordings from disk (${dir}) needs Node; a browser has no file system`);
}
