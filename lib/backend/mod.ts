export * from "./tf.ts";
export * from "./select_backend.ts";
export * from "./matmul.ts";
