/**
 * Shared constants of the XML-RPC codec.
 *
 * @module
 */

/** The codec's name, used in errors. */
export const NAME = "xmlrpc";
/** A bound of the integer types. */
export const INT32_MIN = -(2 ** 31);
/** A bound of the integer types. */
export const INT32_MAX = 2 ** 31 - 1;
/** A bound of the integer types. */
export const INT64_MIN = -(2n ** 63n);
/** A bound of the integer types. */
export const INT64_MAX = 2n ** 63n - 1n;
/** One element of a parsed document: its name, child elements and text. */
export interface XmlNode {
  readonly name: string;
  readonly children: XmlNode[];
  text: string;
}
