import assert from "node:assert/strict";
import { join } from "node:path";
import { PROJECT_ROOT } from "../lib/util/paths.ts";

Deno.test("./kit prints npm's reason and the retry command when npm cannot install Deno", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kit-script-test-" });
  try {
    // a copy of the script (its .cache is then inside dir) and an npm that fails like a blocked registry
    await Deno.copyFile(join(PROJECT_ROOT, "kit"), join(dir, "kit"));
    await Deno.mkdir(join(dir, "bin"));
    await Deno.writeTextFile(
      join(dir, "bin", "npm"),
      '#!/bin/sh\necho "npm ERR! code E403" >&2\necho "npm ERR! 403 Forbidden - GET https://registry.npmjs.org/deno" >&2\nexit 1\n',
    );
    await Deno.chmod(join(dir, "bin", "npm"), 0o755);
    const out = await new Deno.Command("bash", {
      args: [join(dir, "kit"), "--version"],
      env: { PATH: `${join(dir, "bin")}:/usr/bin:/bin`, HOME: dir },
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 1, err);
    assert.match(err, /npm could not install Deno/);
    assert.match(err, /403 Forbidden - GET https:\/\/registry\.npmjs\.org\/deno/, "npm's reason");
    assert.match(err, /to retry: \.\/kit --version/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
