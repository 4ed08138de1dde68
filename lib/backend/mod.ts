export * from "./tf.ts";
export * from "./select_backend.ts";
export * from "./matmul.ts";
export * from "./openblas.ts";
export * from "./native_matmul_kernel.ts";
export * from "./wasm_identity_kernel.ts";
export * from "./read_into.ts";
