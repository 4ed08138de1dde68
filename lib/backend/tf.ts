/**
 * The one TF.js import of the kit: every module takes `tf` from here so that a single copy of
 * the library (and its backend registry) is in use.
 */
import * as tf from "@tensorflow/tfjs";
export { tf };
export type Tensor = tf.Tensor;
export type Tensor1D = tf.Tensor1D;
export type Tensor2D = tf.Tensor2D;
export type Scalar = tf.Scalar;
export type Variable = tf.Variable;
