/**
 * `./kit task plan`: what each notebook of the paper profile reads (present or missing, size,
 * source, fetch step) and what it costs on this machine — time and peak memory from per-unit
 * costs measured here at the paper's widths with random weights, times the paper's counts.
 */
export * from "./cost_model.ts";
export * from "./unit_probes.ts";
export * from "./unit_costs.ts";
export * from "./notebook_inputs.ts";
export * from "./paper_estimate.ts";
export * from "./plan_report.ts";
export * from "./k_plan_summary.ts";
