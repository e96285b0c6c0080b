// Which JavaScript values (the proxies of ./proxy.ts) stand for which
// netrefs, so that a proxy passed as an argument travels as its reference.

/** Proxy → its netref; weak, so a dropped proxy is not kept alive. */
export const standIns: WeakMap<object, unknown> = new WeakMap();
