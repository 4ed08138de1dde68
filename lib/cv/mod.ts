/**
 * Cross-validation: numpy's legacy MT19937 `RandomState` and scikit-learn-exact `KFold` folds.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { kFoldIndices } from "./mod.ts";
 * assert(kFoldIndices(2770, 5, 7).every((f) => f.test.length === 554));
 * ```
 */
export * from "./mt19937.ts";
export * from "./k_fold.ts";
