/**
 * Asserts that `promise` rejects with an instance of `type`, and returns the
 * error for further checks.
 *
 * @param promise what should reject
 * @param type the error class expected
 * @returns the error
 */
export async function rejection<E extends Error>(
  promise: PromiseLike<unknown>,
  type: abstract new (...args: never[]) => E,
): Promise<E> {
  try {
    const result = await promise;
    throw new Error(
      `expected a ${type.name}, got the result ${
        JSON.stringify(result, (_, v) => typeof v === "bigint" ? `${v}n` : v)
      }`,
    );
  } catch (error) {
    if (!(error instanceof type)) throw error;
    return error;
  }
}
