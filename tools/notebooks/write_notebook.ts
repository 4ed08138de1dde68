/**
 * Shared tail of the notebook generators in this folder: writes the cells as
 * `notebooks/<name>.ipynb` (atomically), or to the path given as the first argument
 * (the tests regenerate every notebook into a temporary folder and compare it with the committed one).
 */
import { join } from "node:path";
import { type CellSource, notebookJson } from "../../lib/runner/notebook_json.ts";
import { atomicWriteFile } from "../../lib/util/atomic_write.ts";
import { PROJECT_ROOT } from "../../lib/util/paths.ts";

/** Writes `cells` to `Deno.args[0]` or else `notebooks/<name>.ipynb`. */
export async function writeNotebook(name: string, cells: CellSource[]): Promise<void> {
  const out = Deno.args[0] ?? join(PROJECT_ROOT, "notebooks", `${name}.ipynb`);
  await atomicWriteFile(out, notebookJson(cells));
  console.log(`wrote ${out}`);
}
