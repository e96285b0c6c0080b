// What a loaded schema is: the resolved model of `.thrift` files that the
// codec reads and writes values by (schema.ts builds it from the IDL, and
// its module doc gives the values' plain form).

/** A Thrift type, resolved. */
export type ThriftType =
  | { readonly kind: "bool" | "byte" | "i16" | "i32" | "i64" | "double" | "string" | "binary" }
  | { readonly kind: "enum"; readonly name: string; readonly values: ReadonlyMap<string, number> }
  | { readonly kind: "list" | "set"; readonly element: ThriftType }
  | { readonly kind: "map"; readonly key: ThriftType; readonly value: ThriftType }
  | { readonly kind: "struct"; readonly name: string; readonly resolve: () => ThriftStruct };

/** A field of a struct, union, exception or argument list. */
export interface ThriftField {
  /** The field id. */
  readonly id: number;
  /** The field name, the key of the plain object. */
  readonly name: string;
  /** The field's type. */
  readonly type: ThriftType;
  /** `required`, `optional`, or `default` (neither written). */
  readonly requiredness: "required" | "optional" | "default";
  /** The default value, in the plain form, when the IDL gives one. */
  readonly defaultValue?: unknown;
}

/** A struct, union, exception, or the arguments or result of a function. */
export interface ThriftStruct {
  /** The name (`Calculator.add_args` for a function's arguments). */
  readonly name: string;
  /** What kind of definition it is. */
  readonly kind: "struct" | "union" | "exception" | "args" | "result";
  /** The fields in declaration order. */
  readonly fields: readonly ThriftField[];
  /** The fields by id. */
  readonly byId: ReadonlyMap<number, ThriftField>;
  /** The fields by name. */
  readonly byName: ReadonlyMap<string, ThriftField>;
}

/** A function of a service. */
export interface ThriftFunction {
  /** Its name, as it travels. */
  readonly name: string;
  /** `oneway`: sent as a ONEWAY message, no reply. */
  readonly oneway: boolean;
  /** The arguments as a struct. */
  readonly args: ThriftStruct;
  /** The return type; `undefined` for `void`. */
  readonly returns: ThriftType | undefined;
  /** The declared exceptions, as fields of the result (ids 1, 2, ...). */
  readonly throws: readonly ThriftField[];
  /** The result struct: field 0 `success` (unless void), then the exceptions. */
  readonly result: ThriftStruct;
}

/** A service: its functions, its parents' included. */
export interface ThriftService {
  /** The service's name. */
  readonly name: string;
  /** Its functions by name. */
  readonly functions: ReadonlyMap<string, ThriftFunction>;
}

/** A parsed set of `.thrift` files. */
export interface ThriftSchema {
  /** The services by name (qualified `file.Service` for included files, bare for the first). */
  readonly services: ReadonlyMap<string, ThriftService>;
  /** Structs, unions and exceptions by name (the same naming). */
  readonly structs: ReadonlyMap<string, ThriftStruct>;
  /** Constants by name, in the plain form. */
  readonly constants: ReadonlyMap<string, unknown>;
  /**
   * A service by name.
   *
   * @throws {Error} when there is no such service
   */
  service(name: string): ThriftService;
}
