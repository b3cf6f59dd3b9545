/**
 * Whether a listener wants a SASL login, asked once over a bare socket. A SASL listener answers a
 * client that skips the login by closing the connection, which looks like a broker going down and
 * would be retried until --kafka-timeout; asked SaslHandshake first, it names its mechanisms at once
 * (a PLAINTEXT listener answers ILLEGAL_SASL_STATE). Used only after a connection closed without an
 * answer, so a healthy start pays nothing.
 */
import { connect } from "node:net";

const SASL_HANDSHAKE = 17;
const NONE = 0;
const UNSUPPORTED_SASL_MECHANISM = 33;

/** SaslHandshake v1 (request header v1) asking for PLAIN, size-prefixed. */
function handshakeRequest(clientId: string): Buffer {
  const id = Buffer.from(clientId, "utf8");
  const mechanism = Buffer.from("PLAIN", "utf8");
  const body = Buffer.alloc(2 + 2 + 4 + 2 + id.length + 2 + mechanism.length);
  let at = body.writeInt16BE(SASL_HANDSHAKE, 0);
  at = body.writeInt16BE(1, at); // version
  at = body.writeInt32BE(1, at); // correlation id
  at = body.writeInt16BE(id.length, at);
  at += id.copy(body, at);
  at = body.writeInt16BE(mechanism.length, at);
  mechanism.copy(body, at);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length, 0);
  return Buffer.concat([size, body]);
}

/** The mechanisms of a SaslHandshake answer when it says the listener wants SASL; undefined otherwise. */
export function mechanismsOf(answer: Buffer): string[] | undefined {
  if (answer.length < 4 + 4 + 2 + 4) return undefined;
  const errorCode = answer.readInt16BE(8);
  if (errorCode !== NONE && errorCode !== UNSUPPORTED_SASL_MECHANISM) return undefined;
  const count = answer.readInt32BE(10);
  const mechanisms: string[] = [];
  let at = 14;
  for (let i = 0; i < count && at + 2 <= answer.length; i++) {
    const length = answer.readInt16BE(at);
    mechanisms.push(answer.toString("utf8", at + 2, at + 2 + length));
    at += 2 + length;
  }
  return mechanisms;
}

/**
 * The SASL mechanisms `host:port` offers when it wants a login; undefined when it does not, does not
 * answer within `timeoutMs`, or cannot be reached.
 */
export function saslMechanismsAt(host: string, port: number, clientId: string, timeoutMs: number): Promise<string[] | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let received = Buffer.alloc(0);
    const done = (result: string[] | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    socket.on("connect", () => socket.write(handshakeRequest(clientId)));
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 4 && received.length >= 4 + received.readInt32BE(0)) done(mechanismsOf(received));
    });
    socket.on("error", () => done(undefined));
    socket.on("close", () => done(undefined));
  });
}
