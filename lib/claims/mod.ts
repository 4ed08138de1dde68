/**
 * The papers' qualitative claims as data, decided on a run's artifacts (artifact CLAIMS), and in
 * the paper profile every published number beside its regenerated one (artifact PAPER-CHECK).
 */
export * from "./artifact_store.ts";
export * from "./claim_spec.ts";
export * from "./claim_list.ts";
export * from "./evaluate_claim.ts";
export * from "./paper_check.ts";
export * from "./write_claims_artifact.ts";
export * from "./item_outcomes.ts";
export * from "./item_outcomes_file.ts";
export * from "./item_statistics.ts";
export * from "./k_item_outcomes.ts";
export * from "./d_item_outcomes.ts";
export * from "./set_statistic_replicates.ts";
