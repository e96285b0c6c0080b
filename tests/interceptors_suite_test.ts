/**
 * The interceptor and metadata suite over every codec × transport pair.
 * Cases that do not apply to a pair (metadata where it does not travel,
 * notifications in XML-RPC) are listed as ignored.
 */

import { PAIRS } from "./_interceptor_pairs.ts";
import { runInterceptorSuite } from "./_interceptor_suite.ts";

runInterceptorSuite(PAIRS);
