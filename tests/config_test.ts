import assert from "node:assert/strict";
import { join } from "node:path";
import { kitConfig } from "../lib/config/kit_config.ts";
import { ensureDenoKernelSpec, jupyterEnv } from "../lib/setup/kernelspec.ts";
import { KitError } from "../lib/util/kit_error.ts";

Deno.test("kitConfig() defaults to the mini profile and reads KIT_* variables", () => {
  const c = kitConfig({ KIT_DATA_MIRROR: "" });
  assert.equal(c.profile, "mini");
  assert.equal(c.smoke, false);
  assert.equal(c.dataMirror, null);
  assert.equal(c.backend, "auto");
  assert.match(c.artifactDir, /figures\/mini$/);
  const s = kitConfig({
    KIT_PROFILE: "paper",
    KIT_SMOKE: "1",
    KIT_DATA_MIRROR: "/m",
    KIT_BACKEND: "wasm",
  });
  assert.deepEqual([s.profile, s.smoke, s.dataMirror, s.backend], ["paper", true, "/m", "wasm"]);
  assert.match(s.artifactDir, /figures\/smoke\/paper$/);
});

Deno.test("kitConfig() rejects unknown values naming the variable and the choices", () => {
  assert.throws(
    () => kitConfig({ KIT_PROFILE: "full" }),
    (e: unknown) =>
      e instanceof KitError && /KIT_PROFILE=full: expected one of mini, paper/.test(e.message),
  );
  assert.throws(
    () => kitConfig({ KIT_BACKEND: "cuda" }),
    (e: unknown) => e instanceof KitError && /KIT_BACKEND=cuda/.test(e.message),
  );
  assert.throws(
    () => kitConfig({ KIT_SMOKE: "yes" }),
    (e: unknown) => e instanceof KitError && /KIT_SMOKE=yes/.test(e.message),
  );
});

Deno.test("ensureDenoKernelSpec() writes a project-local kernelspec for this Deno, idempotently", async () => {
  const cache = await Deno.makeTempDir();
  const prev = Deno.env.get("KIT_CACHE_DIR");
  Deno.env.set("KIT_CACHE_DIR", cache);
  try {
    const path = await ensureDenoKernelSpec("/opt/deno/bin/deno");
    assert.equal(path, join(cache, "jupyter", "kernels", "deno", "kernel.json"));
    const spec = JSON.parse(await Deno.readTextFile(path));
    assert.deepEqual(spec.argv, [
      "/opt/deno/bin/deno",
      "jupyter",
      "--kernel",
      "--conn",
      "{connection_file}",
    ]);
    const mtime = (await Deno.stat(path)).mtime!.getTime();
    await new Promise((r) => setTimeout(r, 20));
    await ensureDenoKernelSpec("/opt/deno/bin/deno");
    assert.equal(
      (await Deno.stat(path)).mtime!.getTime(),
      mtime,
      "unchanged spec is not rewritten",
    );
    assert.ok(jupyterEnv().JUPYTER_PATH!.startsWith(join(cache, "jupyter")));
  } finally {
    if (prev === undefined) Deno.env.delete("KIT_CACHE_DIR");
    else Deno.env.set("KIT_CACHE_DIR", prev);
    await Deno.remove(cache, { recursive: true });
  }
});
