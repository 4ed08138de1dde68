/**
 * `./kit task claims [--artifact-dir DIR] [--paper-check]`: decides every qualitative claim of
 * papers K and D on a run's artifacts, prints the verdicts, and writes artifact CLAIMS (and, in
 * the paper profile, PAPER-CHECK) into the same folder. Exits non-zero only when the kit fails
 * (an unreadable or invalid artifact, an evaluator that throws), never because a claim does not
 * hold.
 */
import { kitConfig } from "../lib/config/kit_config.ts";
import { verdictCounts, writeClaimsArtifact } from "../lib/claims/write_claims_artifact.ts";
import { closeBrowser } from "../lib/artifacts/chromium_renderer.ts";
import { type CliSpec, runCli } from "../lib/util/cli.ts";

const CLI = {
  usage: "./kit task claims [options]",
  options: {
    "artifact-dir": {
      type: "string",
      value: "DIR",
      help: "the run's artifacts (default: figures/<profile>, as ./kit task reproduce writes them)",
    },
    "paper-check": {
      type: "boolean",
      help: "compare with the published numbers even outside the paper profile",
    },
  },
} as const satisfies CliSpec;

await runCli(CLI, async (values) => {
  const artifactDir = values["artifact-dir"] ?? kitConfig().artifactDir;
  const result = await writeClaimsArtifact({
    artifactDir,
    paperCheck: values["paper-check"] || undefined,
  });
  await closeBrowser();
  console.log(`claims on ${artifactDir} (${result.profile} profile)\n`);
  for (const r of result.rows) {
    console.log(`${r.id.padEnd(4)} ${r.verdict.padEnd(14)} ${r.claim}`);
    console.log(`     ${r.values}`);
  }
  const b = result.bootstrap;
  console.log(
    `\n${verdictCounts(result.rows)} (${
      100 * b.level
    }% paired bootstrap intervals, ${b.resamples} resamples, seed ${b.seed})`,
  );
  if (result.paperCheck) {
    const m = result.paperCheck.filter((r) => r.within !== null);
    console.log(
      `paper check: ${
        m.filter((r) => r.within).length
      } of ${m.length} regenerated numbers within tolerance`,
    );
  }
  console.log(
    `written: ${
      result.artifacts.flatMap((a) => a.files.filter((f) => f.endsWith(".md"))).join(", ")
    }`,
  );
  return 0;
});
