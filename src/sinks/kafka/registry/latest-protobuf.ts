/**
 * `--schema-registry-use-latest --format protobuf` for wfsim's own events: each event type's message
 * is found by name among the top-level messages of the subject's latest .proto (TopicNameStrategy:
 * the topic's file, the message's index written in the wire format; the record strategies: a file
 * per event type, whose only message may have another name), checked to hold every field wfsim writes
 * (shaped/registry-values.ts's checkProtoFits: by name, of a type that holds it), and the events
 * encoded with that message: the user's field numbers, not wfsim's.
 */
import protobuf from "protobufjs";
import { WfsimError } from "../../../errors.ts";
import type { EventShape } from "../../../events/wire/event-shapes.ts";
import { topLevelMessages } from "../../../events/wire/proto-messages.ts";
import { PROTO_PACKAGE, protoSchema } from "../../../events/wire/protobuf.ts";
import { messageIndexBytes, wireHeader } from "../../../kafka/registry/wire-format.ts";
import { checkProtoFits } from "../../shaped/registry-values.ts";
import { cannotHold, type LatestVersion } from "./latest-version.ts";
import type { ValueEncoder } from "./value-encoders.ts";

/**
 * What the checks by type leave out: a field wfsim may leave out needs presence in the target (else a
 * reader gets 0 or "" for "absent"), and a proto2 `required` field wfsim does not write cannot be.
 */
function checkPresence(ours: protobuf.Type, target: protobuf.Type, refuse: (why: string) => Error, path: string): void {
  for (const field of target.fieldsArray) {
    const at = path === "" ? field.name : `${path}.${field.name}`;
    const mine = ours.fields[field.name];
    if (mine === undefined) {
      if (field.required) throw refuse(`it requires field ${at}, which wfsim does not write`);
      continue;
    }
    if (mine.hasPresence && !field.hasPresence) throw refuse(`its field ${at} has no presence (proto3 optional), so wfsim's absent ${at} would read as its default`);
    if (mine.resolvedType instanceof protobuf.Type && field.resolvedType instanceof protobuf.Type) checkPresence(mine.resolvedType, field.resolvedType, refuse, at);
  }
}

/** The encoders of the event types a subject's latest .proto holds, one per event type asked for. */
export function protobufEncoders(version: LatestVersion): (shape: EventShape) => ValueEncoder {
  let messages: protobuf.Type[];
  try {
    messages = topLevelMessages(protobuf.parse(version.schema.schema, { keepCase: true }).root);
  } catch (error) {
    throw new WfsimError("REGISTRY_SCHEMA", `${version.where} is not a .proto file: ${error instanceof Error ? error.message : String(error)}`);
  }
  return (shape) => {
    const refuse = (why: string) => cannotHold(version, shape, why);
    let index = messages.findIndex((message) => message.name === shape.name);
    // RecordNameStrategy's subject names the message already: a file of one message is it, whatever its name.
    if (index < 0 && messages.length === 1 && version.subject.endsWith(`${PROTO_PACKAGE}.${shape.name}`)) index = 0;
    if (index < 0) throw refuse(`it has no message named ${shape.name}`);
    const target = messages[index]!;
    const ours = protobuf.parse(protoSchema([shape]), { keepCase: true }).root.lookupType(`${PROTO_PACKAGE}.${shape.name}`);
    checkProtoFits(ours, target, refuse);
    checkPresence(ours, target, refuse, "");
    // `type` is an enum: its constant's number in the target's enum (checkProtoFits saw it is there).
    const constant = shape.fields.find((field) => field.kind === "constant");
    const typeNumber = constant === undefined ? undefined : (target.fields[constant.name]!.resolvedType as protobuf.Enum).values[constant.constant!]!;
    const header = wireHeader(version.schema.id, messageIndexBytes([index]));
    return {
      encode(event) {
        const message = target.encode(typeNumber === undefined ? event : { ...event, type: typeNumber }).finish();
        const out = Buffer.allocUnsafe(header.length + message.length);
        header.copy(out, 0);
        out.set(message, header.length);
        return out;
      },
    };
  };
}
