export * from "./dataset.ts";
export * from "./datasets.ts";
export * from "./registry.ts";
