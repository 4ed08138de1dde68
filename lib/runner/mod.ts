export * from "./run_notebooks.ts";
export * from "./notebook_json.ts";
