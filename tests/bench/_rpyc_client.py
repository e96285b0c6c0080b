"""Python's own RPyC client, the baseline of rpyc_bench.ts.

usage: _rpyc_client.py PORT SECONDS MAX_CALLS attr|cached|callback
Sequential calls of the service's add(1, 2) for SECONDS (at most MAX_CALLS),
then prints {"callsPerSecond": N}. "attr" is conn.root.add(1, 2) as written
(a GETATTR and a CALL per call); "cached" takes add = conn.root.add once and
calls add(1, 2) (one CALL per call). "callback" calls call_back(f, 100), a
Python function the server calls 100 times, and counts those round trips.
"""
import json
import sys
import time

import rpyc

port, seconds, max_calls, mode = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
conn = rpyc.connect("127.0.0.1", port)
root = conn.root
add = root.add
assert add(1, 2) == 3
done = 0
start = time.perf_counter()
deadline = start + seconds
if mode == "attr":
    while done < max_calls and (done % 16 or time.perf_counter() < deadline):
        root.add(1, 2)
        done += 1
elif mode == "callback":
    call_back = root.call_back
    f = lambda i: i  # noqa: E731 - the callback the server calls
    while done < max_calls and time.perf_counter() < deadline:
        call_back(f, 100)
        done += 100
else:
    while done < max_calls and (done % 16 or time.perf_counter() < deadline):
        add(1, 2)
        done += 1
elapsed = time.perf_counter() - start
conn.close()
print(json.dumps({"callsPerSecond": done / elapsed}))
