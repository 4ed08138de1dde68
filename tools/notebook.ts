/**
 * `./kit task notebook [NN] [--profile mini|paper] [--smoke] [--data-mirror DIR] [--backend NAME]
 *  [--port P] [--token T] [--artifact-dir DIR] [--list]`: serves notebooks/ with Debian's Jupyter Notebook on 127.0.0.1, with
 * the project's Deno kernel and the options passed to the kernels as for `reproduce`; prints the
 * URL (of notebook NN when given) and runs until Ctrl-C, which stops the server and its kernels.
 * Artifacts go to `figures/<profile>-live/` (ignored by git) unless `--artifact-dir` says otherwise:
 * only `reproduce` writes the committed `figures/<profile>/`. `--list` prints the running servers.
 */
import { kitConfig } from "../lib/config/kit_config.ts";
import { runningNotebookServers } from "../lib/setup/notebook_list.ts";
import {
  liveArtifactDir,
  notebookByNumber,
  NotebookServerInterrupted,
  startNotebookServer,
} from "../lib/setup/notebook_server.ts";
import { KitError } from "../lib/util/kit_error.ts";
import { type CliSpec, runCli, UsageError } from "../lib/util/cli.ts";
import { preflightMiniData } from "../lib/data/preflight.ts";
import { projectRelative } from "../lib/util/paths.ts";

const CLI = {
  usage: "./kit task notebook [NN] [options]",
  positionals: ["NN  open this notebook (e.g. 02); default: the notebook list"],
  options: {
    profile: { type: "string", value: "mini|paper", help: "which models and data (default mini)" },
    smoke: { type: "boolean", help: "tiny sizes; artifacts under figures/smoke/" },
    "data-mirror": {
      type: "string",
      value: "DIR",
      help: "read-only mirror of the datasets (default ../shared/data if present)",
    },
    backend: {
      type: "string",
      value: "NAME",
      help: "auto|webgpu|tfjs-node-gpu|wasm|cpu (default auto)",
    },
    port: {
      type: "integer",
      value: "P",
      min: 1,
      max: 65535,
      help: "port on 127.0.0.1 (default: the first free one from 8888)",
    },
    token: {
      type: "string",
      value: "T",
      help: "access token, >= 16 characters A-Z a-z 0-9 _ - (default: random)",
    },
    "artifact-dir": {
      type: "string",
      value: "DIR",
      help:
        "where the notebooks write artifacts (default figures/<profile>-live/, ignored by git; figures/<profile>/ is written by ./kit task reproduce)",
    },
    list: {
      type: "boolean",
      help: "print the URL (with its token) of each running notebook server, then exit",
    },
    verbose: {
      type: "boolean",
      help: "show every line the Jupyter server logs (default: warnings and errors)",
    },
  },
} as const satisfies CliSpec;

await runCli(CLI, async (values, positionals) => {
  if (values.list) {
    const servers = await runningNotebookServers();
    for (const s of servers) console.log(s.openUrl);
    if (servers.length === 0) {
      console.error("notebook: no notebook server of this project is running");
    }
    return 0;
  }
  if (positionals.length > 1) {
    throw new UsageError(`expected at most one notebook number, got ${positionals.join(" ")}`);
  }
  const env = Deno.env.toObject();
  if (values.profile) env.KIT_PROFILE = values.profile;
  if (values.backend) env.KIT_BACKEND = values.backend;
  if (values["data-mirror"] !== undefined) env.KIT_DATA_MIRROR = values["data-mirror"];
  const cfg = kitConfig(env); // validates profile and backend
  const port = values.port;
  const notebook = positionals[0] ? await notebookByNumber(positionals[0]) : undefined;
  const smoke = values.smoke || cfg.smoke;
  const artifactDir = values["artifact-dir"] ?? env.KIT_ARTIFACT_DIR ??
    liveArtifactDir(cfg.profile, smoke);
  await preflightMiniData({ mirror: cfg.dataMirror }); // fetches missing mini data, or one message

  // Signals are handled from here on, also while the server starts (SIGHUP: the terminal closed).
  const interrupt = new AbortController();
  let stopping = false;
  const started: { stop?: () => void } = {};
  const stop = () => {
    if (stopping) return;
    stopping = true;
    console.error("\nnotebook: stopping the server and its kernels ...");
    interrupt.abort();
    started.stop?.();
  };
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) Deno.addSignalListener(sig, stop);
  let server;
  try {
    server = await startNotebookServer({
      profile: cfg.profile,
      smoke,
      dataMirror: cfg.dataMirror,
      backend: cfg.backend,
      artifactDir,
      port,
      token: values.token,
      signal: interrupt.signal,
      onLog: (line) => {
        if (values.verbose || /^\[(W|E|C) /.test(line)) console.error(`jupyter: ${line}`);
      },
    });
  } catch (err) {
    if (err instanceof NotebookServerInterrupted) {
      console.error("notebook: stopped before the server was ready");
      return 130;
    }
    throw err;
  }
  const running = server;
  started.stop = () => running.stop().catch(() => {});
  if (stopping) started.stop(); // a signal came as the server became ready
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
