import type { ParameterSpec } from "../encoders/parameter_set.ts";

/**
 * The parameters of K's projections and learned scale. The projections start as torch's
 * `nn.Linear` does (K's `text_dense`/`image_dense`): weight and bias uniform on ±1/√fan_in.
 */
export function kHeadSpecs(textDim: number, imageDim: number, p: number): ParameterSpec[] {
  const s = { kind: "uniform", bound: 1 / Math.sqrt(textDim) } as const;
  const si = { kind: "uniform", bound: 1 / Math.sqrt(imageDim) } as const;
  return [
    { name: "text_projection.weight", shape: [p, textDim], init: s },
    { name: "text_projection.bias", shape: [p], init: s },
    { name: "image_projection.weight", shape: [p, imageDim], init: si },
    { name: "image_projection.bias", shape: [p], init: si },
    { name: "logit_scale", shape: [], init: { kind: "ones" } },
  ];
}
