/**
 * The HTTP client of every browser entry that has one: one `fetch` per call
 * (or per batch), no session.
 *
 * @module
 */

export {
  connectHttp,
  type ConnectHttpOptions,
  HttpClient,
  HttpError,
} from "../rpc/transports/http/client.ts";
