import assert from "node:assert/strict";
import fc from "fast-check";
import { PendingCalls } from "../rpc/pending.ts";
import { LimitError } from "../rpc/errors.ts";

Deno.test("PendingCalls settles each call once, whatever the order and however long one waits", () => {
  fc.assert(
    fc.property(
      fc.array(fc.nat(), { minLength: 1, maxLength: 3000 }),
      fc.nat({ max: 40 }),
      (order, lingering) => {
        const pending = new PendingCalls(10_000);
        // One call that waits while thousands come and go: its slot is met
        // again and again (the ring grows, then calls wait in the map).
        const old = pending.add("old", {});
        const ids: number[] = [];
        for (let i = 0; i < order.length; i++) {
          ids.push(pending.add("m", {}).id as number);
          // Settle some as they come, the others at the end.
          if (i >= lingering) {
            const at = order[i]! % ids.length;
            const [id] = ids.splice(at, 1);
            assert.notEqual(pending.settle(id!), undefined);
            assert.equal(pending.settle(id!), undefined);
          }
        }
        assert.equal(pending.size, ids.length + 1);
        for (const id of ids) assert.notEqual(pending.settle(id), undefined);
        assert.notEqual(pending.settle(old.id), undefined);
        assert.equal(pending.size, 0);
      },
    ),
    { numRuns: 50 },
  );
});

Deno.test("PendingCalls ignores ids it never gave", () => {
  const pending = new PendingCalls(8);
  const call = pending.add("m", {});
  for (const id of ["1", 1.5, 0, -1, NaN, Infinity, 2 ** 60, call.id as number + 16]) {
    assert.equal(pending.settle(id), undefined);
  }
  assert.equal(pending.size, 1);
});

Deno.test("PendingCalls rejects every call in the order they were made, and keeps its limit", async () => {
  const pending = new PendingCalls(2000);
  const old = pending.add("old", {});
  const calls = Array.from({ length: 1500 }, () => pending.add("m", {}));
  const order: number[] = [];
  const all = [old, ...calls].map((call) => call.result.catch(() => order.push(call.id as number)));
  pending.rejectAll(new Error("closed"));
  await Promise.all(all);
  assert.deepEqual(order, [old, ...calls].map((call) => call.id));
  assert.equal(pending.size, 0);
  const full = new PendingCalls(1);
  full.add("m", {});
  assert.throws(() => full.add("m", {}), LimitError);
});
