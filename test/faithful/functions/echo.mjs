// Returns a payload of the size the event asks for, or its input unchanged.
export const handler = async (event) =>
  event.bytes === undefined ? event : { blob: "x".repeat(event.bytes) };
