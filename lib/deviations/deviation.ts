/** Which paper a deviation belongs to. */
export type DeviationPaper = "K" | "D";

/** Artifact IDs a deviation can affect (the papers' tables and figures, README "What you get", plus the kit's own). */
export type DeviationArtifact =
  | "K-TRAIN"
  | "K-F2"
  | "K-RET"
  | "K-T1"
  | "K-T1-LANGS"
  | "K-F1"
  | "K-T2"
  | "D-T1"
  | "D-T2"
  | "D-T3"
  | "D-T4"
  | "D-T5"
  | "D-T6"
  | "D-F1"
  | "DATA-T1"
  | "MT-T1"
  | "CLAIMS";

/** Profiles a deviation applies to. */
export type DeviationProfile = "mini" | "paper";

/**
 * One remaining difference between the kit and the authors' code (K: nkrasner/cl-clip-align;
 * D: mattiadri/crosslingual-contrastive), stated as data so every notebook and the report can
 * show it next to the numbers it affects.
 */
export interface Deviation {
  /** Stable id, e.g. `k-projection-init`. */
  readonly id: string;
  readonly paper: DeviationPaper;
  /** Short topic, e.g. "projection initialisation". */
  readonly topic: string;
  /** What the authors' code does (file name where known). */
  readonly authors: string;
  /** What the kit does instead. */
  readonly kit: string;
  /** Why the kit differs. */
  readonly reason: string;
  /** Profiles in which the difference exists. */
  readonly profiles: readonly DeviationProfile[];
  /** Artifacts whose numbers it can change. */
  readonly affects: readonly DeviationArtifact[];
}
