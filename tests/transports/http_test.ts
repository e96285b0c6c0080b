import { testCases } from "../../testing/cases.ts";
import { transportSuite } from "../../testing/transport_suite.ts";
import { httpHarness } from "./_http.ts";

testCases(transportSuite(httpHarness()));
