/**
 * `./kit task notebook [NN] [--profile mini|paper] [--smoke] [--data-mirror DIR] [--backend NAME]
 *  [--port P] [--token T] [--artifact-dir DIR] [--list]`: serves notebooks/ with Debian's Jupyter Notebook on 127.0.0.1, with
 * the project's Deno kernel and the options passed to the kernels as for `reproduce`; prints the
 * URL (of notebook NN when given) and runs until Ctrl-C, which stops the server and its kernels.
 * Artifacts go to `figures/<profile>-live/` (ignored by git) unless `--artifact-dir` says otherwise:
 * only `reproduce` writes the committed `figures/<profile>/`. `--list` prints the running servers.
 */
import { parseArgs } from "node:util";
import { kitConfig } from "../lib/config/kit_config.ts";
import { runningNotebookServers } from "../lib/setup/notebook_list.ts";
import {
  liveArtifactDir,
  notebookByNumber,
  startNotebookServer,
} from "../lib/setup/notebook_server.ts";
import { KitError, runMain } from "../lib/util/kit_error.ts";
import { projectRelative } from "../lib/util/paths.ts";

const HELP = `usage: ./kit task notebook [NN] [options]
  NN                     open this notebook (e.g. 02); default: the notebook list
  --profile mini|paper   which models and data (default mini)
  --smoke                tiny sizes; artifacts under figures/smoke/
  --data-mirror DIR      read-only mirror of the datasets (default ../shared/data if present)
  --backend NAME         auto|webgpu|tfjs-node-gpu|wasm|cpu (default auto)
  --port P               port on 127.0.0.1 (default: the first free one from 8888)
  --token T              access token, >= 16 characters A-Z a-z 0-9 _ - (default: random)
  --artifact-dir DIR     where the notebooks write artifacts (default figures/<profile>-live/,
                         ignored by git; figures/<profile>/ is written by ./kit task reproduce)
  --list                 print the URL (with its token) of each running notebook server, then exit
  --verbose              show every line the Jupyter server logs (default: warnings and errors)`;

await runMain(async () => {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: {
      profile: { type: "string" },
      smoke: { type: "boolean", default: false },
      "data-mirror": { type: "string" },
      backend: { type: "string" },
      port: { type: "string" },
      token: { type: "string" },
      verbose: { type: "boolean", default: false },
      "artifact-dir": { type: "string" },
      list: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (values.list) {
    const servers = await runningNotebookServers();
    for (const s of servers) console.log(s.openUrl);
    if (servers.length === 0) {
      console.error("notebook: no notebook server of this project is running");
    }
    return 0;
  }
  if (positionals.length > 1) {
    throw new KitError(`expected at most one notebook number, got ${positionals.join(" ")}`);
  }
  const env = Deno.env.toObject();
  if (values.profile) env.KIT_PROFILE = values.profile;
  if (values.backend) env.KIT_BACKEND = values.backend;
  if (values["data-mirror"] !== undefined) env.KIT_DATA_MIRROR = values["data-mirror"];
  const cfg = kitConfig(env); // validates profile and backend
  let port: number | undefined;
  if (values.port !== undefined) {
    port = Number(values.port);
    if (!/^\d+$/.test(values.port)) {
      throw new KitError(`--port ${values.port}: expected a port number from 1 to 65535`);
    }
  }
  const notebook = positionals[0] ? await notebookByNumber(positionals[0]) : undefined;
  const smoke = values.smoke || cfg.smoke;
  const artifactDir = values["artifact-dir"] ?? env.KIT_ARTIFACT_DIR ??
    liveArtifactDir(cfg.profile, smoke);

  const server = await startNotebookServer({
    profile: cfg.profile,
    smoke,
    dataMirror: cfg.dataMirror,
    backend: cfg.backend,
    artifactDir,
    port,
    token: values.token,
    onLog: (line) => {
      if (values.verbose || /^\[(W|E|C) /.test(line)) console.error(`jupyter: ${line}`);
    },
  });
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    console.error("\nnotebook: stopping the server and its kernels ...");
    server.stop().catch(() => {});
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  console.error(
    `notebook: Jupyter on 127.0.0.1:${server.port}, profile ${cfg.profile}${
      smoke ? " (smoke)" : ""
    }, backend ${cfg.backend}, data mirror ${
      cfg.dataMirror ? "yes" : "none"
    }; kernel "Deno (image-pivot kit)"; artifacts in ${projectRelative(artifactDir)}/`,
  );
  console.log(server.url(notebook));
  console.error("notebook: open the URL above in a browser; Ctrl-C stops the server");
  const code = await server.exited;
  if (stopping) {
    console.error(`notebook: stopped (server exit ${code})`);
  } else {
    throw new KitError(
      `the notebook server ended by itself (exit ${code})`,
      server.logTail().slice(-8),
    );
  }
  return 0;
});
