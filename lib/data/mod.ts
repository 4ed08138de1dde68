export * from "./dataset.ts";
export * from "./datasets.ts";
export * from "./registry.ts";
export * from "./archive_unpack.ts";
export * from "./preflight.ts";
export * from "./recipes.ts";
