/** `./kit task notebook --list`: the running servers of this project, found in its runtime folder. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runningNotebookServers } from "../lib/setup/notebook_list.ts";
import { notebookServerAvailable, startNotebookServer } from "../lib/setup/notebook_server.ts";
import { PROJECT_ROOT } from "../lib/util/paths.ts";

Deno.test({
  name: "notebook --list prints a running server's URL with its token, and nothing once it stopped",
  ignore: !notebookServerAvailable(),
  sanitizeResources: false,
  fn: async () => {
    const server = await startNotebookServer({ smoke: true });
    let listed: string;
    try {
      const found = await runningNotebookServers();
      const mine = found.find((s) => s.port === server.port);
      assert.ok(mine, JSON.stringify(found));
      assert.equal(mine.openUrl, server.url());
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", join(PROJECT_ROOT, "tools", "notebook.ts"), "--list"],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(out.code, 0);
      listed = new TextDecoder().decode(out.stdout);
    } finally {
      await server.stop();
    }
    assert.ok(listed.split("\n").includes(server.url()), listed);
    const after = await runningNotebookServers();
    assert.ok(!after.some((s) => s.port === server.port), "a stopped server is not listed");
  },
});
