/** One file of a dataset: where it lives inside the dataset folder, and how to check it. */
export interface DatasetFile {
  /** Path inside the dataset folder (POSIX separators), e.g. `stamps/animals/cat.png`. */
  path: string;
  /** Size in bytes, or null where not pinned. */
  bytes: number | null;
  /** Hex sha256, or null where the upstream file could not be checksummed when it was declared. */
  sha256: string | null;
}

/**
 * One archive the kit can download. `sha256` and `bytes` are its pins; `pinnedFrom` says where
 * they come from. An archive with `sha256: null` is downloaded only when its size is pinned and
 * every file taken from it is pinned in the dataset's manifest (the per-file sha256 are then
 * authoritative after unpacking), or with an explicit `--trust-unpinned`.
 */
export interface ArchiveSource {
  url: string;
  sha256: string | null;
  bytes: number | null;
  /** Where the pins come from (the publisher, a Debian Packages index, computed by whom). */
  pinnedFrom: string;
  format: "zip" | "tar.gz" | "tar" | "deb" | "gz";
  /** Folder inside the archive whose contents become the dataset folder ("" = the root). */
  strip: string;
  /** Sub-folder of the dataset folder to unpack into. */
  into?: string;
  /**
   * Files (relative to `strip`) to take from the archive; default: the dataset's manifest files
   * when it has a manifest, else everything.
   */
  keep?: string[];
  /** A Debian package that holds the same files (`apt-get install`), for the offline message. */
  debianPackage?: string;
}

/** How to obtain a dataset from upstream when neither the cache nor a mirror has it. */
export type UpstreamSource =
  /**
   * Each file downloaded from `baseUrl + remotePath(path)`; `mirrorOnly` files were added by
   * the mirror's maintainers (a licence text, their own README): not downloaded, and not
   * required in a fetched copy.
   */
  | {
    kind: "files";
    baseUrl: string;
    remotePaths?: Record<string, string>;
    mirrorOnly?: string[];
  }
  /** Archives downloaded whole, checked, then unpacked. */
  | { kind: "archives"; archives: ArchiveSource[] }
  /**
   * Made by a named recipe (`lib/data/recipes.ts`) from unpacked archives (and, for
   * `coco-subset`, per-file downloads from `baseUrl`); the result is checked file by file
   * against the manifest.
   */
  | {
    kind: "recipe";
    recipe: "xnli-xtreme-dev" | "coco-subset";
    archives: ArchiveSource[];
    baseUrl?: string;
    /** The upstream this was derived from, in words. */
    from: string;
  }
  /** Derived by the mirror's maintainers from another dataset; no single upstream file. */
  | { kind: "derived"; from: string; how: string }
  /**
   * An npm package pinned in package.json / package-lock.json, installed by the kit's setup into
   * `node_modules/<package>` (the dataset folder).
   */
  | { kind: "npm"; package: string; version: string };

/** A dataset, declared once: what it is, where it comes from, and its files. */
export interface DatasetDeclaration {
  /** Registry key, e.g. `tuxpaint-stamps`. */
  name: string;
  title: string;
  /** Which profile needs it. */
  profile: "mini" | "paper" | "both";
  /** Folder name inside a data mirror (e.g. `../shared/data/<mirrorDir>`), if mirrored. */
  mirrorDir: string | null;
  /** Path prefixes inside `mirrorDir` that belong to this dataset (default: the whole folder). */
  mirrorInclude?: string[];
  /** Where a user can read about it. */
  homepage: string;
  license: string;
  citation: string;
  upstream: UpstreamSource;
  /** Files, from `data/manifests/<name>.json` (mirrored datasets) or declared inline. */
  files: DatasetFile[];
  /** Total size in bytes (sum of files, or of archives where files are not pinned). */
  sizeBytes: number | null;
  /** Free text: what to do by hand when automatic download is impossible. */
  notes?: string;
}
