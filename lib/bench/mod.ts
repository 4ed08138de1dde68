/** Benchmarks: the kit's implementation of the PyTorch peer's workloads (`deno task bench`). */
export * from "./head_workloads.ts";
