/**
 * The `version` field of the kit's sacrebleu-style signatures. The metrics follow sacrebleu 2.x's
 * definitions and defaults; `+kit` says they were computed by the kit's own implementation
 * (checked against sacrebleu's published test values), not by sacrebleu itself.
 */
export const MT_METRICS_VERSION = "2.x+kit";

/** `nrefs` of a signature: the number of reference streams. */
export function nrefsField(streams: number): string {
  return `nrefs:${streams}`;
}
