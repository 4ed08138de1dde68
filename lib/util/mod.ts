export * from "./kit_error.ts";
export * from "./atomic_write.ts";
export * from "./sha256.ts";
export * from "./progress.ts";
export * from "./seeded_random.ts";
export * from "./paths.ts";
export * from "./cache_lock.ts";
export * from "./cli.ts";
