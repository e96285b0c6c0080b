// The thrift package ships no types: its protocols and transports are
// constructors, typed where parley uses them (in _protocol.ts).
declare const Constructor: new (...args: unknown[]) => unknown;
export default Constructor;
