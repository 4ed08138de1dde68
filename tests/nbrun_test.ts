/** tools/nbrun.py's path rewriting (run with Debian's Python, as `reproduce` runs it). */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { DEBIAN_PYTHON, jupyterAvailable } from "../lib/setup/system_packages.ts";
import { PROJECT_ROOT } from "../lib/util/paths.ts";

Deno.test({
  name: "nbrun.py relativize() makes checkout, sibling and home paths relative, and nothing else",
  ignore: !jupyterAvailable(),
  fn: async () => {
    const root = PROJECT_ROOT.replace(/\/$/, "");
    const parent = dirname(root);
    const home = "/home/student";
    const cases: [string, string][] = [
      [`folder: ${root}/.cache/datasets/mini/x`, "folder: .cache/datasets/mini/x"],
      [
        `a=${root}/figures/mini/K.md, ${root}/figures/mini/K.csv`,
        "a=figures/mini/K.md, figures/mini/K.csv",
      ],
      [`cwd ${root} done`, "cwd . done"],
      [`"${root}"`, `"."`],
      [`${parent}/shared/data/tuxpaint`, "../shared/data/tuxpaint"],
      [`${home}/models/x`, "~/models/x"],
      [`${root}x/y`, `../${root.split("/").pop()}x/y`],
      [`http://host${root}/x`, `http://host${root}/x`],
      ["/usr/share/apertium/modes", "/usr/share/apertium/modes"],
    ];
    const script = `
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("nbrun", ${
      JSON.stringify(join(root, "tools", "nbrun.py"))
    })
m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
p = m.path_prefixes()
print(json.dumps([m.relativize(t, p) for t in json.loads(sys.stdin.read())]))`;
    const child = new Deno.Command(DEBIAN_PYTHON, {
      args: ["-c", script],
      env: { HOME: home },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(JSON.stringify(cases.map((c) => c[0]))));
    await w.close();
    const out = await child.output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const got: string[] = JSON.parse(new TextDecoder().decode(out.stdout));
    cases.forEach(([input, want], i) => assert.equal(got[i], want, input));
  },
});
