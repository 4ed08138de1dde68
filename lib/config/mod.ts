export * from "./kit_config.ts";
