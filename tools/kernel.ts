/**
 * `./kit task kernel --install-user [--name NAME]` / `--uninstall`: installs (or removes) the kit's
 * Deno kernelspec in your own Jupyter data folder (`jupyter --data-dir`, usually
 * ~/.local/share/jupyter), so your own Jupyter or VS Code runs the notebooks with the project's
 * Deno. The kit never does this by itself; `./kit task notebook` needs none of it.
 */
import { parseArgs } from "node:util";
import { installUserKernelSpec, uninstallUserKernelSpec } from "../lib/setup/user_kernelspec.ts";
import { KitError, runMain } from "../lib/util/kit_error.ts";

const HELP = `usage: ./kit task kernel --install-user [--name NAME] | --uninstall [--name NAME]
  --install-user   write the kernelspec "Deno (image-pivot kit)" into your Jupyter data folder
  --uninstall      remove it (only the one the kit wrote)
  --name NAME      kernel name (default deno, the name the notebooks ask for)`;

await runMain(async () => {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      "install-user": { type: "boolean", default: false },
      uninstall: { type: "boolean", default: false },
      name: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (values["install-user"] === values.uninstall) {
    throw new KitError("expected exactly one of --install-user or --uninstall", HELP.split("\n"));
  }
  const home = Deno.env.get("HOME");
  const tilde = (p: string) => (home && p.startsWith(`${home}/`) ? `~${p.slice(home.length)}` : p);
  if (values["install-user"]) {
    const file = await installUserKernelSpec({ name: values.name });
    console.log(`kernel: installed ${tilde(file)}`);
    console.log(
      'kernel: in Jupyter or VS Code, open a notebook under notebooks/ and pick "Deno (image-pivot kit)"',
    );
  } else {
    const dir = await uninstallUserKernelSpec({ name: values.name });
    console.log(dir ? `kernel: removed ${tilde(dir)}` : "kernel: nothing to remove");
  }
  return 0;
});
