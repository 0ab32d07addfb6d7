// An esbuild plugin for the browser bundles: a module of src/ that has a
// `NAME.browser.ts` twin beside its `NAME.ts` is replaced by the twin (the
// Node version reads files; the twin fetches or says it cannot). The build
// then fails if any `node:` import is still reachable, rather than shipping
// a bundle that breaks in a browser.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";

export const browserTwins = {
  name: "vmasim-browser-twins",
  setup(build) {
    build.onResolve({ filter: /^\.\.?\/.*\.js$/ }, (args) => {
      const twin = join(args.resolveDir, args.path.replace(/\.js$/, ".browser.ts"));
      return existsSync(twin) ? { path: twin } : undefined;
    });
    build.onResolve({ filter: /^node:/ }, (args) => ({
      errors: [{ text: `${args.path} imported by ${args.importer} would reach the browser bundle (give that module a .browser.ts twin)` }],
    }));
  },
};

