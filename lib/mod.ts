/**
 * The kit's library: every notebook imports from here.
 *
 * ```ts
 * import { kitConfig } from "./mod.ts";
 * console.assert(["mini", "paper"].includes(kitConfig({}).profile));
 * ```
 */
export * from "./util/mod.ts";
export * from "./config/mod.ts";
export * from "./backend/mod.ts";
export * from "./data/mod.ts";
export * from "./artifacts/mod.ts";
