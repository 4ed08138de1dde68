/**
 * `./kit task kernel --install-user [--name NAME]` / `--uninstall`: installs (or removes) the kit's
 * Deno kernelspec in your own Jupyter data folder (`jupyter --data-dir`, usually
 * ~/.local/share/jupyter), so your own Jupyter or VS Code runs the notebooks with the project's
 * Deno. The kit never does this by itself; `./kit task notebook` needs none of it.
 */
import { installUserKernelSpec, uninstallUserKernelSpec } from "../lib/setup/user_kernelspec.ts";
import { type CliSpec, runCli, UsageError } from "../lib/util/cli.ts";

const CLI = {
  usage: "./kit task kernel --install-user [--name NAME] | --uninstall [--name NAME]",
  options: {
    "install-user": {
      type: "boolean",
      help: 'write the kernelspec "Deno (image-pivot kit)" into your Jupyter data folder',
    },
    uninstall: { type: "boolean", help: "remove it (only the one the kit wrote)" },
    name: {
      type: "string",
      value: "NAME",
      help: "kernel name (default deno, the name the notebooks ask for)",
    },
  },
} as const satisfies CliSpec;

await runCli(CLI, async (values) => {
  if (values["install-user"] === values.uninstall) {
    throw new UsageError("expected exactly one of --install-user or --uninstall");
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
