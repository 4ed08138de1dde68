/**
 * `./kit task notebooks`: writes each notebooks/NN_*.ipynb from its percent-format source
 * notebooks/NN_*.ts (lib/runner/percent_notebook.ts reads the cells, notebookJson writes nbformat's
 * own layout), atomically. The sources are real TypeScript modules that `./kit task check`
 * type-checks, lints and format-checks; the .ipynb files are build output, committed so that Jupyter
 * opens them. `--check` writes nothing and exits 1 naming every notebook that differs from its
 * source (the tests run it); `--out DIR` writes the notebooks into DIR instead.
 */
import { join } from "node:path";
import { notebookJson } from "../lib/runner/notebook_json.ts";
import { percentNotebookCells } from "../lib/runner/percent_notebook.ts";
import { atomicWriteFile } from "../lib/util/atomic_write.ts";
import { type CliSpec, runCli } from "../lib/util/cli.ts";
import { PROJECT_ROOT } from "../lib/util/paths.ts";

/** The folder of the notebooks and their sources. */
export const NOTEBOOKS_DIR = join(PROJECT_ROOT, "notebooks");

/** The notebook sources' names without `.ts` (`00_dataset_build`, …), sorted. */
export function notebookSourceNames(dir = NOTEBOOKS_DIR): string[] {
  return [...Deno.readDirSync(dir)]
    .filter((e) => e.isFile && /^\d\d_.*\.ts$/.test(e.name))
    .map((e) => e.name.replace(/\.ts$/, ""))
    .sort();
}

/** The `.ipynb` text that the source `dir/<name>.ts` builds. */
export async function buildNotebook(name: string, dir = NOTEBOOKS_DIR): Promise<string> {
  const path = join(dir, `${name}.ts`);
  return notebookJson(percentNotebookCells(await Deno.readTextFile(path), path));
}

const CLI = {
  usage: "./kit task notebooks [--check] [--out DIR] [--notebooks DIR]",
  options: {
    check: {
      type: "boolean",
      help: "write nothing; exit 1 naming each notebooks/NN_*.ipynb that differs from its source",
    },
    out: {
      type: "string",
      value: "DIR",
      help: "write the notebooks into DIR (default: their folder)",
    },
    notebooks: {
      type: "string",
      value: "DIR",
      help: "the folder of the sources and notebooks (default notebooks/)",
    },
  },
  epilog: "Builds notebooks/NN_*.ipynb from the percent-format sources notebooks/NN_*.ts.",
} as const satisfies CliSpec;

if (import.meta.main) {
  await runCli(CLI, async (values) => {
    const dir = values.notebooks ?? NOTEBOOKS_DIR;
    const names = notebookSourceNames(dir);
    if (names.length === 0) {
      console.error(`error: no notebook sources (NN_*.ts) in ${dir}`);
      return 1;
    }
    const stale: string[] = [];
    for (const name of names) {
      const text = await buildNotebook(name, dir);
      const committed = join(dir, `${name}.ipynb`);
      if (values.check) {
        let current: string | null = null;
        try {
          current = await Deno.readTextFile(committed);
        } catch (err) {
          if (!(err instanceof Deno.errors.NotFound)) throw err;
        }
        if (current !== text) stale.push(`${name}.ipynb`);
        continue;
      }
      const out = join(values.out ?? dir, `${name}.ipynb`);
      await atomicWriteFile(out, text);
      console.log(`wrote ${out}`);
    }
    if (values.check) {
      if (stale.length > 0) {
        console.error(
          `notebooks in ${dir} that differ from their sources (run ./kit task notebooks): ` +
            stale.join(", "),
        );
        return 1;
      }
      console.log(`${names.length} notebooks match their sources`);
    }
    return 0;
  });
}
