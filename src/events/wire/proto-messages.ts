import protobuf from "protobufjs";

/**
 * A .proto file's top-level messages in order (those of its package, else the root's): what the
 * Confluent wire format's message indexes count.
 */
export function topLevelMessages(root: protobuf.Root): protobuf.Type[] {
  let scope: protobuf.NamespaceBase = root;
  // A package a.b.c nests namespaces a, b, c with nothing else beside them.
  for (;;) {
    const nested = scope.nestedArray;
    if (nested.length === 1 && nested[0] instanceof protobuf.Namespace && !(nested[0] instanceof protobuf.Type) && !(nested[0] instanceof protobuf.Enum)) {
      scope = nested[0] as protobuf.Namespace;
      continue;
    }
    return nested.filter((n): n is protobuf.Type => n instanceof protobuf.Type);
  }
}
